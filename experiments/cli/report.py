"""`einspace report RUN`: write reports/RUN/index.html and index.md from a finished (or partial) run."""
from __future__ import annotations

import click

from experiments.report import build_report


@click.command("report")
@click.argument("run")
@click.option("--runs-dir", type=click.Path(file_okay=False), default="runs", show_default=True)
@click.option("--reports-dir", type=click.Path(file_okay=False), default="reports", show_default=True)
def report(run, runs_dir, reports_dir) -> None:
    """Pareto table, figures, experiment file and versions of RUN as HTML and Markdown."""
    path = build_report(run, runs_dir, reports_dir)
    click.echo(f"report: {path} (and {path.with_name('index.md')})")

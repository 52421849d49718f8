"""`einspace sweep FILE.yaml`: run or resume a design-space experiment."""
from __future__ import annotations

import os
from pathlib import Path

import click

from experiments.engines import ENGINES
from experiments.reproductions import summarize
from experiments.runner import run_sweep
from experiments.schema import load
from experiments.store import RunStore
from workloads.errors import SpecError


MAX_FORCED_JOBS = 256


def check_jobs(jobs: int, forced: bool, engine: str) -> None:
    """Local workers are bounded by the cores (a worker per core is the useful most), or by
    MAX_FORCED_JOBS with --force-jobs; a dask/ray cluster sizes itself."""
    cores = os.cpu_count() or 1
    if engine == "local" and jobs > cores and not forced:
        raise SpecError(f"--jobs {jobs}: more local workers than this machine's {cores} cores; "
                        f"allowed: 1..{cores}, or --force-jobs for up to {MAX_FORCED_JOBS}")
    if jobs > MAX_FORCED_JOBS:
        raise SpecError(f"--jobs {jobs}: at most {MAX_FORCED_JOBS}")


@click.command("sweep")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True, help="parallel workers")
@click.option("--force-jobs", is_flag=True, help=f"allow --jobs above the core count (up to {MAX_FORCED_JOBS})")
@click.option("--engine", type=click.Choice(list(ENGINES)), default="local", show_default=True,
              help="local process pool, dask.distributed or ray (the last two: pip install -e '.[dist]')")
@click.option("--address", default=None, help="scheduler address of an existing dask/ray cluster")
@click.option("--resume", "resume", default=None, metavar="RUN", help="continue RUN; finished points are kept")
@click.option("--run", "run", default=None, metavar="NAME", help="name of a new run (default: FILE stem + time)")
@click.option("--runs-dir", type=click.Path(file_okay=False), default="runs", show_default=True)
@click.option("--chunk-size", type=click.IntRange(min=1), default=None, help="points per task (default: automatic)")
@click.option("--quiet", is_flag=True, help="no progress bar, and the dask/ray engines' logging below ERROR off")
@click.option("--report", "write_report", is_flag=True,
              help="write the report when the sweep ends; its path is the last line printed")
@click.option("--reports-dir", type=click.Path(file_okay=False), default="reports", show_default=True)
def sweep(file, jobs, force_jobs, engine, address, resume, run, runs_dir, chunk_size, quiet, write_report, reports_dir) -> None:
    """Evaluate every design point of FILE (grid, random or NSGA-II search) into runs/RUN/."""
    check_jobs(jobs, force_jobs, engine)
    report_path = lambda name: Path(reports_dir) / name / "index.html"  # noqa: E731

    def announce(name: str) -> None:
        how = "" if write_report else f" (einspace report {name})"
        click.echo(f"run {name}: {Path(runs_dir) / name}; report -> {report_path(name)}{how}")

    info = run_sweep(file, jobs=jobs, engine=engine, address=address, resume=resume, run=run, runs_dir=runs_dir,
                     progress=not quiet, chunk_size=chunk_size, announce=announce, quiet=quiet)
    click.echo(f"run {info.run}: {info.computed} points computed, {info.skipped} reused, "
               f"{info.wall_s:.2f} s -> {info.root}")
    reproduce = load(file)[0].reproduce
    if reproduce is not None:
        figures = summarize(reproduce, RunStore(info.root).points(), info.root)
        click.echo(f"reproduction {reproduce}: {Path(info.root) / 'reproduction'}")
        for key, value in figures.items():
            click.echo(f"  {key:<40} {value:.4g}" if isinstance(value, float) else f"  {key:<40} {value}")
    if write_report:
        from experiments.report import build_report

        path = build_report(info.run, runs_dir, reports_dir)
        click.echo(str(path))

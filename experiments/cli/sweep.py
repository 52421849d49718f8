"""`einspace sweep FILE.yaml`: run or resume a design-space experiment."""
from __future__ import annotations

import click

from experiments.engines import ENGINES
from experiments.runner import run_sweep


@click.command("sweep")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=1, show_default=True, help="parallel workers")
@click.option("--engine", type=click.Choice(list(ENGINES)), default="local", show_default=True,
              help="local process pool, dask.distributed or ray (the last two: pip install -e '.[dist]')")
@click.option("--address", default=None, help="scheduler address of an existing dask/ray cluster")
@click.option("--resume", "resume", default=None, metavar="RUN", help="continue RUN; finished points are kept")
@click.option("--run", "run", default=None, metavar="NAME", help="name of a new run (default: FILE stem + time)")
@click.option("--runs-dir", type=click.Path(file_okay=False), default="runs", show_default=True)
@click.option("--chunk-size", type=click.IntRange(min=1), default=None, help="points per task (default: automatic)")
@click.option("--quiet", is_flag=True, help="no progress bar")
def sweep(file, jobs, engine, address, resume, run, runs_dir, chunk_size, quiet) -> None:
    """Evaluate every design point of FILE (grid, random or NSGA-II search) into runs/RUN/."""
    info = run_sweep(file, jobs=jobs, engine=engine, address=address, resume=resume, run=run, runs_dir=runs_dir,
                     progress=not quiet, chunk_size=chunk_size)
    click.echo(f"run {info.run}: {info.computed} points computed, {info.skipped} reused, "
               f"{info.wall_s:.2f} s -> {info.root}")

"""Run an experiment: expand or search its design points, evaluate them on an engine, store each
finished point atomically, resume after any interruption.

Determinism: point ids hash the point; grid order is the file's order, random designs come from
`numpy.random.default_rng(seed)`, NSGA-II from pymoo seeded with `seed`; evaluation is pure. So
the same file and seed give the same points table, and a resumed run equals an uninterrupted one.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from workloads.errors import SpecError

from . import schema
from .engines import check_engine, make_engine
from .families import cascade_of, get_family
from .paths import inside, slugify
from .space import Point, all_points
from .store import RunStore, new_manifest
from .worker import evaluate_and_store, evaluate_chunk


@dataclass(frozen=True)
class RunInfo:
    run: str
    root: Path
    planned: int
    computed: int
    skipped: int
    wall_s: float


class _Progress:
    """A rich progress bar on stderr: points done / total, rate, elapsed, ETA."""

    def __init__(self, total: int, enabled: bool):
        self.enabled = enabled
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        self._t0 = time.perf_counter()
        self.bar = Progress(TextColumn("[bold]sweep"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("ETA"),
                            TimeRemainingColumn(), console=Console(stderr=True), transient=False)
        self.task = self.bar.add_task("sweep", total=total, rate="")
        self.bar.start()
        self._done = 0

    def advance(self, n: int, total: int | None = None) -> None:
        if not self.enabled:
            return
        self._done += n
        rate = self._done / max(time.perf_counter() - self._t0, 1e-9)
        self.bar.update(self.task, advance=n, total=total, rate=f"{rate:,.1f} pt/s")

    def close(self):
        if self.enabled:
            self.bar.stop()


def _check_points(exp, points: list[Point], source: str) -> None:
    """Ask each family with a `check` whether it can evaluate its points (one line, before any
    worker starts)."""
    prefix = {a.family: p for p, a in reversed(exp.arches())}
    for point in points:
        check = get_family(point.family).check
        if check is None:
            continue
        try:
            check(point.workload, point.params)
        except SpecError as err:
            w = point.workload
            raise SpecError(f"{source}: {prefix[point.family]}family: {err} "
                            f"(workload {w['model']} {w['phase']} seq_len={w['seq_len']})") from None


def _check_workloads(exp) -> None:
    """Lower every workload once up front so an impossible one (e.g. seq_len past the model's
    positions) fails as one line before any worker starts."""
    for w in exp.workloads.combos():
        cascade_of(w)


class Evaluator:
    """Evaluates batches of points through an engine, reusing what the store already has."""

    def __init__(self, store: RunStore, engine, progress: _Progress, chunk_size: int | None, jobs: int):
        self.store, self.engine, self.progress = store, engine, progress
        self.chunk_size, self.jobs = chunk_size, jobs
        self.done = store.done_ids()
        self._metrics: dict[str, dict] = {}
        self.computed = 0
        self.skipped = 0

    def _chunks(self, todo: list[dict]) -> list[list[dict]]:
        size = self.chunk_size or max(1, min(32, len(todo) // (self.jobs * 4) or 1))
        return [todo[i:i + size] for i in range(0, len(todo), size)]

    def run(self, points: list[Point]) -> dict[str, dict]:
        """Evaluate `points`; return point id -> metrics for all of them."""
        todo, seen = [], set()
        for p in points:
            pid = p.id
            if pid in self.done or pid in seen:
                continue
            seen.add(pid)
            todo.append(p.as_dict())
        already = len({p.id for p in points}) - len(todo)
        self.skipped += already
        self.progress.advance(already)
        if self.engine.shares_filesystem:
            work = functools.partial(evaluate_and_store, run_root=str(self.store.root))
        else:
            work = evaluate_chunk
        for results in self.engine.map_unordered(work, self._chunks(todo)):
            for point, pid, metrics, *rows in results:
                if rows:
                    self.store.write(point, pid, metrics, rows[0])
                self.done.add(pid)
                self._metrics[pid] = metrics
                self.computed += 1
            self.progress.advance(len(results))
        return {p.id: self._metrics.get(p.id) or self.store.read_meta(p.id)["metrics"] for p in points}


def _run_name(path: Path, exp) -> str:
    stem = exp.name or slugify(path.stem)
    return f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}"


def run_sweep(path: str | Path, *, jobs: int = 1, engine: str = "local", address: str | None = None,
              resume: str | None = None, run: str | None = None, runs_dir: str | Path = "runs",
              progress: bool = True, chunk_size: int | None = None, announce=None, quiet: bool = False) -> RunInfo:
    """Run (or resume) the experiment in `path`; return what was done. `announce(run)` is called
    once the run's name is fixed and the file validated, before any point is evaluated. `quiet`
    silences the engine's own logging (dask, ray) as well as the progress bar."""
    t0 = time.perf_counter()
    check_engine(engine, jobs, address)
    path = Path(path)
    exp, text = schema.load(path)
    digest = schema.text_hash(text)
    runs_dir = Path(runs_dir)
    if resume and run and resume != run:
        raise SpecError("give either --resume RUN or --run NAME, not both")
    name = resume or run or _run_name(path, exp)
    store = RunStore(inside(runs_dir, name, "--resume" if resume else "--run"))
    if not resume and store.exists():
        raise SpecError(f"run {name!r} already exists in {runs_dir}; use --resume {name} or another --run")
    with store.lock():
        return _run_locked(path, exp, text, digest, store, resume, engine, jobs, address, progress and not quiet,
                           chunk_size, announce, t0, quiet)


def _run_locked(path, exp, text, digest, store, resume, engine, jobs, address, progress, chunk_size, announce,
                t0, quiet=False) -> RunInfo:
    """The body of `run_sweep`, with the run folder locked."""
    name = store.name
    if resume:
        manifest = store.manifest()
        if manifest["experiment_sha256"] != digest:
            raise SpecError(f"{path}: differs from the file run {name!r} started with "
                            f"(sha256 {manifest['experiment_sha256'][:12]}…, now {digest[:12]}…); start a new run")
        store.clean_temporaries()
    else:
        if store.exists():
            raise SpecError(f"run {name!r} already exists in {store.root.parent}; use --resume {name} or another --run")
        manifest = new_manifest(name, str(path), digest, ",".join(exp.families()), exp.search.model_dump())
    _check_workloads(exp)
    points = all_points(exp) if exp.search.method in ("grid", "random") else None
    if points is not None:
        _check_points(exp, points, str(path))
    if not resume:
        store.create(manifest, text)
    if announce is not None:
        announce(name)

    n_workloads = len(exp.workloads.combos())
    planned = len(points) if points is not None else exp.search.budget * n_workloads
    bar = _Progress(planned, progress)
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    try:
        with make_engine(engine, jobs, address, quiet=quiet) as eng:
            ev = Evaluator(store, eng, bar, chunk_size, jobs)
            if points is not None:
                ev.run(points)
            else:
                from .search import nsga2

                nsga2(exp, ev, bar)
    finally:
        bar.close()
    wall = time.perf_counter() - t0
    manifest = store.manifest()
    manifest["sessions"].append({"started": started, "wall_s": round(wall, 3), "engine": engine, "jobs": jobs,
                                 "computed": ev.computed, "reused": ev.skipped})
    store.write_manifest(manifest)
    return RunInfo(name, store.root, planned, ev.computed, ev.skipped, wall)


def load_results(run: str, runs_dir: str | Path = "runs") -> tuple[pd.DataFrame, schema.Experiment, RunStore]:
    """The points table of a run with `feasible` and `pareto` columns derived from its experiment."""
    from .pareto import annotate

    store = RunStore(inside(runs_dir, run, "run"))
    manifest = store.manifest()
    exp = schema.parse(yaml.safe_load(store.experiment_text()), manifest["experiment_file"])
    return annotate(store.points(), exp), exp, store

"""What runs on a worker (a local process, a dask worker or a ray task): evaluate points."""
from __future__ import annotations

from .families import get_family
from .store import RunStore
from .space import Point


def evaluate_chunk(points: list[dict]) -> list[tuple[dict, str, dict, object]]:
    """Evaluate each point; return (point, id, metrics, per-Einsum rows) in input order."""
    out = []
    for d in points:
        point = Point.from_dict(d)
        ev = get_family(point.family).evaluate(point)
        out.append((d, point.id, ev.metrics, ev.rows))
    return out


def evaluate_and_store(points: list[dict], run_root: str) -> list[tuple[dict, str, dict]]:
    """Evaluate each point and write its per-Einsum rows into the run's store here, on the worker
    (atomic per point); return only (point, id, metrics), so the parent neither unpickles tables
    nor writes files. For engines whose workers share the run folder's filesystem."""
    store = RunStore(run_root)
    out = []
    for point, pid, metrics, rows in evaluate_chunk(points):
        store.write(point, pid, metrics, rows)
        out.append((point, pid, metrics))
    return out

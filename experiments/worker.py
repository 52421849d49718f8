"""What runs on a worker (a local process, a dask worker or a ray task): evaluate points."""
from __future__ import annotations

from .families import get_family
from .space import Point


def evaluate_chunk(points: list[dict]) -> list[tuple[dict, str, dict, object]]:
    """Evaluate each point; return (point, id, metrics, per-Einsum rows) in input order."""
    out = []
    for d in points:
        point = Point.from_dict(d)
        ev = get_family(point.family).evaluate(point)
        out.append((d, point.id, ev.metrics, ev.rows))
    return out

"""Design points: a workload crossed with one set of design parameters, and how a search picks them.

A point's id is the first 16 hex digits of the SHA-256 of its canonical JSON (family, mapping,
workload, parameters), so the same point gets the same id in every run, on every machine.
"""
from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field

import numpy as np

from .families import get_family
from .schema import Architecture, Experiment


def _canonical(value):
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, np.generic):
        return _canonical(value.item())
    return value


@dataclass(frozen=True)
class Point:
    family: str
    mapping: str
    workload: dict = field(hash=False)
    params: dict = field(hash=False)

    @property
    def id(self) -> str:
        return point_id(self.family, self.mapping, self.workload, self.params)

    def as_dict(self) -> dict:
        return {"family": self.family, "mapping": self.mapping, "workload": self.workload, "params": self.params}

    @classmethod
    def from_dict(cls, d: dict) -> "Point":
        return cls(d["family"], d["mapping"], d["workload"], d["params"])


def point_id(family: str, mapping: str, workload: dict, params: dict) -> str:
    blob = json.dumps({"family": family, "mapping": mapping,
                       "workload": {k: _canonical(v) for k, v in workload.items()},
                       "params": {k: _canonical(v) for k, v in params.items()}},
                      sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def mapping_of(exp: Experiment | Architecture) -> str:
    return exp.mapping or get_family(exp.family).default_mapping


def design_points(exp: Experiment | Architecture, designs: list[dict], workloads: list[dict] | None = None
                  ) -> list[Point]:
    """Every workload of the experiment crossed with each design (design-major order); only the
    workloads whose phase the family models."""
    mapping = mapping_of(exp)
    phases = get_family(exp.family).phases
    workloads = [w for w in (exp.workloads.combos() if workloads is None else workloads) if w["phase"] in phases]
    return [Point(exp.family, mapping, w, {**exp.fixed, **d}) for d in designs for w in workloads]


def all_points(exp: Experiment) -> list[Point]:
    """The points of a grid or random search, architecture by architecture (file order)."""
    pick = grid_designs if exp.search.method == "grid" else lambda a: random_designs(a, exp.search)
    workloads = exp.workloads.combos()
    return [p for _, arch in exp.arches() for p in design_points(arch, pick(arch), workloads)]


def grid_designs(exp: Experiment | Architecture) -> list[dict]:
    axes = exp.axes()
    keys = list(axes)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(axes[k] for k in keys))]


def random_designs(exp: Experiment | Architecture, search=None) -> list[dict]:
    """`budget` distinct designs drawn uniformly from the grid with `numpy.random.default_rng(seed)`."""
    search = search or exp.search
    axes = exp.axes()
    keys = list(axes)
    sizes = [len(axes[k]) for k in keys]
    total = int(np.prod(sizes, dtype=object))
    rng = np.random.default_rng(search.seed)
    n = min(search.budget, total)
    if total <= 2**62:
        flat = rng.choice(total, size=n, replace=False)
    else:
        seen, flat = set(), []
        while len(flat) < n:
            idx = tuple(int(rng.integers(s)) for s in sizes)
            if idx not in seen:
                seen.add(idx)
                flat.append(idx)
        return [{k: axes[k][i] for k, i in zip(keys, idx)} for idx in flat]
    designs = []
    for f in flat:
        idx, rest = [], int(f)
        for s in reversed(sizes):
            idx.append(rest % s)
            rest //= s
        designs.append({k: axes[k][i] for k, i in zip(keys, reversed(idx))})
    return designs

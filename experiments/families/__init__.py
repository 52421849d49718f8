"""Architecture families a sweep can evaluate.

A family is one module exposing `FAMILY`, a `Family`: a pydantic model of its design parameters
(every field defaulted, `extra="forbid"`), the metric names it reports, its mapping strategies and
the three functions of the contract (`sim.contract`):

    arch(params, workload)              -> the architecture spec of the design point
    map(cascade, arch, strategy, mode)  -> Mapping     (mappers/<family>)
    simulate(mapping, arch)             -> Result      (sim/<family>)

`Family.result(point)` composes them on the point's lowered cascade; `Family.evaluate(point)`
turns the Result into an `Evaluation` (its totals and its per-Einsum rows) for the sweep store.
The CLI (`einspace run`), the sweep and every paper reproduction go through `result`. Adding a
family is one entry in `_FAMILIES` (name -> module); nothing else changes.

A family also states which phases it models (`phases`; a mixed experiment crosses it only with
those workloads), whether it is cycle-level or analytical (`fidelity`, shown in reports) and may
offer `check(workload, params)`, which raises `SpecError` for a point it cannot evaluate (run
before any worker starts).
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable

import pandas as pd
from pydantic import BaseModel

from sim.contract import Mapping, Result
from workloads import Dtypes, lower
from workloads.errors import SpecError

_FAMILIES: dict[str, str] = {
    "roofline": "experiments.families.roofline",
    "pim": "experiments.families.pim",
    "bitserial": "experiments.families.bitserial",
    "attention": "experiments.families.attention",
    "system": "experiments.families.system",
}


@dataclass(frozen=True)
class Evaluation:
    """What a family returns for one design point."""

    metrics: dict[str, float]
    rows: pd.DataFrame = field(repr=False)


@dataclass(frozen=True)
class Family:
    name: str
    params: type[BaseModel]
    metrics: tuple[str, ...]
    arch: Callable[[BaseModel, dict], Any]
    map: Callable[..., Mapping]
    simulate: Callable[[Mapping, Any], Result]
    mappings: tuple[str, ...] = ("unfused",)
    description: str = ""
    phases: tuple[str, ...] = ("prefill", "decode")
    fidelity: str = ""
    check: Callable[[dict, dict], None] | None = None

    @property
    def default_mapping(self) -> str:
        return self.mappings[0]

    def result(self, point) -> Result:
        """Lower the point's workload, build its architecture, map, simulate."""
        params = self.params(**point.params)
        if self.check is not None:
            self.check(point.workload, point.params)
        spec = self.arch(params, point.workload)
        mapping = self.map(cascade_of(point.workload), spec, point.mapping or self.default_mapping,
                           getattr(params, "mode", "cycle"))
        return self.simulate(mapping, spec)

    def evaluate(self, point) -> Evaluation:
        """The point's totals (metrics) and per-Einsum rows, as the sweep stores them."""
        result = self.result(point)
        return Evaluation(metrics=result.totals(), rows=result.rows)


def names() -> tuple[str, ...]:
    return tuple(_FAMILIES)


def get_family(name: str) -> Family:
    try:
        module = _FAMILIES[name]
    except KeyError:
        raise SpecError(f"unknown architecture family {name!r}; allowed: {', '.join(_FAMILIES)}") from None
    return importlib.import_module(module).FAMILY


@lru_cache(maxsize=64)
def _cascade(workload_key: tuple):
    w = dict(workload_key)
    return lower(w["model"], w["phase"], batch=w["batch"], seq_len=w["seq_len"], kv_len=w.get("kv_len"),
                 attention=w["attention"], dtypes=Dtypes(w["weight_dtype"], w["activation_dtype"], w["kv_dtype"]),
                 layers=w.get("layers"), block=w["block"], lm_head=w["lm_head"])


def cascade_of(workload: dict):
    """The lowered cascade of a sweep workload (the arguments of `workloads.lower`), cached per process."""
    return _cascade(tuple(sorted(workload.items())))

"""Architecture families a sweep can evaluate.

A family is one module exposing `FAMILY`, a `Family`: a pydantic model of its design parameters
(every field defaulted, `extra="forbid"`), the metric names it reports, its mapping strategies and
`evaluate(point) -> Evaluation` (design-level metrics plus a tidy per-Einsum table). Adding a
family is one entry in `_FAMILIES` (name -> module); nothing else changes.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable

import pandas as pd
from pydantic import BaseModel

from workloads.errors import SpecError

_FAMILIES: dict[str, str] = {
    "roofline": "experiments.families.roofline",
    "pim": "experiments.families.pim",
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
    evaluate: Callable[..., Evaluation]
    metrics: tuple[str, ...]
    mappings: tuple[str, ...] = ("unfused",)
    description: str = ""

    @property
    def default_mapping(self) -> str:
        return self.mappings[0]


def names() -> tuple[str, ...]:
    return tuple(_FAMILIES)


def get_family(name: str) -> Family:
    try:
        module = _FAMILIES[name]
    except KeyError:
        raise SpecError(f"unknown architecture family {name!r}; allowed: {', '.join(_FAMILIES)}") from None
    return importlib.import_module(module).FAMILY

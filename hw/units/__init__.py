"""Registry of the RTL units: name -> module defining `UNIT`.

Adding a unit = one module here with a `UNIT = UnitDef(...)` plus one line in `REGISTRY`.
"""
from __future__ import annotations

import importlib

from hw.units.base import ParamSpec, UnitDef, parse_param_args
from workloads.errors import SpecError

REGISTRY: dict[str, str] = {
    "bank_mac": "hw.units.bank_mac",
    "bitserial_pe": "hw.units.bitserial_pe",
    "dequant": "hw.units.dequant",
    "online_softmax": "hw.units.online_softmax",
    "term_decoder": "hw.units.term_decoder",
}

ALIASES: dict[str, str] = {"pe": "bitserial_pe"}


def unit_names() -> list[str]:
    return sorted(REGISTRY)


def get_unit(name: str) -> UnitDef:
    """The `UnitDef` of a registered unit (or an alias of one); an unknown name is a SpecError."""
    name = ALIASES.get(name, name)
    if name not in REGISTRY:
        raise SpecError(f"unknown RTL unit {name!r}; known: {', '.join(unit_names())}")
    return importlib.import_module(REGISTRY[name]).UNIT


__all__ = ["ParamSpec", "UnitDef", "get_unit", "parse_param_args", "unit_names", "ALIASES", "REGISTRY"]

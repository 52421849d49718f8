"""What the flow, the co-simulator and the CLI need to know about one RTL unit.

A unit is one module in `hw/units/` that defines `UNIT = UnitDef(...)` and one entry in
`hw.units.REGISTRY`; nothing else changes when a unit is added.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from amaranth.lib import wiring

from workloads.errors import SpecError


@dataclass(frozen=True)
class ParamSpec:
    """An integer elaboration parameter with its allowed closed range."""

    name: str
    default: int
    low: int
    high: int
    help: str
    power_of_two: bool = False

    def check(self, value: int) -> int:
        if not self.low <= value <= self.high or (self.power_of_two and value & (value - 1)):
            kind = "a power of two " if self.power_of_two else ""
            raise SpecError(f"parameter {self.name}={value} must be {kind}in {self.low}..{self.high}")
        return value


@dataclass(frozen=True)
class UnitDef:
    """An RTL unit, its reference model and its streaming test interface.

    `encode(params, entry)` gives the values of `inputs` for one cycle (entry `None` = bubble);
    when the port named `out_valid` is high after an edge, the values of `outputs` form one
    result. `stimulus(params, n, rng)` returns n random entries followed by the unit's edge cases.
    `sweep` lists the parameter sets of the synthesis table; `check` returns a message for an
    invalid combination of parameters.
    """

    name: str
    summary: str
    params: tuple[ParamSpec, ...]
    build: Callable[[Mapping[str, int]], wiring.Component]
    model: Callable[[Mapping[str, int]], Any]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    out_valid: str
    encode: Callable[[Mapping[str, int], Any], tuple[int, ...]]
    stimulus: Callable[[Mapping[str, int], int, random.Random], list[Any]]
    width_param: str
    sweep: tuple[Mapping[str, int], ...]
    check: Callable[[Mapping[str, int]], str | None] | None = None

    def resolve(self, overrides: Mapping[str, str | int] | None = None) -> dict[str, int]:
        """Defaults updated by `overrides` (strings from the CLI are parsed), validated."""
        known = {p.name: p for p in self.params}
        values = {p.name: p.default for p in self.params}
        for key, raw in (overrides or {}).items():
            if key not in known:
                raise SpecError(f"unit {self.name} has no parameter {key!r}; known: {', '.join(known)}")
            try:
                values[key] = int(raw)
            except ValueError:
                raise SpecError(f"parameter {key}={raw!r} is not an integer") from None
        for key, spec in known.items():
            spec.check(values[key])
        problem = self.check(values) if self.check is not None else None
        if problem:
            raise SpecError(f"unit {self.name}: {problem}")
        return values


def parse_param_args(pairs: Sequence[str]) -> dict[str, str]:
    """`["lanes=8", ...]` -> `{"lanes": "8"}`; a pair without '=' is a SpecError."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SpecError(f"parameter {pair!r} must look like name=value")
        out[key.strip()] = value.strip()
    return out

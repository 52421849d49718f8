"""Per-unit costs: each unit's family maps and simulates the whole cascade on the unit's design.

For a unit of family F with parameters p, on a workload w: `F.check(w, p)` (a refusal, e.g.
PIM-GPT on a prefill, makes the unit unable to run any Einsum of that cascade), then
`F.result(Point(F, m, w, p))` with m the unit's `mapping` (one of F's mappings, e.g. the roofline
family's `search`) or F's default mapping — the very path `einspace run` takes, so a one-unit
system equals the standalone family. Cached per (unit, workload) in the process.
"""
from __future__ import annotations

from functools import lru_cache

from pydantic import ValidationError

from experiments.families import get_family
from experiments.space import Point
from sim.system.costs import UnitCosts
from sim.system.spec import SystemSpec, UnitSpec
from workloads.errors import SpecError


def check_unit(unit: UnitSpec):
    """The unit's params validated by its family's params model, and its mapping one of the
    family's; `SpecError` naming the unit."""
    fam = get_family(unit.family)
    if unit.mapping is not None and unit.mapping not in fam.mappings:
        raise SpecError(f"unit {unit.name}: mapping {unit.mapping!r} is not a {unit.family} mapping; "
                        f"allowed: {', '.join(fam.mappings)}")
    try:
        return fam.params(**unit.params)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top)"
        raise SpecError(f"unit {unit.name}: params.{where}: {first['msg']}") from None


@lru_cache(maxsize=4096)
def _costs(unit_json: str, workload_key: tuple) -> UnitCosts:
    unit = UnitSpec.model_validate_json(unit_json)
    workload = dict(workload_key)
    fam = get_family(unit.family)
    check_unit(unit)
    if workload["phase"] not in fam.phases:
        return UnitCosts(unit.name, unit.family, None,
                         refused=f"family {unit.family} models {', '.join(fam.phases)}, not {workload['phase']}")
    try:
        if fam.check is not None:
            fam.check(workload, unit.params)
        result = fam.result(Point(unit.family, unit.mapping or fam.default_mapping, workload, dict(unit.params)))
    except SpecError as err:
        return UnitCosts(unit.name, unit.family, None, refused=str(err))
    return UnitCosts(unit.name, unit.family, result)


def unit_costs(unit: UnitSpec, workload: dict) -> UnitCosts:
    """The unit's per-Einsum costs on the workload (a sweep workload: the `workloads.lower` keywords)."""
    return _costs(unit.model_dump_json(), tuple(sorted(workload.items())))


def system_costs(system: SystemSpec, workload: dict) -> dict[str, UnitCosts]:
    """unit name -> its costs on the workload, for every unit of the system."""
    return {u.name: unit_costs(u, workload) for u in system.units}


def clear_cache() -> None:
    _costs.cache_clear()

"""Placement: which unit of a heterogeneous system runs each Einsum of the cascade.

Pure: reads the cascade, the system spec and the per-unit cost tables (`sim.system.UnitCosts`:
which Einsums each unit's family models) and returns a `sim.contract.Mapping` of family "system"
whose entries name each Einsum's unit. Scoring placements (the search) is `mappers.system.search`.

Each Einsum has a *class*, the cascade's Einsum `group` (embedding, norm, qkv, rope, kv_cache,
attention, proj, residual, mlp, lm_head), and a *role*:
* `matrix`: MACs with a weight operand (QKV, projections, MLP, LM head);
* `attention`: the `attention` group (scores over the KV cache, softmax, context);
* `kv_cache`: the decode step's cache appends;
* `gather`: embedding lookups;
* `vector`: everything else (norms, residuals, biases, activations, RoPE).

The rules, in order, for one Einsum (a unit *can run* an Einsum when its family's row for it is
modeled):
1. an explicit per-Einsum entry (`einsums:` of a placement file) — refused when that unit cannot
   run it;
2. `kv_cache` appends go where the attention that reads the cache runs (the cache lives there),
   run there at that family's cost even when the family does not model appends (its row then says
   `modeled` False);
3. the class's unit (`classes:` of a placement file, a search candidate, or the default below)
   when it can run the Einsum;
4. otherwise (and for `vector` Einsums without a class entry): the unit of one of its producers
   when that unit can run it (no transfer) — units other than the host first (the residual
   stream stays on the accelerators), the largest tensor first among them — else the host, else
   the first unit that can; with `vector: host`, the host first;
5. an Einsum no unit models (only possible without a host) runs on its producer's unit (else the
   first unit) at the zero cost its family reports, flagged `modeled` False.
Default class units (`auto`): `matrix` classes in decode -> PIM, then bit-serial, attention array,
other roofline units, the host; in prefill -> bit-serial, then the attention array, PIM, roofline,
host; the `attention` class -> the attention array, then PIM, bit-serial, roofline, host;
a `gather` (embedding lookup) -> the first unit of the `matrix` order that models it (PIM-GPT's
ASIC does; the bit-serial and attention families do not), else the host. Finally a fusion group (a family's `fusion_group`, e.g. the attention
array's `L<i>.attention`) must run whole on the unit that fuses it: members the rules sent
elsewhere are moved there (an explicit per-Einsum entry that splits one is an error).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.contract import EinsumMapping, Mapping
from sim.system.costs import UnitCosts
from sim.system.spec import SystemSpec
from workloads.errors import SpecError

CLASSES = ("embedding", "norm", "qkv", "rope", "kv_cache", "attention", "proj", "residual", "mlp", "lm_head")
ORDER = {
    ("matrix", "decode"): ("pim", "bitserial", "attention", "roofline"),
    ("matrix", "prefill"): ("bitserial", "attention", "pim", "roofline"),
    ("attention", "decode"): ("attention", "pim", "bitserial", "roofline"),
    ("attention", "prefill"): ("attention", "pim", "bitserial", "roofline"),
}


class PlacementRules(BaseModel):
    """An explicit placement (a YAML file): a unit per class, per Einsum, and the vector policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    classes: dict[str, str] = Field(default_factory=dict, description="Einsum group -> unit")
    einsums: dict[str, str] = Field(default_factory=dict, description="Einsum name -> unit")
    vector: Literal["producer", "host"] = "producer"


def load_rules(path: str | Path) -> PlacementRules:
    """A placement file: `classes: {group: unit}`, `einsums: {name: unit}`, `vector: producer|host`."""
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except yaml.YAMLError as err:
        raise SpecError(f"{Path(path).name}: not valid YAML ({str(err).splitlines()[0]})") from None
    try:
        return PlacementRules(**data) if isinstance(data, dict) else PlacementRules(classes=data)
    except (ValidationError, TypeError) as err:
        first = err.errors()[0] if isinstance(err, ValidationError) else {"loc": (), "msg": str(err)}
        where = ".".join(str(p) for p in first["loc"]) or "(top)"
        raise SpecError(f"{Path(path).name}: {where}: {first['msg']}") from None


def role(e, cascade, macs: int | None = None) -> str:
    """The Einsum's role (module docstring); `macs` saves looking its count up."""
    if e.group == "kv_cache":
        return "kv_cache"
    if e.kind == "gather":
        return "gather"
    if e.group == "attention":
        return "attention"
    if macs is None:
        macs = cascade.stats[cascade.einsums.index(e)].macs
    if macs > 0 and any(cascade.tensors[a.tensor].role == "weight" for a in e.inputs):
        return "matrix"
    return "vector"


def roles(cascade) -> dict[str, str]:
    """Einsum -> role, for the whole cascade."""
    return {e.name: role(e, cascade, s.macs) for e, s in zip(cascade.einsums, cascade.stats)}


def ranked(system: SystemSpec, families: tuple[str, ...]) -> tuple[str, ...]:
    """Units of `families` in that order (spec order within a family), the host last."""
    out = [u.name for fam in families for u in system.units if u.family == fam and u.name != system.host]
    return tuple(out + ([system.host] if system.host else []))


@dataclass
class _Placer:
    cascade: object
    costs: dict[str, UnitCosts]
    system: SystemSpec
    rules: PlacementRules
    auto: bool
    unit: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.phase = self.cascade.meta.get("phase", "prefill")
        self.producer = self.cascade.producer
        self.bytes = {n: t.bytes for n, t in self.cascade.tensors.items()}
        self.roles = roles(self.cascade)

    def can(self, unit: str | None, einsum: str) -> bool:
        return unit is not None and unit in self.costs and self.costs[unit].capable(einsum)

    def class_unit(self, e) -> str | None:
        if e.group in self.rules.classes:
            return self.rules.classes[e.group]
        if not self.auto:
            return None
        r = self.roles[e.name]
        order = ORDER.get(("matrix" if r == "gather" else r, self.phase))
        if order is None:
            return None
        return next((u for u in ranked(self.system, order) if self.can(u, e.name)), None)

    def producer_units(self, e) -> list[str]:
        """Units of the Einsums whose outputs `e` reads: units other than the host first, then by
        tensor size, largest first (stable: input order breaks ties)."""
        found = [(u == self.system.host, -self.bytes[a.tensor], u) for a in e.inputs
                 if a.tensor in self.producer and (u := self.unit.get(self.producer[a.tensor])) is not None]
        return [u for *_, u in sorted(found, key=lambda f: f[:2])]

    def fallback(self, e) -> str:
        near = self.producer_units(e)
        host = [self.system.host] if self.system.host else []
        order = (host + near) if self.rules.vector == "host" else (near + host)
        order += list(ranked(self.system, ("pim", "attention", "bitserial", "roofline")))
        for u in order:
            if self.can(u, e.name):
                return u
        return (near + host + list(self.system.unit_names))[0]

    def choose(self, e) -> str:
        explicit = self.rules.einsums.get(e.name)
        if explicit is not None:
            if not self.can(explicit, e.name):
                raise SpecError(f"placement: Einsum {e.name} on unit {explicit!r}: its "
                                f"{self.costs[explicit].family} family does not model it")
            return explicit
        preferred = self.class_unit(e)
        return preferred if self.can(preferred, e.name) else self.fallback(e)


def _cache_readers(cascade) -> dict[str, list[str]]:
    """kv_cache Einsum -> the Einsums that read its output."""
    g = cascade.graph
    return {e.name: list(g.successors(e.name)) for e in cascade.einsums if e.group == "kv_cache"}


def _keep_fusion_groups(placer: _Placer) -> None:
    """Move every member of a fusion group onto the unit that fuses it (module docstring)."""
    for unit, cost in placer.costs.items():
        for group, members in cost.fusion_groups.items():
            on = [m for m in members if placer.unit.get(m) == unit]
            if not on or len(on) == len(members):
                continue
            pinned = [m for m in members if m in placer.rules.einsums and placer.rules.einsums[m] != unit]
            if pinned:
                raise SpecError(f"placement: Einsum {pinned[0]} is pinned to {placer.rules.einsums[pinned[0]]!r} but "
                                f"its fusion group {group} runs whole on {unit!r}")
            for m in members:
                placer.unit[m] = unit


def _check_rules(rules: PlacementRules, system: SystemSpec, cascade) -> None:
    names = set(system.unit_names)
    for key, unit in (*rules.classes.items(), *rules.einsums.items()):
        if unit not in names:
            raise SpecError(f"placement: {key}: no unit named {unit!r}; units: {', '.join(system.unit_names)}")
    for cls in rules.classes:
        if cls not in CLASSES:
            raise SpecError(f"placement: class {cls!r} is not an Einsum group; allowed: {', '.join(CLASSES)}")
    einsums = {e.name for e in cascade.einsums}
    for name in rules.einsums:
        if name not in einsums:
            raise SpecError(f"placement: no Einsum named {name!r} in the cascade {cascade.name}")


def resolve(cascade, costs: dict[str, UnitCosts], system: SystemSpec, rules: PlacementRules | None = None,
            auto: bool = True) -> dict[str, str]:
    """Einsum -> unit by the rules of the module docstring (`auto`: default class units where
    `rules` names none)."""
    rules = rules or PlacementRules()
    _check_rules(rules, system, cascade)
    placer = _Placer(cascade, costs, system, rules, auto)
    for _, members in cascade.schedule:
        for name in members:
            e = cascade.by_name[name]
            if e.group == "kv_cache" and name not in rules.einsums:
                continue
            placer.unit[name] = placer.choose(e)
    for name, readers in _cache_readers(cascade).items():
        if name not in placer.unit:
            e = cascade.by_name[name]
            placer.unit[name] = placer.unit[readers[0]] if readers else placer.fallback(e)
    _keep_fusion_groups(placer)
    return {e.name: placer.unit[e.name] for e in cascade.einsums}


def to_mapping(cascade, placement: dict[str, str], costs: dict[str, UnitCosts], strategy: str,
               plan: dict | None = None) -> Mapping:
    """The `Mapping` (family "system") of a placement."""
    entries = tuple(EinsumMapping(e.name, placement[e.name], fusion_group=costs[placement[e.name]].fusion_group(e.name))
                    for e in cascade.einsums)
    return Mapping(family="system", strategy=strategy, cascade=cascade, einsums=entries, plan=plan or {})


def place(cascade, costs: dict[str, UnitCosts], system: SystemSpec, rules: PlacementRules | None = None) -> Mapping:
    """The rule-based placement (`rules` None: strategy `auto`), or an explicit placement file's
    (`rules` given: its classes and Einsums first, the defaults for the rest)."""
    strategy = "auto" if rules is None else "explicit"
    return to_mapping(cascade, resolve(cascade, costs, system, rules), costs, strategy,
                      {"rules": (rules or PlacementRules()).model_dump()})

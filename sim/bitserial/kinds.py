"""Accelerator kinds as data: one YAML file per kind in `sim/bitserial/accels/`, looked up by name.

A kind is a PE type, its array shape per task and its effective weight bits per task (or per
model, with a default for models outside that table). The file's stem is the kind's name (what
`accel=` takes). Keys (docs/bitserial.md, "Adding a PE kind", has a worked example):

* `source` — where the numbers come from (required, non-empty);
* `paper_order` — position in the BitMoD paper's evaluation grid (Figs. 7–8, the reproduction);
  leave it out for a kind outside the paper;
* `pe` — `label`, `bit_serial`, `lanes`, `energy_pj_per_cycle`, `area_um2` (synthesized figures,
  before place and route), `source`; a bit-serial PE also names `weight_datatypes` (one or a
  list; it spends the most term cycles of any of them per weight) and `kv_datatype` (its term
  cycles per K/V element), looked up in `sim.numerics.registry` and costed by
  `sim.numerics.terms.term_cycles`; a bit-parallel PE spends one cycle per weight and names none;
* `array` — `[rows, cols]`;
* `weight_bits` — a number, or `{models: {model: bits}, default: bits}`.

`label`, `weight_datatypes`, `array` and `weight_bits` may be given once or per task (a mapping
with exactly the keys of `TASKS`). `load_folder(path)` validates every file at the edge — a
missing source, an unknown key, an unknown datatype, a malformed value is one `SpecError` line
naming the file and the key — and returns name -> `AccelKind`. The registry (`names`, `kind`) is
`accels/` loaded once, plus whatever `register` adds (tests, notebooks). Adding a kind is adding a
file; `sim.bitserial.presets.accelerator` and the `bitserial` family's `accel` see it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import yaml

from sim.bitserial.spec import PESpec
from sim.numerics.terms import term_cycles
from workloads.errors import SpecError

ACCELS_DIR = Path(__file__).parent / "accels"
TASKS = ("discriminative", "generative")
TOP_KEYS = ("source", "paper_order", "pe", "array", "weight_bits")
PE_KEYS = ("label", "bit_serial", "lanes", "energy_pj_per_cycle", "area_um2", "weight_datatypes", "kv_datatype",
           "source")
BITS_KEYS = ("models", "default")


@dataclass(frozen=True)
class WeightBits:
    """Effective weight bits (incl. scales): per model where the source tabulates them, else `default`."""

    default: float
    models: Mapping[str, float] = field(default_factory=dict)

    def of(self, model: str | None) -> float:
        return self.models.get(model, self.default) if model is not None else self.default


@dataclass(frozen=True)
class AccelKind:
    """One accelerator kind: its PE, array shape and weight bits, each per task (`TASKS`)."""

    name: str
    pes: Mapping[str, PESpec]
    arrays: Mapping[str, tuple[int, int]]
    weight_bits: Mapping[str, WeightBits]
    source: str
    paper_order: int | None = None

    def pe(self, task: str) -> PESpec:
        return self.pes[task]

    def array(self, task: str) -> tuple[int, int]:
        return self.arrays[task]

    def bits(self, task: str, model: str | None) -> float:
        return self.weight_bits[task].of(model)


class _File:
    """Error messages for one kind file: `<file>: <key>: <message>`."""

    def __init__(self, path: Path):
        self.path = path

    def error(self, key: str, message: str) -> SpecError:
        return SpecError(f"{self.path.name}: {key}: {message}" if key else f"{self.path.name}: {message}")

    def mapping(self, value: Any, key: str, allowed: tuple[str, ...], required: tuple[str, ...]) -> dict:
        if not isinstance(value, dict):
            raise self.error(key, f"expected a mapping with keys {', '.join(allowed)}")
        for k in value:
            if k not in allowed:
                raise self.error(f"{key}.{k}" if key else str(k), f"unknown key; allowed: {', '.join(allowed)}")
        for k in required:
            if value.get(k) is None or (k == "source" and not str(value[k]).strip()):
                why = "every accelerator kind cites where its numbers come from" if k == "source" else "required"
                raise self.error(f"{key}.{k}" if key else k, why)
        return value

    def number(self, value: Any, key: str, integer: bool = False) -> float:
        allowed = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, allowed) or value <= 0:
            raise self.error(key, f"expected a positive {'integer' if integer else 'number'}, got {value!r}")
        return value if integer else float(value)

    def per_task(self, value: Any, key: str) -> dict[str, Any]:
        """`value` for every task, or its per-task mapping (exactly the keys of `TASKS`)."""
        if isinstance(value, dict) and set(value) & set(TASKS):
            if set(value) != set(TASKS):
                got = ", ".join(map(str, value))
                raise self.error(key, f"give one value or one per task ({', '.join(TASKS)}); got {got}")
            return {t: value[t] for t in TASKS}
        return {t: value for t in TASKS}


def _task_key(raw: Any, key: str, task: str) -> str:
    """The key to name in an error about `task`'s value: `key.task` where `raw` is given per task."""
    return f"{key}.{task}" if isinstance(raw, dict) and task in raw else key


def _term_cycles(f: _File, names: Any, key: str) -> int:
    """The most term cycles of the named datatypes (one name or a list)."""
    names = [names] if isinstance(names, str) else names
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise f.error(key, f"expected a datatype name or a list of them, got {names!r}")
    try:
        return max(term_cycles(n) for n in names)
    except SpecError as err:
        raise f.error(key, str(err)) from None


def _pes(f: _File, raw: Any) -> dict[str, PESpec]:
    pe = f.mapping(raw, "pe", PE_KEYS, ("label", "bit_serial", "lanes", "energy_pj_per_cycle", "area_um2", "source"))
    if not isinstance(pe["bit_serial"], bool):
        raise f.error("pe.bit_serial", f"expected true or false, got {pe['bit_serial']!r}")
    lanes = f.number(pe["lanes"], "pe.lanes", integer=True)
    energy = f.number(pe["energy_pj_per_cycle"], "pe.energy_pj_per_cycle")
    area = f.number(pe["area_um2"], "pe.area_um2")
    labels = f.per_task(pe["label"], "pe.label")
    for label in labels.values():
        if not isinstance(label, str) or not label.strip():
            raise f.error("pe.label", f"expected a name, got {label!r}")
    linear, attention = dict.fromkeys(TASKS, 1), 1
    if pe["bit_serial"]:
        for k in ("weight_datatypes", "kv_datatype"):
            if pe.get(k) is None:
                raise f.error(f"pe.{k}", "required for a bit-serial PE (its term cycles)")
        dts = f.per_task(pe["weight_datatypes"], "pe.weight_datatypes")
        key = "pe.weight_datatypes"
        linear = {t: _term_cycles(f, dts[t], _task_key(pe["weight_datatypes"], key, t)) for t in TASKS}
        attention = _term_cycles(f, pe["kv_datatype"], "pe.kv_datatype")
    else:
        for k in ("weight_datatypes", "kv_datatype"):
            if k in pe:
                raise f.error(f"pe.{k}", "a bit-parallel PE spends one cycle per weight; "
                                         "only a bit-serial PE names datatypes")
    return {t: PESpec(labels[t], pe["bit_serial"], lanes, linear[t], attention, energy, area, str(pe["source"]))
            for t in TASKS}


def _arrays(f: _File, raw: Any) -> dict[str, tuple[int, int]]:
    out = {}
    for task, shape in f.per_task(raw, "array").items():
        key = _task_key(raw, "array", task)
        if not isinstance(shape, list) or len(shape) != 2:
            raise f.error(key, f"expected [rows, cols], got {shape!r}")
        out[task] = (f.number(shape[0], key, True), f.number(shape[1], key, True))
    return out


def _weight_bits(f: _File, raw: Any) -> dict[str, WeightBits]:
    out = {}
    for task, value in f.per_task(raw, "weight_bits").items():
        key = _task_key(raw, "weight_bits", task)
        if not isinstance(value, dict):
            out[task] = WeightBits(f.number(value, key))
            continue
        spec = f.mapping(value, key, BITS_KEYS, BITS_KEYS)
        if not isinstance(spec["models"], dict) or not spec["models"]:
            raise f.error(f"{key}.models", f"expected a mapping model -> bits, got {spec['models']!r}")
        table = {str(m): f.number(b, f"{key}.models.{m}") for m, b in spec["models"].items()}
        out[task] = WeightBits(f.number(spec["default"], f"{key}.default"), MappingProxyType(table))
    return out


def read_kind(path: Path) -> AccelKind:
    """One kind file, validated (see the module docstring)."""
    path = Path(path)
    f = _File(path)
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as err:
        raise SpecError(f"{path.name}: cannot read accelerator kind ({err.strerror})") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(err, "problem", None) or "invalid YAML"
        raise SpecError(f"{path.name}: cannot read accelerator kind ({where}{problem})") from None
    doc = f.mapping(data, "", TOP_KEYS, ("source", "pe", "array", "weight_bits"))
    order = doc.get("paper_order")
    if order is not None:
        f.number(order, "paper_order", integer=True)
    return AccelKind(path.stem, MappingProxyType(_pes(f, doc["pe"])), MappingProxyType(_arrays(f, doc["array"])),
                     MappingProxyType(_weight_bits(f, doc["weight_bits"])), str(doc["source"]), order)


def load_folder(folder: Path = ACCELS_DIR) -> dict[str, AccelKind]:
    """Every `*.yaml` of `folder` as a kind, in `order`."""
    kinds = [read_kind(p) for p in sorted(Path(folder).glob("*.yaml"))]
    if not kinds:
        raise SpecError(f"{folder}: no accelerator kinds (*.yaml) found")
    return {k.name: k for k in sorted(kinds, key=order)}


def order(kind: AccelKind) -> tuple:
    """Sort key: the paper's grid in its order, then other kinds by name."""
    return (kind.paper_order is None, kind.paper_order or 0, kind.name)


KINDS: dict[str, AccelKind] = {}
_loaded = False


def load() -> None:
    """Read `accels/` into the registry once; idempotent."""
    global _loaded
    if not _loaded:
        for k in load_folder().values():
            KINDS.setdefault(k.name, k)
        _loaded = True


def register(kind: AccelKind) -> AccelKind:
    """Add a kind (e.g. `read_kind(path)`); a name already taken by another definition is an error."""
    load()
    old = KINDS.get(kind.name)
    if old is not None and old != kind:
        raise SpecError(f"accelerator kind {kind.name!r} is registered twice")
    KINDS[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    """Remove a kind (for tests and notebooks)."""
    KINDS.pop(name)


def names() -> tuple[str, ...]:
    """Registered kind names: the paper's grid in its order, then others by name."""
    load()
    return tuple(k.name for k in sorted(KINDS.values(), key=order))


def kind(name: str) -> AccelKind:
    """A registered kind by name."""
    load()
    try:
        return KINDS[name]
    except KeyError:
        raise SpecError(f"accelerator {name!r} is not known; choose one of: {', '.join(names())}") from None

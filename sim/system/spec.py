"""A heterogeneous system as data: units (one design of one family each), links between them, a host.

A `UnitSpec` is one design point of one of the four families (`roofline`, `pim`, `bitserial`,
`attention`): its `params` are that family's design parameters, validated later by the family's
own params model (`experiments.system.costs`), and `memory_bytes` is the capacity the unit keeps
weights and KV cache in (its DRAM, its PIM channels). A `LinkSpec` joins two units: a tensor
produced on one and read on the other crosses it, taking `latency_s + bytes / bandwidth` and
`bytes * 8 * energy_pj_per_bit` (`sim.system.schedule`). Every number carries a `source` (a paper,
a standard, a datasheet, or "assumption: ...").

Routing (decided here, documented in docs/system.md): a direct link between the two units is used
when there is one; otherwise, when the system names a `host` linked to both, the tensor is stored
and forwarded through the host (two transfers, each charged on its link); otherwise evaluating a
placement that makes those two units exchange data raises `SpecError` naming both units. The host
must be a `roofline` unit: it is the unit that can run any Einsum (embeddings, the vector work
other families do not model).

Presets are YAML files in `sim/system/presets/` (`<name>.yaml`, the name being the file's stem);
`load_system(name_or_path)` reads one and validates it at the edge: a bad field is one `SpecError`
line naming the file and the key.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.system.scaleout import ScaleoutSpec, Wire, cited
from workloads.errors import SpecError

FAMILIES = ("roofline", "pim", "bitserial", "attention")
PRESETS_DIR = Path(__file__).parent / "presets"
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class UnitSpec(BaseModel):
    """One unit: a design of one family, with the memory it holds weights and KV cache in."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    family: Literal[FAMILIES]  # type: ignore[valid-type]
    params: dict[str, Any] = Field(default_factory=dict)
    memory_bytes: float = Field(gt=0, description="capacity for weights and KV cache, bytes")
    source: str
    mapping: str | None = Field(None, description="one of the family's mappings (default: the family's "
                                                  "default); checked by experiments.system.costs.check_unit")

    _source = field_validator("source")(cited)

    @field_validator("name")
    @classmethod
    def _slug(cls, name: str) -> str:
        if not SLUG.match(name):
            raise ValueError(f"{name!r} is not a slug (lower-case letters, digits and '-')")
        return name


class LinkSpec(Wire, BaseModel):
    """A bidirectional link; each direction carries one transfer at a time at the full bandwidth."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    between: tuple[str, str]
    bandwidth_bytes_per_s: float = Field(gt=0, description="per direction")
    latency_s: float = Field(ge=0, description="added to every transfer")
    energy_pj_per_bit: float = Field(ge=0)
    source: str

    _source = field_validator("source")(cited)

    @field_validator("between")
    @classmethod
    def _two_units(cls, between: tuple[str, str]) -> tuple[str, str]:
        if between[0] == between[1]:
            raise ValueError(f"a link joins two different units, not {between[0]!r} to itself")
        return between

    @property
    def name(self) -> str:
        return f"{self.between[0]}--{self.between[1]}"


class SystemSpec(BaseModel):
    """Units, the links between them and the host (a roofline unit that can run any Einsum)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    units: tuple[UnitSpec, ...] = Field(min_length=1)
    links: tuple[LinkSpec, ...] = ()
    host: str | None = None
    scaleout: ScaleoutSpec | None = None  # N copies of a unit group over a device link (sim.system.scaleout)
    source: str

    _source = field_validator("source")(cited)

    @model_validator(mode="after")
    def _scaleout_group(self):
        names = [u.name for u in self.units]
        for g in (self.scaleout.group or ()) if self.scaleout is not None else ():
            if g not in names:
                raise ValueError(f"scaleout.group: no unit named {g!r}; units: {', '.join(names)}")
        return self

    @model_validator(mode="after")
    def _consistent(self):
        names = [u.name for u in self.units]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"unit names must be unique; {dup[0]!r} is used twice")
        pairs = set()
        for link in self.links:
            for end in link.between:
                if end not in names:
                    raise ValueError(f"link {link.name}: no unit named {end!r}; units: {', '.join(names)}")
            pair = frozenset(link.between)
            if pair in pairs:
                raise ValueError(f"link {link.name}: the two units are already linked")
            pairs.add(pair)
        if self.host is not None:
            if self.host not in names:
                raise ValueError(f"host: no unit named {self.host!r}; units: {', '.join(names)}")
            if self.unit(self.host).family != "roofline":
                raise ValueError(f"host: {self.host!r} is a {self.unit(self.host).family} unit; the host is a "
                                 "roofline unit (it runs whatever the other units do not model)")
        return self

    @property
    def unit_names(self) -> tuple[str, ...]:
        return tuple(u.name for u in self.units)

    def unit(self, name: str) -> UnitSpec:
        for u in self.units:
            if u.name == name:
                return u
        raise SpecError(f"system {self.name}: no unit named {name!r}; units: {', '.join(self.unit_names)}")

    def link(self, a: str, b: str) -> LinkSpec | None:
        """The direct link between `a` and `b`, if any."""
        for link in self.links:
            if set(link.between) == {a, b}:
                return link
        return None

    def route(self, src: str, dst: str) -> tuple[tuple[LinkSpec, str, str], ...]:
        """The hops (link, from, to) a tensor takes from unit `src` to unit `dst` (see the module
        docstring); `SpecError` naming both units when there is no way."""
        direct = self.link(src, dst)
        if direct is not None:
            return ((direct, src, dst),)
        host = self.host
        if host is not None and host not in (src, dst):
            first, second = self.link(src, host), self.link(host, dst)
            if first is not None and second is not None:
                return ((first, src, host), (second, host, dst))
        via = f" and no route through the host {host!r}" if host else " and the system names no host to route through"
        raise SpecError(f"system {self.name}: units {src!r} and {dst!r} exchange data but no link joins them{via}")


def preset_names() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in PRESETS_DIR.glob("*.yaml")))


def _first_error(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top)"
    return f"{where}: {first['msg']}"


def parse_system(data: Any, origin: str = "system") -> SystemSpec:
    """A `SystemSpec` from a parsed YAML document; `SpecError` (one line) naming `origin` and the key."""
    if not isinstance(data, dict):
        raise SpecError(f"{origin}: expected a mapping with name, units, links, host, scaleout, source")
    try:
        return SystemSpec(**data)
    except ValidationError as err:
        raise SpecError(f"{origin}: {_first_error(err)}") from None


def load_system(name_or_path: str | Path) -> SystemSpec:
    """A preset by name (`sim/system/presets/<name>.yaml`) or a YAML file by path."""
    path = Path(name_or_path)
    if not path.is_file():
        preset = PRESETS_DIR / f"{name_or_path}.yaml"
        if not preset.is_file():
            raise SpecError(f"system {str(name_or_path)!r}: not a file and not a preset; presets: "
                            f"{', '.join(preset_names())}")
        path = preset
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        raise SpecError(f"{path.name}: not valid YAML ({str(err).splitlines()[0]})") from None
    return parse_system(data, path.name)

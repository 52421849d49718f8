"""The experiment file: a YAML document validated into pydantic models (`extra="forbid"`).

    workloads: {models: [gpt2], phases: [decode], batch: [1], seq_len: [128, 1024], layers: 1}
    family: roofline
    fixed: {node_nm: 45}
    sweep:
      pes: [256, 1024]                      # grid list
      clock_mhz: {range: [500, 1500, 500]}   # lo, hi (inclusive), step
      buffer_mib: {logrange: [0.25, 16, 7]}  # lo, hi, n values geometrically spaced
    mapping: unfused
    objectives: {latency_s: min, area_mm2: min}
    constraints: {area_mm2: {max: 100}}
    search: {method: grid|random|nsga2, budget: 50, seed: 0}

Several architectures in one file (each crossed with the shared workloads; `search` is shared,
`grid` or `random`, the latter drawing `budget` designs per architecture):

    architectures:
      - {family: roofline, fixed: {node_nm: 28}, sweep: {pes: [256, 1024]}}
      - {family: bitserial, sweep: {accel: [fp16, bitmod-lossy]}, mapping: output-stationary}

Objectives must be metrics every listed family reports; constraints likewise.

Every problem is reported as one line, `FILE: key.path: what is wrong; allowed: …`, through
`SpecError` (exit 2 at the CLI).
"""
from __future__ import annotations

import hashlib
import math
import types
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from experiments.reproductions import check_name
from workloads import MODELS
from workloads.attention import VARIANTS
from workloads.dtypes import BITS
from workloads.errors import SpecError
from workloads.lower import LM_HEAD, PHASES

from .families import get_family, names as family_names
from .paths import SLUG_RULE, is_slug

OBJECTIVE_ALIASES = {"latency": "latency_s", "energy": "energy_j", "area": "area_mm2", "edp": "edp_js",
                     "throughput": "throughput_tokens_per_s", "power": "power_w"}


MAX_EXPERIMENT_BYTES = 1_000_000  # an experiment file (docs/limits.md)
MAX_AXIS_VALUES = 100_000  # values of one swept parameter (docs/limits.md)
MAX_POINTS = 1_000_000  # design points of one experiment: designs x workloads (docs/limits.md)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _listify(value):
    return value if isinstance(value, list) else [value]


class Workloads(_Strict):
    """The workload axes; their Cartesian product is crossed with every design."""

    models: list[str] = Field(min_length=1)
    phases: list[Literal[PHASES]] = Field(["prefill"], min_length=1)  # type: ignore[valid-type]
    batch: list[int] = Field([1], min_length=1)
    seq_len: list[int] = Field([128], min_length=1)
    kv_len: int | None = Field(None, ge=0)
    layers: int | None = Field(None, gt=0)
    attention: Literal[VARIANTS] = "3pass"  # type: ignore[valid-type]
    block: int = Field(64, gt=0)
    lm_head: Literal[LM_HEAD] = "all"  # type: ignore[valid-type]
    weight_dtype: Literal[tuple(BITS)] = "fp16"  # type: ignore[valid-type]
    activation_dtype: Literal[tuple(BITS)] = "fp16"  # type: ignore[valid-type]
    kv_dtype: Literal[tuple(BITS)] = "fp16"  # type: ignore[valid-type]

    _wrap = field_validator("models", "phases", "batch", "seq_len", mode="before")(_listify)

    @field_validator("models")
    @classmethod
    def _known_models(cls, models):
        """A zoo name (or alias), a config.json path, a checkpoint folder or a model id in the
        local Hugging Face cache: whatever `workloads.get_model` resolves (paths are relative to
        the working directory)."""
        from workloads import SpecError, get_model

        for i, m in enumerate(models):
            try:
                get_model(m)
            except SpecError as err:
                if not str(err).startswith(f"unknown model {m!r}"):
                    raise ValueError(f"item {i}: {err}") from None
                raise ValueError(f"unknown model {m!r} (item {i}); allowed: {', '.join(MODELS)}, a config.json "
                                 "path, a checkpoint folder or a cached Hugging Face model id") from None
        return models

    @field_validator("batch", "seq_len")
    @classmethod
    def _positive(cls, values):
        for i, v in enumerate(values):
            if v <= 0:
                raise ValueError(f"item {i} is {v}; sizes must be positive integers")
        return values

    def combos(self) -> list[dict]:
        """Every workload of the product, as the keyword set `lower()` needs."""
        common = {"kv_len": self.kv_len, "layers": self.layers, "attention": self.attention, "block": self.block,
                  "lm_head": self.lm_head, "weight_dtype": self.weight_dtype,
                  "activation_dtype": self.activation_dtype, "kv_dtype": self.kv_dtype}
        return [{"model": m, "phase": p, "batch": b, "seq_len": s, **common}
                for m in self.models for p in self.phases for b in self.batch for s in self.seq_len]


class RangeSpec(_Strict):
    range: tuple[float, float, float]

    @model_validator(mode="after")
    def _check(self):
        lo, hi, step = self.range
        if step <= 0 or hi < lo:
            raise ValueError(f"range [lo, hi, step] needs lo <= hi and step > 0, got {list(self.range)}")
        n = math.floor((hi - lo) / step + 1e-9) + 1
        if n > MAX_AXIS_VALUES:
            raise ValueError(f"range {list(self.range)} has {n:,} values; an axis has at most {MAX_AXIS_VALUES:,}")
        return self

    def values(self) -> list:
        lo, hi, step = self.range
        n = int(math.floor((hi - lo) / step + 1e-9)) + 1
        vals = [float(f"{lo + i * step:.12g}") for i in range(n)]
        return [int(round(v)) for v in vals] if all(float(x).is_integer() for x in self.range) else vals


class LogRangeSpec(_Strict):
    logrange: tuple[float, float, int]

    @model_validator(mode="after")
    def _check(self):
        lo, hi, n = self.logrange
        if lo <= 0 or hi < lo or n < 1:
            raise ValueError(f"logrange [lo, hi, n] needs 0 < lo <= hi and n >= 1, got {list(self.logrange)}")
        if n > MAX_AXIS_VALUES:
            raise ValueError(f"logrange {list(self.logrange)} has {n:,} values; an axis has at most {MAX_AXIS_VALUES:,}")
        return self

    def values(self) -> list:
        lo, hi, n = self.logrange
        vals = [float(f"{v:.12g}") for v in np.geomspace(lo, hi, n)]
        if float(lo).is_integer() and float(hi).is_integer():
            return sorted({int(round(v)) for v in vals})
        return vals


Scalar = Union[bool, int, float, str]
SweepAxis = Union[list[Scalar], RangeSpec, LogRangeSpec]


class Bound(_Strict):
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _one(self):
        if self.min is None and self.max is None:
            raise ValueError("a constraint needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} > max {self.max}")
        return self


class Search(_Strict):
    method: Literal["grid", "random", "nsga2"] = "grid"
    budget: int | None = Field(None, gt=0, description="random: designs sampled; nsga2: design evaluations")
    seed: int = 0
    pop_size: int | None = Field(None, gt=1, description="nsga2 population")

    @model_validator(mode="after")
    def _budget(self):
        if self.method != "grid" and self.budget is None:
            raise ValueError(f"search method {self.method!r} needs a budget (a positive integer)")
        return self


class Architecture(_Strict):
    """One architecture family with its fixed and swept design parameters."""

    family: str
    fixed: dict[str, Any] = {}
    sweep: dict[str, SweepAxis]
    mapping: str | None = None

    @field_validator("family")
    @classmethod
    def _known_family(cls, name):
        if name not in family_names():
            raise ValueError(f"unknown family {name!r}; allowed: {', '.join(family_names())}")
        return name

    @field_validator("sweep")
    @classmethod
    def _non_empty(cls, sweep):
        if not sweep:
            raise ValueError("empty sweep; list at least one parameter with its values")
        for key, axis in sweep.items():
            if isinstance(axis, list) and not axis:
                raise ValueError(f"parameter {key!r} has no values")
        return sweep

    def axes(self) -> dict[str, list]:
        """Swept parameter -> its list of values, in file order."""
        return {k: (list(v) if isinstance(v, list) else v.values()) for k, v in self.sweep.items()}


class Experiment(_Strict):
    name: str | None = None
    description: str | None = None
    workloads: Workloads
    family: str | None = None
    fixed: dict[str, Any] = {}
    sweep: dict[str, SweepAxis] | None = None
    mapping: str | None = None
    architectures: list[Architecture] | None = Field(None, min_length=1)
    objectives: dict[str, Literal["min", "max"]] = Field(min_length=1, max_length=3)
    constraints: dict[str, Bound] = {}
    search: Search = Search()
    reproduce: str | None = None

    _known_family = field_validator("family")(Architecture._known_family.__func__)
    _non_empty = field_validator("sweep")(Architecture._non_empty.__func__)

    @field_validator("name")
    @classmethod
    def _slug_name(cls, name):
        if name is not None and not is_slug(name):
            raise ValueError(f"{name!r} is not a valid run name; allowed: {SLUG_RULE}")
        return name

    @field_validator("reproduce")
    @classmethod
    def _known_reproduction(cls, name):
        return None if name is None else check_name(name)

    @field_validator("objectives", mode="before")
    @classmethod
    def _aliases(cls, objectives):
        if isinstance(objectives, dict):
            return {OBJECTIVE_ALIASES.get(k, k): v for k, v in objectives.items()}
        return objectives

    @model_validator(mode="after")
    def _one_form(self):
        if self.architectures is None:
            if self.family is None:
                raise ValueError("give either family (with fixed, sweep) or architectures (a list of them)")
            if self.sweep is None:
                raise ValueError("sweep: required key is missing (with family)")
        else:
            clash = [k for k in ("family", "sweep", "mapping") if getattr(self, k) is not None]
            clash += ["fixed"] if self.fixed else []
            if clash:
                raise ValueError(f"{', '.join(clash)} cannot sit beside architectures; "
                                 "put them inside each architectures entry")
            if self.search.method == "nsga2":
                raise ValueError("search method nsga2 needs a single family; with architectures use grid or random")
        return self

    @property
    def mixed(self) -> bool:
        return self.architectures is not None

    def arches(self) -> list[tuple[str, Architecture]]:
        """(key-path prefix, architecture) of every architecture; the single-family form is one."""
        if self.architectures is not None:
            return [(f"architectures[{i}].", a) for i, a in enumerate(self.architectures)]
        return [("", Architecture(family=self.family, fixed=self.fixed, sweep=self.sweep, mapping=self.mapping))]

    def families(self) -> list[str]:
        return list(dict.fromkeys(a.family for _, a in self.arches()))

    def axes(self) -> dict[str, list]:
        """Swept parameter -> its values, in file order (union over architectures)."""
        out: dict[str, list] = {}
        for _, a in self.arches():
            for k, v in a.axes().items():
                out.setdefault(k, [])
                out[k] += [x for x in v if x not in out[k]]
        return out


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The pydantic model at `loc` inside `model` (through dict values, list items and unions)."""
    annotation: Any = model
    for part in loc:
        found = _as_model(annotation)
        if found is not None and isinstance(part, str) and part in found.model_fields:
            annotation = found.model_fields[part].annotation
            continue
        if get_origin(annotation) in (Union, types.UnionType):
            annotation = next((a for a in get_args(annotation) if get_origin(a) in (dict, list)), annotation)
        origin = get_origin(annotation)
        if origin in (dict, list):
            annotation = get_args(annotation)[-1]
            continue
        return None
    return _as_model(annotation)


def _as_model(annotation) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, types.UnionType):
        for arg in get_args(annotation):
            found = _as_model(arg)
            if found is not None:
                return found
    return None


def _dotted(loc: tuple) -> str:
    out, prev = "", None
    for p in loc:
        out += f"[{p}]" if isinstance(p, int) and prev == "architectures" else ("." if out else "") + str(p)
        prev = p
    return out


def first_error(err: ValidationError, root: type[BaseModel], prefix: tuple = ()) -> str:
    errors = err.errors()
    # A union reports every branch: the branch whose own check failed (a value error) says most;
    # otherwise prefer the error deepest in the document.
    valued = [x for x in errors if x["type"] == "value_error"]
    if valued:
        e = valued[0]
    else:
        e = max(errors, key=lambda x: len(x["loc"])) if len({x["loc"][:1] for x in errors}) == 1 else errors[0]
    loc = prefix + tuple(p for p in e["loc"] if p not in ("list[union[bool,int,float,str]]", "RangeSpec",
                                                           "LogRangeSpec") and "function-after" not in str(p))
    path = _dotted(loc) or "(top level)"
    msg = e["msg"].removeprefix("Value error, ")
    if e["type"] == "extra_forbidden":
        parent = _model_at(root, tuple(e["loc"][:-1]))
        allowed = ", ".join(parent.model_fields) if parent is not None else "see docs/experiments.md"
        msg = f"unknown key; allowed: {allowed}"
    elif e["type"] == "missing":
        msg = "required key is missing"
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return f"{path}: {msg}{more}"


def planned_points(exp: Experiment) -> int:
    """Design points the experiment asks for (grid: every design x workload; a search: its budget
    x workloads), counted without expanding them."""
    w = exp.workloads
    n_workloads = len(w.models) * len(w.phases) * len(w.batch) * len(w.seq_len)
    if exp.search.method != "grid":
        return exp.search.budget * n_workloads
    return sum(math.prod(len(v) for v in arch.axes().values()) for _, arch in exp.arches()) * n_workloads


def check_size(exp: Experiment, source: str) -> None:
    n = planned_points(exp)
    if n > MAX_POINTS:
        raise SpecError(f"{source}: sweep: {n:,} design points (designs x workloads); at most {MAX_POINTS:,} "
                        "per experiment — split it or use search: random with a budget")


def parse(data: Any, source: str = "<experiment>") -> Experiment:
    """Validate a loaded YAML document (including the family's parameters, objectives, mapping)."""
    if not isinstance(data, dict):
        raise SpecError(f"{source}: (top level): expected a mapping of keys, got {type(data).__name__}")
    try:
        exp = Experiment.model_validate(data)
    except ValidationError as err:
        raise SpecError(f"{source}: {first_error(err, Experiment)}") from None
    check_size(exp, source)
    phases = set(exp.workloads.phases)
    for prefix, arch in exp.arches():
        _check_arch(source, arch, prefix, phases)
    families = [get_family(f) for f in exp.families()]
    where = lambda f: ("" if not exp.mixed else  # noqa: E731
                       f"{f.name} ({', '.join(p.rstrip('.') for p, a in exp.arches() if a.family == f.name)})")
    for key in exp.objectives:
        for family in families:
            if key not in family.metrics:
                common = [m for m in families[0].metrics if all(m in f.metrics for f in families)]
                lacking = f" is not reported by family {where(family)}" if exp.mixed else ": unknown metric"
                raise SpecError(f"{source}: objectives.{key}{lacking}; allowed: {', '.join(common)} "
                                f"(aliases: {', '.join(OBJECTIVE_ALIASES)})")
    for key in exp.constraints:
        if exp.mixed:
            for family in families:
                if key not in family.metrics:
                    common = [m for m in families[0].metrics if all(m in f.metrics for f in families)]
                    raise SpecError(f"{source}: constraints.{key}: is not a metric of family {where(family)}; "
                                    f"allowed: {', '.join(common)}")
            continue
        family = families[0]
        params = family.params
        if key not in family.metrics and key not in params.model_fields:
            raise SpecError(f"{source}: constraints.{key}: unknown metric or parameter; allowed: "
                            f"{', '.join(family.metrics)}, {', '.join(params.model_fields)}")
    return exp


def _check_arch(source: str, arch: Architecture, prefix: str, phases: set) -> None:
    family = get_family(arch.family)
    params = family.params
    for key, value in arch.fixed.items():
        check_params(source, params, {key: value}, f"{prefix}fixed.{key}")
    axes = arch.axes()
    for key, values in axes.items():
        if key in arch.fixed:
            raise SpecError(f"{source}: {prefix}sweep.{key}: also given under fixed; "
                            "a parameter is fixed or swept, not both")
        for value in values:
            check_params(source, params, {**arch.fixed, key: value}, f"{prefix}sweep.{key}")
    check_params(source, params, {**arch.fixed, **{k: v[0] for k, v in axes.items()}}, f"{prefix}sweep")
    if arch.mapping is not None and arch.mapping not in family.mappings:
        raise SpecError(f"{source}: {prefix}mapping: {arch.mapping!r} is not a {arch.family} mapping; "
                        f"allowed: {', '.join(family.mappings)}")
    if not phases & set(family.phases):
        raise SpecError(f"{source}: {prefix}family: {arch.family} models phases {', '.join(family.phases)}; "
                        f"the workloads have {', '.join(sorted(phases))}")


def check_params(source, params_model, values: dict, path: str) -> None:
    try:
        params_model(**values)
    except ValidationError as err:
        e = err.errors()[0]
        loc = ".".join(str(p) for p in e["loc"])
        where = path if not path.endswith("sweep") else f"{path[:-5]}fixed/sweep.{loc}" if loc else f"{path[:-5]}fixed/sweep"
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = f"unknown {params_model.__name__} parameter; allowed: {', '.join(params_model.model_fields)}"
        raise SpecError(f"{source}: {where}: {msg}") from None


def load(path: str | Path) -> tuple[Experiment, str]:
    """Read, `yaml.safe_load` and validate an experiment file; return it and its text."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_EXPERIMENT_BYTES:
            raise SpecError(f"{path}: {path.stat().st_size:,} bytes; an experiment file has at most "
                            f"{MAX_EXPERIMENT_BYTES:,}")
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise SpecError(f"{path}: cannot read experiment file ({err.strerror})") from None
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not UTF-8 text; an experiment file is YAML") from None
    try:
        data = yaml.safe_load(text)
    except RecursionError:
        raise SpecError(f"{path}: YAML nested too deeply") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "?"
        raise SpecError(f"{path}: invalid YAML at {where}: {getattr(err, 'problem', err)}") from None
    return parse(data, str(path)), text


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()

"""The registry of quantization schemes and the datatypes they define, looked up by name.

Adding a datatype is one new file in `sim/numerics/schemes/` (docs/numerics.md has the recipe):
the module defines its element format(s) and calls `register(Scheme(...))` at import, with the
datatypes it introduces in `Scheme.datatypes`. `load()` imports every module of that package
once, so the study (`sim.numerics.study`), `einspace quant` and anything that needs a datatype
by name (`datatype(name)`, e.g. the bit-serial presets' term cycles) see it without edits.

A scheme is a function `quantize(w, bits, spec) -> Quantized` over one (out, in) weight matrix,
the bit-widths it is defined for, where its groups come from (`block_size`: a fixed block, e.g.
OCP MX's 32, instead of the study's group size) and what a per-group or per-tensor datatype
choice means for the study's `shares` column (`choice`).
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import Callable, Literal

import numpy as np

from sim.numerics.datatype import Datatype
from sim.numerics.quantizers import QuantSpec, Quantized
from workloads.errors import SpecError

PACKAGE = "sim.numerics.schemes"


@dataclass(frozen=True)
class Scheme:
    """One named weight-quantization scheme (see the module docstring)."""

    name: str
    quantize: Callable[[np.ndarray, int, QuantSpec], Quantized]
    bits: tuple[int, ...]
    source: str
    order: int = 100
    block_size: int | None = None
    choice: Literal["group", "tensor"] | None = None
    datatypes: tuple[Datatype, ...] = field(default=(), repr=False)


SCHEMES: dict[str, Scheme] = {}
DATATYPES: dict[str, Datatype] = {}


def register(scheme: Scheme) -> Scheme:
    """Add `scheme` and its datatypes; a name already taken by another definition is an error."""
    old = SCHEMES.get(scheme.name)
    if old is not None and old.quantize is not scheme.quantize:
        raise SpecError(f"quantization scheme {scheme.name!r} is registered twice")
    for dt in scheme.datatypes:
        known = DATATYPES.get(dt.name)
        if known is not None and not np.array_equal(known.values(), dt.values()):
            raise SpecError(f"datatype {dt.name!r} is registered twice with different values")
    for dt in scheme.datatypes:
        DATATYPES.setdefault(dt.name, dt)
    SCHEMES[scheme.name] = scheme
    return scheme


def unregister(name: str) -> None:
    """Remove a scheme and the datatypes only it introduced (for tests and notebooks)."""
    scheme = SCHEMES.pop(name)
    kept = {dt.name for s in SCHEMES.values() for dt in s.datatypes}
    for dt in scheme.datatypes:
        if dt.name not in kept:
            DATATYPES.pop(dt.name, None)


def load() -> None:
    """Import every module of `sim/numerics/schemes/` (each registers itself); idempotent."""
    package = importlib.import_module(PACKAGE)
    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{PACKAGE}.{info.name}")


def names() -> tuple[str, ...]:
    """Registered scheme names, in study order (`Scheme.order`, then name)."""
    load()
    return tuple(sorted(SCHEMES, key=lambda n: (SCHEMES[n].order, n)))


def _lookup(table: dict, name: str, what: str, allowed: Callable[[], tuple[str, ...]]):
    load()
    if name not in table:
        raise SpecError(f"unknown {what} {name!r}; allowed: {', '.join(allowed())}")
    return table[name]


def scheme(name: str) -> Scheme:
    return _lookup(SCHEMES, name, "scheme", names)


def datatype(name: str) -> Datatype:
    """A registered datatype by name (e.g. `fp4_er_pos`, `int6`, `flint4`)."""
    return _lookup(DATATYPES, name, "datatype", lambda: tuple(sorted(DATATYPES)))

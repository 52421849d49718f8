"""The common shape of every element datatype: a finite code table and round-to-nearest onto it.

A datatype here is modelled as what the hardware stores: `bits`-wide codes `0 .. 2**bits - 1`,
each decoding to one real value (or NaN/inf where the format reserves codes for them). The value
set is the sorted array of distinct finite decoded values (−0 and +0 are one value). Quantizing a
real number means rounding it to the nearest value of that set, ties going to the value whose
canonical code is even (its least-significant bit is 0): for the IEEE/OCP float layouts that is
exactly round-to-nearest-even on the significand, and for integers it is "round half to even".
Values beyond the set saturate to its end points (the OCP MX v1.0 spec's conversion rule).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from workloads.errors import SpecError


@dataclass(frozen=True)
class CodeTable:
    """Decoded value of every code of a `bits`-wide format, and the rounding grid derived from it."""

    bits: int
    decoded: np.ndarray  # float64, one entry per code 0 .. 2**bits - 1
    grid_values: np.ndarray = field(init=False)  # sorted distinct finite values
    grid_codes: np.ndarray = field(init=False)  # canonical (lowest) code of each grid value

    def __post_init__(self) -> None:
        decoded = np.asarray(self.decoded, dtype=np.float64)
        if decoded.shape != (1 << self.bits,):
            raise ValueError(f"code table of a {self.bits}-bit format needs {1 << self.bits} entries")
        finite = np.isfinite(decoded)
        codes = np.nonzero(finite)[0]
        vals = decoded[finite] + 0.0  # folds -0.0 into +0.0
        order = np.lexsort((codes, vals))
        vals, codes = vals[order], codes[order]
        first = np.ones(vals.shape, dtype=bool)
        first[1:] = vals[1:] != vals[:-1]
        object.__setattr__(self, "decoded", decoded)
        object.__setattr__(self, "grid_values", vals[first])
        object.__setattr__(self, "grid_codes", codes[first].astype(np.int64))

    def round_index(self, x: np.ndarray) -> np.ndarray:
        """Index into `grid_values` of the nearest value to each `x` (ties to even code, saturating)."""
        v = self.grid_values
        x = np.asarray(x, dtype=np.float64)
        hi = np.clip(np.searchsorted(v, x, side="left"), 1, len(v) - 1) if len(v) > 1 else None
        if hi is None:
            return np.zeros(x.shape, dtype=np.int64)
        lo = hi - 1
        d_lo = x - v[lo]
        d_hi = v[hi] - x
        pick_hi = d_hi < d_lo
        tie = d_hi == d_lo
        hi_even = (self.grid_codes[hi] & 1) == 0
        pick_hi = pick_hi | (tie & hi_even)
        idx = np.where(pick_hi, hi, lo)
        idx = np.where(x <= v[0], 0, idx)
        idx = np.where(x >= v[-1], len(v) - 1, idx)
        return idx


class Datatype:
    """Base of all element datatypes: a name, a width in bits and a `CodeTable`.

    Subclasses build the table in `_decode_all()`; everything else is shared.
    """

    name: str
    bits: int

    @property
    def table(self) -> CodeTable:
        cached = self.__dict__.get("_table")
        if cached is None:
            cached = CodeTable(self.bits, self._decode_all())
            object.__setattr__(self, "_table", cached)
        return cached

    def _decode_all(self) -> np.ndarray:  # pragma: no cover - every subclass overrides it
        raise AttributeError(f"{type(self).__name__} does not define its code table")

    def values(self) -> np.ndarray:
        """Sorted distinct finite values this format can represent."""
        return self.table.grid_values.copy()

    @property
    def max_abs(self) -> float:
        """Largest finite magnitude (the saturation bound)."""
        v = self.table.grid_values
        return float(max(abs(v[0]), abs(v[-1])))

    def decode(self, codes: np.ndarray | int) -> np.ndarray:
        """Value of each code (NaN/inf where the format reserves the code for them)."""
        codes = np.asarray(codes, dtype=np.int64)
        if np.any((codes < 0) | (codes >= (1 << self.bits))):
            raise SpecError(f"{self.name}: codes must lie in 0..{(1 << self.bits) - 1}")
        return self.table.decoded[codes]

    def encode(self, values: np.ndarray | float) -> np.ndarray:
        """Canonical code of each value; every value must be exactly representable."""
        values = np.asarray(values, dtype=np.float64)
        t = self.table
        idx = np.clip(np.searchsorted(t.grid_values, values), 0, len(t.grid_values) - 1)
        ok = t.grid_values[idx] == values
        if not np.all(ok):
            bad = values[~ok].ravel()[0]
            raise SpecError(f"{self.name}: value {bad!r} is not representable; quantize it first")
        return t.grid_codes[idx]

    def quantize_codes(self, x: np.ndarray) -> np.ndarray:
        """Code of the nearest representable value (RNE on ties, saturating)."""
        return self.table.grid_codes[self.table.round_index(x)]

    def quantize(self, x: np.ndarray) -> np.ndarray:
        """Round each element onto the value set (RNE on ties, saturating); NaN stays NaN."""
        x = np.asarray(x, dtype=np.float64)
        out = self.table.grid_values[self.table.round_index(x)]
        return np.where(np.isnan(x), np.nan, out)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} ({self.bits} bits, {len(self.table.grid_values)} values)>"


@dataclass(frozen=True, repr=False)
class TableDatatype(Datatype):
    """A datatype defined directly by its per-code value list (ANT's flint/PoT, BitMoD variants, …).

    `decoded[c]` is the value of code `c`; the list has exactly `2**bits` entries.
    """

    name: str
    bits: int
    decoded: tuple[float, ...]

    def _decode_all(self) -> np.ndarray:
        return np.asarray(self.decoded, dtype=np.float64)

"""Reference model of the online-softmax statistics unit (the spec of `hw/units/online_softmax.py`).

Hardware modelled: the running-max / running-sum recurrence of one-pass ("online") softmax
(Milakov & Gimelshein, "Online normalizer calculation for softmax", 2018) that FlashAttention
(Dao et al., NeurIPS 2022) and FuseMax (Nayak et al., MICRO 2024) use to fuse attention into one
pass. For one query row it consumes scores s_1..s_n and keeps

    m_j = max(m_{j-1}, s_j),    l_j = l_{j-1} * exp(m_{j-1} - m_j) + exp(s_j - m_j),

so at the end l = sum_i exp(s_i - m). Only one exponential is needed per score: if s_j <= m
the correction factor is 1 and the new term is exp(s_j - m); if s_j > m the new term is 1 and the
correction factor is exp(m - s_j). Both are exp(-|s_j - m_{j-1}|).

Number formats (all fixed point, integers below are raw values):

* scores and m: signed `width`-bit two's complement, value = raw / 2**frac_bits;
* exponentials e: unsigned, value = raw / 2**P with P = `EXP_FRAC_BITS` = 16, so 1.0 = 2**16;
* l: unsigned `P + max_row_log2 + 1` bits, value = raw / 2**P, saturating at its maximum.

Exponent approximation exp(-d) = 2**(-y), y = d * log2(e), for d = |s - m| >= 0:

1. y_raw = d_raw * LOG2E_Q, LOG2E_Q = round(log2(e) * 2**16) = 94548 (exact integer product,
   value y = y_raw / 2**(frac_bits + 16));
2. integer part I = y_raw >> (frac_bits + 16), fraction f in [0, 1);
3. 2**(-f) by piecewise-linear interpolation between the 2**SEG_BITS + 1 table points
   T[k] = round(2**(-k / 2**SEG_BITS) * 2**P) (chords): the top SEG_BITS bits of f pick the
   segment k, the next INTERP_BITS bits are r, and g = T[k] - ((T[k] - T[k+1]) * r >> INTERP_BITS);
4. e = g >> I (truncating; 0 once I > P).

Update of l per score (all shifts truncate toward zero):
first score of a row: l = e (= 2**P, since d = 0) and m = s;
s > m: l = ((l * e) >> P) + 2**P and m = s;  otherwise: l = l + e; then l saturates.

Timing: scores enter one per cycle. A score sampled at edge t updates m at edge t (stage A,
which registers |s - m| and the flags), e is registered at edge t+1 (stage B) and l at edge
t+2 (stage C). For a score with `last` set, `done` is high and `ell`, `max` hold the row's
results right after edge t + 2, so `latency_cycles = 2`.

Error of the approximation against float64 (measured by `tests/sim/units/test_units_online_softmax.py`
and `docs/rtl.md`): each chord over-estimates 2**(-f) by at most (ln 2 / 2**SEG_BITS)**2 / 8
relative (about 2.3e-4 for SEG_BITS = 4), plus truncation of at most 2**-16 absolute per term.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

EXP_FRAC_BITS = 16
LOG2E_FRAC_BITS = 16
LOG2E_Q = round(math.log2(math.e) * 2**LOG2E_FRAC_BITS)
SEG_BITS = 4
INTERP_BITS = 8


def exp2_table(seg_bits: int = SEG_BITS, frac_bits: int = EXP_FRAC_BITS) -> tuple[int, ...]:
    """Chord end points T[k] = round(2**(-k / 2**seg_bits) * 2**frac_bits), k = 0..2**seg_bits."""
    n = 1 << seg_bits
    return tuple(round(2.0 ** (-k / n) * 2**frac_bits) for k in range(n + 1))


@dataclass(frozen=True)
class Score:
    """One score of a query row (raw signed fixed point); `first`/`last` delimit the row."""

    value: int
    first: bool = False
    last: bool = False


@dataclass(frozen=True)
class OnlineSoftmaxModel:
    """Bit- and cycle-exact model of the online-softmax (m, l) recurrence in fixed point."""

    width: int = 16
    frac_bits: int = 8
    max_row_log2: int = 16
    ell_rounding: str = "floor"
    table: tuple[int, ...] = field(default_factory=exp2_table)

    def __post_init__(self) -> None:
        if not 4 <= self.width <= 32:
            raise ValueError(f"width must be in 4..32, got {self.width}")
        if not 0 <= self.frac_bits < self.width:
            raise ValueError(f"frac_bits must be in 0..width-1, got {self.frac_bits}")
        if not 1 <= self.max_row_log2 <= 24:
            raise ValueError(f"max_row_log2 must be in 1..24, got {self.max_row_log2}")

    @property
    def latency_cycles(self) -> int:
        return 2

    @property
    def ell_bits(self) -> int:
        return EXP_FRAC_BITS + self.max_row_log2 + 1

    def exp_neg(self, d_raw: int) -> int:
        """Raw e (P fractional bits) approximating exp(-d_raw / 2**frac_bits), d_raw >= 0."""
        low = self.frac_bits + LOG2E_FRAC_BITS
        y = d_raw * LOG2E_Q
        whole = y >> low
        f = y & ((1 << low) - 1)
        seg = f >> (low - SEG_BITS)
        r = (f >> (low - SEG_BITS - INTERP_BITS)) & ((1 << INTERP_BITS) - 1)
        g = self.table[seg] - ((self.table[seg] - self.table[seg + 1]) * r >> INTERP_BITS)
        return g >> whole if whole <= EXP_FRAC_BITS else 0

    def _rescale(self, ell: int, e: int) -> int:
        prod = ell * e
        if self.ell_rounding == "nearest":
            prod += 1 << (EXP_FRAC_BITS - 1)
        return prod >> EXP_FRAC_BITS

    def to_signed(self, raw: int) -> int:
        raw &= (1 << self.width) - 1
        return raw - (1 << self.width) if raw >> (self.width - 1) else raw

    def run(self, stimulus: Sequence[Score | None]) -> tuple[list[tuple[int, int]], list[int]]:
        """Per completed row: (l raw, m raw as unsigned `width`-bit word), and its visible edge."""
        ell_max = (1 << self.ell_bits) - 1
        m = 0
        ell = 0
        outputs: list[tuple[int, int]] = []
        cycles: list[int] = []
        for t, score in enumerate(stimulus):
            if score is None:
                continue
            s = self.to_signed(score.value)
            if score.first:
                m, ell = s, self.exp_neg(0)
            elif s > m:
                ell = self._rescale(ell, self.exp_neg(s - m)) + (1 << EXP_FRAC_BITS)
                m = s
            else:
                ell = ell + self.exp_neg(m - s)
            ell = min(ell, ell_max)
            if score.last:
                outputs.append((ell, m & ((1 << self.width) - 1)))
                cycles.append(t + self.latency_cycles)
        return outputs, cycles

    def row_value(self, scores: Sequence[int]) -> tuple[float, float]:
        """(l, m) as real numbers for one row of raw scores (convenience for error studies)."""
        stim = [Score(v, first=i == 0, last=i == len(scores) - 1) for i, v in enumerate(scores)]
        (ell, m_raw), = self.run(stim)[0]
        return ell / 2**EXP_FRAC_BITS, self.to_signed(m_raw) / 2**self.frac_bits

"""Functional PE models: what each PE computes, with the roundings its datapath makes.

BitMoD PE (Chen et al., HPCA 2025, §IV-B, Fig. 5): each weight arrives as `term_cycles` signed
power-of-two terms (`sim.numerics.terms.unified_terms`); per term-cycle the PE shifts each of its
4 FP16 activations by the term's exponent (exact in FP16 away from under/overflow), negates on
the term's sign, and adds the 4 lane results into the group accumulator. After a group of 128
weights, the bit-serial dequantization unit multiplies the group partial sum by the group's
scale and adds it to the output accumulator. Every addition and the scale multiply round to
FP16 (the model is strict: the hardware's wider internal adder can only be more accurate).

Bit-parallel PEs (FP16×FP16, FP16×INT8, ANT, OliVe): each weight is decoded to its value (ANT's
flint/PoT decoder, OliVe's outlier/victim decoder — both are value tables in `sim.numerics`),
multiplied by the activation with one FP16 rounding, then accumulated in FP16; the per-group
scale is applied the same way as above.

`fp16_error_bound` gives the rigorous bound for the difference from the exact
dequantize-then-multiply result: with u = 2^-11 and N the number of rounded operations on the
longest dependency path, |ŷ − y| ≤ γ_N · Σ|a_i|·|t_i|·s_g, γ_N = N·u / (1 − N·u) (Higham,
"Accuracy and Stability of Numerical Algorithms", 2nd ed., Lemma 3.1 / §3.1).
"""
from __future__ import annotations

import numpy as np

from sim.numerics.terms import unified_terms
from workloads.errors import SpecError

FP16_UNIT_ROUNDOFF = 2.0**-11
LANES = 4


def _h(x) -> np.float16:
    return np.float16(x)


def term_table(dtype) -> dict[int, tuple]:
    """code → its terms, for every finite code of `dtype`."""
    out = {}
    for code in range(2**dtype.bits):
        value = float(dtype.decode(code))
        if np.isfinite(value):
            out[code] = unified_terms(dtype, code)
    return out


def bitserial_dot(acts: np.ndarray, codes: np.ndarray, dtype, scales: np.ndarray, group: int = 128) -> np.float16:
    """BitMoD PE: Σ_g s_g · Σ_{i∈g} a_i · w(code_i), term by term, 4 lanes per cycle, FP16 adds."""
    acts = np.asarray(acts, dtype=np.float16)
    codes = np.asarray(codes)
    if acts.shape != codes.shape or acts.ndim != 1 or acts.size % group:
        raise SpecError("acts and codes must be equal-length vectors, a whole number of groups")
    terms = term_table(dtype)
    out = _h(0)
    for g in range(acts.size // group):
        acc = _h(0)
        for base in range(g * group, (g + 1) * group, LANES):
            lane_terms = [terms[int(c)] for c in codes[base:base + LANES]]
            for t in range(len(lane_terms[0])):
                for lane, ts in enumerate(lane_terms):
                    term = ts[t]
                    if term.coefficient:
                        shifted = _h(float(acts[base + lane]) * 2.0**term.exponent)
                        acc = _h(acc + (shifted if term.coefficient > 0 else -shifted))
        out = _h(out + _h(acc * _h(scales[g])))
    return out


def bitparallel_dot(acts: np.ndarray, weights: np.ndarray, scales: np.ndarray | None = None,
                    group: int = 128) -> np.float16:
    """Bit-parallel PE: FP16 product per weight value, FP16 accumulation, per-group scale."""
    acts = np.asarray(acts, dtype=np.float16)
    w = np.asarray(weights, dtype=float)
    if scales is None:
        scales, group = np.ones(1), acts.size
    out = _h(0)
    for g in range(acts.size // group):
        acc = _h(0)
        for i in range(g * group, (g + 1) * group):
            acc = _h(acc + _h(float(acts[i]) * w[i]))
        out = _h(out + _h(acc * _h(scales[g])))
    return out


def fp16_error_bound(acts: np.ndarray, term_magnitudes: np.ndarray, scales: np.ndarray, group: int,
                     ops_per_group: int) -> float:
    """Higham's bound for a PE that rounds `ops_per_group` times per group on the accumulation
    path, then once for the scale multiply and once for the output add per group.
    `term_magnitudes[i]` = Σ over the weight's terms of |c·2^k| (for a bit-parallel PE, |w_i|)."""
    n_groups = len(acts) // group
    n_ops = ops_per_group + 2 * n_groups + 1
    nu = n_ops * FP16_UNIT_ROUNDOFF
    gamma = nu / (1 - nu)
    mag = np.abs(np.asarray(acts, dtype=float)) * np.asarray(term_magnitudes, dtype=float)
    return float(gamma * (mag.reshape(n_groups, group).sum(axis=1) * np.abs(scales)).sum())

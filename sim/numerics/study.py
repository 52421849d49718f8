"""The weight-quantization study: scheme × bit-width → error over a set of weight matrices.

Schemes (group size g, 128 by default, FP16 scales unless noted) are looked up by name in
`sim.numerics.registry` (one module each in `sim/numerics/schemes/`); the built-in ones:

* ``bitmod`` — per group, the lowest-MSE of BitMoD's four FP variants (HPCA 2025);
* ``int-asym`` — asymmetric INT with a per-group zero point;
* ``fp`` — plain FP (3 bits: E2M0 {0, ±1, ±2, ±4}; 4 bits: E2M1), absmax-scaled;
* ``mxfp`` — OCP MX: 32-element blocks, E8M0 scale (4 bits: MXFP4; 3 bits: the same rule
  over the E2M0 grid, which the spec does not define);
* ``ant`` — ANT: one of int / flint / PoT per tensor (lowest MSE), per-group scales;
* ``olive`` — OliVe outlier-victim pairs, per-group scale searched for lowest MSE;
* ``int-sym`` — symmetric INT ±(2^(b-1) − 1), absmax-scaled.
"""
from __future__ import annotations

from collections import Counter
from typing import Callable, Iterable, Mapping

import numpy as np
import pandas as pd

from sim.numerics import registry
from sim.numerics.metrics import matmul_relative_error
from sim.numerics.quantizers import QuantSpec, Quantized
from workloads.errors import SpecError

SCHEMES = registry.names()  # every module of sim/numerics/schemes/, in study order
STUDY_BITS = (3, 4)
MATMUL_TOKENS = 64


def quantize_scheme(w: np.ndarray, scheme: str, bits: int, group_size: int = 128) -> Quantized:
    """Quantize one (out, in) matrix with a registered scheme (`sim.numerics.registry`)."""
    entry = registry.scheme(scheme)
    if bits not in entry.bits:
        raise SpecError(f"bits must be one of {', '.join(map(str, entry.bits))}, got {bits}")
    return entry.quantize(w, bits, QuantSpec("group", group_size, "fp16"))


def run_study(
    weights: Mapping[str, np.ndarray],
    schemes: Iterable[str] = SCHEMES,
    bits: Iterable[int] = STUDY_BITS,
    group_size: int = 128,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """One row per (scheme, bits): pooled normalized MSE, SQNR, mean matmul error, type shares.

    Normalized MSE is pooled over all matrices, Σ‖W − Q(W)‖² / Σ‖W‖². The matmul error is the mean
    over matrices of ‖X·Q(W)ᵀ − X·Wᵀ‖/‖X·Wᵀ‖ with X a seeded N(0, 1) batch of 64 tokens.
    `shares` maps each chosen datatype to its fraction of groups (BitMoD) or of tensors (ANT).
    `progress`, when given, is called with a short message before each (scheme, bits) cell.
    """
    rng = np.random.default_rng(seed)
    xs = {n: rng.standard_normal((MATMUL_TOKENS, w.shape[1])) for n, w in weights.items()}
    rows = []
    for b in bits:
        for scheme in schemes:
            if progress is not None:
                progress(f"{scheme} at {b} bits")
            err = energy = 0.0
            mm = []
            counts: Counter[str] = Counter()
            groups = 0
            for name, w in weights.items():
                w64 = np.asarray(w, dtype=np.float64)
                q = quantize_scheme(w64, scheme, b, group_size)
                err += float(np.sum((w64 - q.dequantized) ** 2))
                energy += float(np.sum(w64**2))
                mm.append(matmul_relative_error(xs[name], w64, q.dequantized))
                if q.choice is not None:
                    if registry.scheme(scheme).choice == "tensor":
                        counts[q.candidates[int(q.choice.ravel()[0])]] += 1
                        groups += 1
                    else:
                        for k, c in enumerate(np.bincount(q.choice.ravel(), minlength=len(q.candidates))):
                            counts[q.candidates[k]] += int(c)
                        groups += q.choice.size
            nmse = err / energy
            rows.append(
                {
                    "scheme": scheme,
                    "bits": b,
                    "group": registry.scheme(scheme).block_size or group_size,
                    "nmse": nmse,
                    "sqnr_db": -10.0 * np.log10(nmse),
                    "matmul_rel_err": float(np.mean(mm)),
                    "shares": {k: v / groups for k, v in sorted(counts.items())} if groups else {},
                }
            )
    return pd.DataFrame(rows)

"""Quantizer throughput: 128-weight groups quantized per wall-clock second by BitMoD's per-group
selection (4 candidates), symmetric FP4, asymmetric INT4, MXFP4 and OliVe, on a seeded Gaussian
2048×2048 weight matrix (32,768 groups of 128), float64 numpy on one core."""
from __future__ import annotations

import time

import numpy as np

from sim.numerics.floating import FP4_E2M1
from sim.numerics.mx import MXFP4
from sim.numerics.quantizers import (
    bitmod_select,
    quantize_int_asymmetric,
    quantize_mx,
    quantize_olive,
    quantize_symmetric,
)

SHAPE = (2048, 2048)
GROUP = 128


def run() -> list[dict]:
    w = np.random.default_rng(0).standard_normal(SHAPE)
    groups = w.size / GROUP
    cases = {
        "quant_bitmod4_select": lambda: bitmod_select(w, 4),
        "quant_fp4_symmetric": lambda: quantize_symmetric(w, FP4_E2M1),
        "quant_int4_asymmetric": lambda: quantize_int_asymmetric(w, 4),
        "quant_mxfp4": lambda: quantize_mx(w, MXFP4),
        "quant_olive4": lambda: quantize_olive(w, 4),
    }
    rows: list[dict] = []
    for name, fn in cases.items():
        start = time.perf_counter()
        fn()
        wall = time.perf_counter() - start
        rows.append({"benchmark": name, "metric": "groups_per_s", "value": groups / wall, "unit": "groups/s"})
        rows.append({"benchmark": name, "metric": "weights_per_s", "value": w.size / wall, "unit": "weights/s"})
    return rows

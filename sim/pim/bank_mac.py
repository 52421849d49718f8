"""Functional model of AiM in-bank MACs through PIM-GPT's GEMV mapping.

Per bank and column access: 16 lanes multiply BF16 weights by the BF16 global-buffer values,
exactly (a BF16 x BF16 product fits FP32), sum them in a binary adder tree in FP32 (pairs
(0,1),(2,3),..., then pairs of those), and add the tree's sum into an FP32 accumulator. RD_MAC
returns the accumulator; partial sums of successive GB chunks are added in FP32 on the ASIC.
Rows are placed as `mappers.pim.gemv_tiles` places them (row o on channel o % C).
"""
from __future__ import annotations

import numpy as np


def to_bf16(x: np.ndarray) -> np.ndarray:
    """Round float32 values to BF16 (round to nearest even), returned as float32."""
    bits = np.asarray(x, dtype=np.float32).view(np.uint32)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return rounded.astype(np.uint32).view(np.float32)


def _tree_sum(products: np.ndarray) -> np.ndarray:
    v = products.astype(np.float32)
    while v.shape[-1] > 1:
        v = (v[..., 0::2] + v[..., 1::2]).astype(np.float32)
    return v[..., 0]


def pim_gemv(weights: np.ndarray, x: np.ndarray, channels: int = 8, banks: int = 16,
             lanes: int = 16, chunk: int = 1024) -> np.ndarray:
    """y = W x as the PIM banks compute it (BF16 inputs, FP32 tree and accumulators)."""
    w = to_bf16(weights)
    v = to_bf16(x)
    out_rows, in_len = w.shape
    y = np.zeros(out_rows, dtype=np.float32)
    for ch in range(channels):
        rows = np.arange(ch, out_rows, channels)
        for g in range(0, len(rows), banks):
            bank_rows = rows[g:g + banks]
            for s in range(0, in_len, chunk):
                acc = np.zeros(len(bank_rows), dtype=np.float32)
                seg_w = w[bank_rows, s:s + chunk]
                seg_v = v[s:s + chunk]
                pad = (-seg_w.shape[1]) % lanes
                seg_w = np.pad(seg_w, ((0, 0), (0, pad)))
                seg_v = np.pad(seg_v, (0, pad))
                for col in range(0, seg_w.shape[1], lanes):
                    prod = seg_w[:, col:col + lanes] * seg_v[col:col + lanes]
                    acc = (acc + _tree_sum(prod)).astype(np.float32)
                y[bank_rows] = (y[bank_rows] + acc).astype(np.float32)
    return y

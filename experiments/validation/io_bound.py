"""FlashAttention-2's searched tiling against the I/O lower bound of attention (Saha & Ye, ICML
2024, with the constants of docs/attention.md, "Lower bound"): one head, fp16, non-causal, the
table of docs/attention.md ("How close the chosen tiling gets"). Claimed: within 1.2x of the bound
(and never below it) wherever N >= 16 R or N < R, R = M / (2 d b) rows; the band R <= N < 16 R is
reported (docs/validation.md, "FA-2 traffic vs the I/O lower bound")."""
from __future__ import annotations

from experiments.validation.row import Row

NAME = "fa2-io-bound"
BYTES = 2  # fp16
TOLERANCE = 0.2  # "within 1.2x" (docs/attention.md)
BAND_NOTE = "R <= N < 16R: docs/attention.md#how-close-the-chosen-tiling-gets-and-where-12-is-not-reachable"
FAST_HEAD_DIMS = (64,)
FAST_BUFFERS_KIB = (64, 1024)
HEAD_DIMS = (64, 128)


def size(n: int) -> str:
    """1024 -> 1K, 65536 -> 64K, 1 << 20 -> 1M (KiB / MiB for a buffer's bytes)."""
    return f"{n >> 20}M" if n >= 1 << 20 else f"{n >> 10}K"


def claimed(n: int, buffer_bytes: int, head_dim: int) -> bool:
    r = buffer_bytes // (2 * head_dim * BYTES)
    return n >= 16 * r or n < r


def rows(fast: bool) -> list[Row]:
    from experiments.reproductions.fusemax import FA2_BUFFERS_KIB, FA2_SEQ_LENS
    from mappers.attention import AttentionLayer, search_design

    out = []
    for d in FAST_HEAD_DIMS if fast else HEAD_DIMS:
        for kib in FAST_BUFFERS_KIB if fast else FA2_BUFFERS_KIB:
            for n in FA2_SEQ_LENS:
                res = search_design("flashattention2", AttentionLayer(n_q=n, n_kv=n, head_dim=d), kib * 1024)
                ok = claimed(n, kib * 1024, d)
                out.append(Row(NAME, f"d={d}, M={size(kib * 1024)}iB, N={size(n)}: FA-2 traffic / lower bound (B)",
                               float(res.traffic.total_bytes), float(res.bound.lower_bound_bytes), TOLERANCE, ok,
                               "" if ok else BAND_NOTE, bound=True))
    return out

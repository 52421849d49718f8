"""Attention as extended-Einsum cascades: 3-pass, 2-pass and 1-pass softmax (FuseMax,
Nayak et al., MICRO 2024, Cascades 3-5; the 1-pass one is FlashAttention's online softmax).

Ranks: B batch, P query positions, M key positions, G key/value heads, J query heads per
key/value head (grouped-query attention; J=1 is multi-head attention), E query/key head
dimension, F value head dimension. The 2- and 1-pass cascades partition M into M1 outer blocks
of M0 = `block` keys: `m = m1*M0 + m0`; when `block` does not divide M, the last block is
padded (K and V read as 0 there) and the padded scores are masked.

Inputs: Q[B,P,G,J,E], K[B,M,G,E], V[B,M,G,F] (K and V may carry any rank name for M).
Output: AV[B,P,G,J,F], the attention output before the output projection.
"""
from __future__ import annotations

import math

from .errors import SpecError
from .ir import CascadeBuilder, Unary, mask, scale, unary

VARIANTS = ("3pass", "2pass", "1pass")

# The 2-pass cascade subtracts per-block maxima; a block whose scores are all masked would
# give exp(-inf - (-inf)). As with PyTorch's finfo.min masking, it masks with a large finite
# negative instead, which contributes exactly 0 after the global-max correction.
_FINITE_MASK = -1e30


def add_attention(
    b: CascadeBuilder,
    prefix: str,
    *,
    variant: str,
    q: str,
    k: str,
    v: str,
    causal: bool,
    q_offset: int = 0,
    block: int = 64,
    group: str = "attention",
    layer: int | None = None,
    scores: list[Unary] | None = None,
    bias: str | None = None,
) -> str:
    """Append the attention cascade to `b`; return the name of its output tensor AV.

    `scores`: the pointwise operators applied to the raw scores Q.K before any mask; by default
    the scale 1/sqrt(E) (Gemma-2: its own scale, then the soft-cap scale, tanh, scale).
    `bias`: a tensor [G,J,M,P] added to the scores after those operators and before any mask
    (T5's relative position bias); the raw scores are then `{prefix}QKR`."""
    if variant not in VARIANTS:
        raise SpecError(f"unknown attention variant {variant!r}; allowed: {', '.join(VARIANTS)}")
    n_q, n_kv = b.rank_sizes["P"], b.rank_sizes["M"]
    needs_causal = causal and n_q + q_offset - 1 > q_offset and n_kv > 1 + q_offset
    tags = {"group": group, "layer": layer}
    sm = list(scores) if scores is not None else [scale(1.0 / math.sqrt(b.rank_sizes["E"]))]
    if variant == "3pass":
        masks = [mask("M", f"P+{q_offset}")] if needs_causal else []
        if bias is not None:
            add_score_bias(b, prefix, q, k, "M", sm, masks, bias, tags)
            return add_three_pass(b, prefix, q, k, v, [], tags, biased=True)
        return add_three_pass(b, prefix, q, k, v, sm + masks, tags)
    if block < 1:
        raise SpecError(f"attention block size {block}; must be >= 1")
    m1 = add_blocked_scores(b, prefix, q, k, v, block, sm, needs_causal, q_offset,
                            _FINITE_MASK if variant == "2pass" else -math.inf, tags, bias)
    if variant == "2pass":
        return add_two_pass(b, prefix, tags)
    return add_one_pass(b, prefix, m1, tags)


def add_score_bias(b: CascadeBuilder, prefix: str, q: str, k: str, key: str, sm: list[Unary],
                   masks: list[Unary], bias: str, tags: dict) -> None:
    """Raw scores QKR (with the operators `sm`), then QK = QKR + bias[G,J,key,P] (read as 0 past
    the keys, for a padded partition) with the masks; `key` is `M` or `M1*M0size+M0`."""
    out = "B,G,J,M,P" if key == "M" else "B,G,J,M1,M0,P"
    kin = f"{k}[B,M,G,E]" if key == "M" else f"{prefix}BK[B,M1,M0,G,E]"
    b.einsum(f"{prefix}QKR", f"{prefix}QKR[{out}] = {q}[B,P,G,J,E] * {kin}", post=sm, **tags)
    b.einsum(f"{prefix}QK", f"{prefix}QK[{out}] = {prefix}QKR[{out}] + {bias}[G,J,{key},P]", post=masks,
             fills={bias: 0.0}, note="relative position bias", **tags)


def add_three_pass(b: CascadeBuilder, prefix: str, q: str, k: str, v: str, post: list[Unary],
                   tags: dict, biased: bool = False) -> str:
    """FuseMax Cascade 3: scores and their global max, then exp and its sum, then normalise
    and multiply by V, each pass over all M keys (`biased`: the scores QK are already built)."""
    if not biased:
        b.einsum(f"{prefix}QK", f"{prefix}QK[B,G,J,M,P] = {q}[B,P,G,J,E] * {k}[B,M,G,E]", post=post, note="pass 1", **tags)
    b.einsum(f"{prefix}GM", f"{prefix}GM[B,G,J,P] = {prefix}QK[B,G,J,M,P]", reduce_op="max", note="pass 1", **tags)
    b.einsum(f"{prefix}SN", f"{prefix}SN[B,G,J,M,P] = {prefix}QK[B,G,J,M,P] - {prefix}GM[B,G,J,P]", pre=[unary("exp")], note="pass 2", **tags)
    b.einsum(f"{prefix}SD", f"{prefix}SD[B,G,J,P] = {prefix}SN[B,G,J,M,P]", reduce_op="sum", note="pass 2", **tags)
    b.einsum(f"{prefix}A", f"{prefix}A[B,G,J,M,P] = {prefix}SN[B,G,J,M,P] / {prefix}SD[B,G,J,P]", note="pass 3", **tags)
    b.einsum(f"{prefix}AV", f"{prefix}AV[B,P,G,J,F] = {prefix}A[B,G,J,M,P] * {v}[B,M,G,F]", note="pass 3", **tags)
    return f"{prefix}AV"


def add_blocked_scores(b: CascadeBuilder, prefix: str, q: str, k: str, v: str, block: int,
                       sm: list[Unary], needs_causal: bool, q_offset: int, fill_value: float,
                       tags: dict, bias: str | None = None) -> int:
    """Partition M into M1 blocks of M0 keys (K and V padded with 0), the masked scaled scores
    QK and each block's local max LM; return M1."""
    n_kv = b.rank_sizes["M"]
    m0 = min(block, n_kv)
    m1 = -(-n_kv // m0)
    b.rank("M0", m0)
    b.rank("M1", m1)
    key = f"M1*{m0}+M0"
    post = list(sm)
    if needs_causal:
        post.append(mask(key, f"P+{q_offset}", fill_value))
    if m1 * m0 != n_kv:
        post.append(mask(key, str(n_kv - 1), fill_value))
    pad = {k: 0.0, v: 0.0}
    b.einsum(f"{prefix}BK", f"{prefix}BK[B,M1,M0,G,E] = {k}[B,{key},G,E]", fills=pad, note="partition M", **tags)
    b.einsum(f"{prefix}BV", f"{prefix}BV[B,M1,M0,G,F] = {v}[B,{key},G,F]", fills=pad, note="partition M", **tags)
    if bias is not None:
        add_score_bias(b, prefix, q, k, key, list(sm), post[len(sm):], bias, tags)
    else:
        b.einsum(f"{prefix}QK", f"{prefix}QK[B,G,J,M1,M0,P] = {q}[B,P,G,J,E] * {prefix}BK[B,M1,M0,G,E]", post=post, **tags)
    b.einsum(f"{prefix}LM", f"{prefix}LM[B,G,J,M1,P] = {prefix}QK[B,G,J,M1,M0,P]", reduce_op="max", **tags)
    return m1


def add_two_pass(b: CascadeBuilder, prefix: str, tags: dict) -> str:
    """FuseMax Cascade 4: per-block exp sums rescaled to the global max (pass 1), then
    normalise and multiply by V (pass 2)."""
    exp = [unary("exp")]
    b.einsum(f"{prefix}SLN", f"{prefix}SLN[B,G,J,M1,M0,P] = {prefix}QK[B,G,J,M1,M0,P] - {prefix}LM[B,G,J,M1,P]", pre=exp, note="pass 1", **tags)
    b.einsum(f"{prefix}SLD", f"{prefix}SLD[B,G,J,M1,P] = {prefix}SLN[B,G,J,M1,M0,P]", reduce_op="sum", note="pass 1", **tags)
    b.einsum(f"{prefix}GM", f"{prefix}GM[B,G,J,P] = {prefix}LM[B,G,J,M1,P]", reduce_op="max", note="pass 1", **tags)
    b.einsum(f"{prefix}PRM", f"{prefix}PRM[B,G,J,M1,P] = {prefix}LM[B,G,J,M1,P] - {prefix}GM[B,G,J,P]", pre=exp, note="pass 1", **tags)
    b.einsum(f"{prefix}SPD", f"{prefix}SPD[B,G,J,M1,P] = {prefix}SLD[B,G,J,M1,P] * {prefix}PRM[B,G,J,M1,P]", note="pass 1", **tags)
    b.einsum(f"{prefix}SD", f"{prefix}SD[B,G,J,P] = {prefix}SPD[B,G,J,M1,P]", reduce_op="sum", note="pass 1", **tags)
    b.einsum(f"{prefix}SN", f"{prefix}SN[B,G,J,M1,M0,P] = {prefix}QK[B,G,J,M1,M0,P] - {prefix}GM[B,G,J,P]", pre=exp, note="pass 2", **tags)
    b.einsum(f"{prefix}A", f"{prefix}A[B,G,J,M1,M0,P] = {prefix}SN[B,G,J,M1,M0,P] / {prefix}SD[B,G,J,P]", note="pass 2", **tags)
    b.einsum(f"{prefix}AV", f"{prefix}AV[B,P,G,J,F] = {prefix}A[B,G,J,M1,M0,P] * {prefix}BV[B,M1,M0,G,F]", note="pass 2", **tags)
    return f"{prefix}AV"


def add_one_pass(b: CascadeBuilder, prefix: str, m1: int, tags: dict) -> str:
    """FuseMax Cascade 5 (FlashAttention's online softmax): a recurrence over M1 carrying the
    running max, denominator and numerator, each rescaled when the max grows."""
    sizes = b.rank_sizes
    step = {r: sizes[r] for r in ("B", "G", "J", "P")}
    run_shape = (step["B"], step["G"], step["J"], m1 + 1, step["P"])
    exp = [unary("exp")]
    b.tensor(f"{prefix}RM", "B,G,J,M1,P", shape=run_shape, init=-math.inf)
    b.tensor(f"{prefix}RD", "B,G,J,M1,P", shape=run_shape, init=0.0)
    b.tensor(f"{prefix}RNV", "B,G,J,M1,F,P", shape=run_shape[:4] + (sizes["F"], step["P"]), init=0.0)
    b.einsum(f"{prefix}RM", f"{prefix}RM[B,G,J,M1+1,P] = max({prefix}RM[B,G,J,M1,P], {prefix}LM[B,G,J,M1,P])", note="running max", **tags)
    b.einsum(f"{prefix}SLN", f"{prefix}SLN[B,G,J,M1,M0,P] = {prefix}QK[B,G,J,M1,M0,P] - {prefix}RM[B,G,J,M1+1,P]", pre=exp, **tags)
    b.einsum(f"{prefix}SLD", f"{prefix}SLD[B,G,J,M1,P] = {prefix}SLN[B,G,J,M1,M0,P]", reduce_op="sum", **tags)
    b.einsum(f"{prefix}SLNV", f"{prefix}SLNV[B,G,J,M1,F,P] = {prefix}SLN[B,G,J,M1,M0,P] * {prefix}BV[B,M1,M0,G,F]", **tags)
    b.einsum(f"{prefix}PRM", f"{prefix}PRM[B,G,J,M1,P] = {prefix}RM[B,G,J,M1,P] - {prefix}RM[B,G,J,M1+1,P]", pre=exp, note="correction factor", **tags)
    b.einsum(f"{prefix}SPD", f"{prefix}SPD[B,G,J,M1,P] = {prefix}RD[B,G,J,M1,P] * {prefix}PRM[B,G,J,M1,P]", **tags)
    b.einsum(f"{prefix}RD", f"{prefix}RD[B,G,J,M1+1,P] = {prefix}SLD[B,G,J,M1,P] + {prefix}SPD[B,G,J,M1,P]", note="running denominator", **tags)
    b.einsum(f"{prefix}SPNV", f"{prefix}SPNV[B,G,J,M1,F,P] = {prefix}RNV[B,G,J,M1,F,P] * {prefix}PRM[B,G,J,M1,P]", **tags)
    b.einsum(f"{prefix}RNV", f"{prefix}RNV[B,G,J,M1+1,F,P] = {prefix}SLNV[B,G,J,M1,F,P] + {prefix}SPNV[B,G,J,M1,F,P]", note="running numerator", **tags)
    b.einsum(f"{prefix}AV", f"{prefix}AV[B,P,G,J,F] = {prefix}RNV[B,G,J,{m1},F,P] / {prefix}RD[B,G,J,{m1},P]", **tags)
    return f"{prefix}AV"

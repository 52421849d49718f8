"""Matrix Einsums of a cascade as batched GEMMs.

A matrix Einsum (``macs > 0`` in groups qkv, proj, mlp, lm_head, attention) has two inputs.
The *static* operand is the weight tensor (role ``weight``); for the attention matmuls, which
have no weight, it is the K cache (QK) or V cache (AV), i.e. the second input — the operand
BitMoD's simulator also treats as the "weight" side of the array. Ranks are classified as

* reduced (`k`): the Einsum's reduced ranks;
* batch: non-reduced ranks present in both inputs (attention heads, batch);
* out (`n`): non-reduced ranks only in the static operand (output channels, or K/V positions);
* tokens (`m`): non-reduced ranks only in the streamed operand (tokens, query heads per group).

An attention GEMM also carries its `sim.bitserial.shape.AttentionOperands`: its role (a layer's
first attention matmul is QK, the second AV — the convention of `mappers.attention.cascade`) and,
from that layer's attention shape, the query tokens, heads and K/V heads per sequence, which the
paper's accounting needs (`sim.bitserial.paper.published_attention`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

from mappers.attention.cascade import attention_shapes
from sim.bitserial.shape import ROLES, AttentionOperands
from workloads import get_model, lower
from workloads.errors import SpecError

MATRIX_GROUPS = ("qkv", "proj", "mlp", "lm_head", "attention")


@dataclass(frozen=True)
class Gemm:
    """One matrix Einsum: `batch` independent products (m × k) · (k × n)."""

    name: str
    group: str
    layer: int | None
    batch: int
    m_tokens: int
    k_reduce: int
    n_out: int
    attention: AttentionOperands | None = None

    @property
    def key(self) -> tuple:
        """What the cost depends on: GEMMs with equal keys cost the same."""
        return (self.batch, self.m_tokens, self.k_reduce, self.n_out, self.is_attention, self.attention)

    @property
    def is_attention(self) -> bool:
        return self.group == "attention"

    @property
    def macs(self) -> int:
        return self.batch * self.m_tokens * self.k_reduce * self.n_out


def _size(ranks, sizes) -> int:
    return math.prod(sizes[r] for r in ranks)


def attention_operands(einsum, seen: dict[int, int], shapes: dict) -> AttentionOperands:
    """The role and per-sequence heads of the attention matmul `einsum` (the `seen[layer]`-th of
    its layer so far: QK first, then AV)."""
    index = seen.get(einsum.layer, 0)
    seen[einsum.layer] = index + 1
    if einsum.layer not in shapes or index >= len(ROLES):
        raise SpecError(f"{einsum.name}: expected one QK and one AV attention matmul per layer")
    shape = shapes[einsum.layer]
    return AttentionOperands(ROLES[index], shape.n_q, shape.heads, shape.kv_heads)


def extract_gemms(cascade) -> list[Gemm]:
    """The matrix Einsums of `cascade`, in cascade order, as `Gemm`s (MACs preserved)."""
    sizes = cascade.rank_sizes
    out: list[Gemm] = []
    shapes: dict | None = None
    seen: dict[int, int] = {}
    for einsum, stats in zip(cascade.einsums, cascade.stats):
        if stats.macs <= 0 or einsum.group not in MATRIX_GROUPS:
            continue
        if len(einsum.inputs) != 2:
            raise SpecError(f"{einsum.name}: a matrix Einsum needs two inputs, has {len(einsum.inputs)}")
        a, b = einsum.inputs
        if cascade.tensors[a.tensor].role == "weight":
            a, b = b, a
        reduced = set(einsum.reduced_ranks)
        ra, rb = set(a.ranks) - reduced, set(b.ranks) - reduced
        gemm = Gemm(
            name=einsum.name,
            group=einsum.group,
            layer=einsum.layer,
            batch=_size(sorted(ra & rb), sizes),
            m_tokens=_size(sorted(ra - rb), sizes),
            k_reduce=_size(sorted(reduced), sizes),
            n_out=_size(sorted(rb - ra), sizes),
        )
        if gemm.is_attention:
            shapes = attention_shapes(cascade) if shapes is None else shapes
            gemm = replace(gemm, attention=attention_operands(einsum, seen, shapes))
        if gemm.macs != stats.macs:
            raise SpecError(f"{einsum.name}: GEMM view has {gemm.macs} MACs, the cascade counts {stats.macs}")
        out.append(gemm)
    return out


@lru_cache(maxsize=64)
def model_gemms(model: str, phase: str, seq_len: int = 256, layers: int | None = None) -> tuple[Gemm, ...]:
    """The matrix Einsums of `model` for `phase` (prefill of `seq_len` tokens, or one decode
    token at a `seq_len`-token context), batch 1."""
    spec = get_model(model)
    if phase == "prefill":
        cascade = lower(spec, "prefill", batch=1, seq_len=seq_len, layers=layers)
    elif phase == "decode":
        cascade = lower(spec, "decode", batch=1, seq_len=1, kv_len=seq_len - 1, layers=layers)
    else:
        raise SpecError(f"phase {phase!r} is not known; choose prefill or decode")
    return tuple(extract_gemms(cascade))

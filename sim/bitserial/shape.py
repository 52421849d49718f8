"""The GEMM shape the array models consume (a `mappers.bitserial.Gemm` satisfies it)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from workloads.errors import SpecError

ROLES = ("qk", "av")


@dataclass(frozen=True)
class AttentionOperands:
    """What an attention matmul is beyond its GEMM shape: `role` ``"qk"`` (scores = Q·Kᵀ) or
    ``"av"`` (outputs = scores·V), and per sequence the query tokens, query heads and K/V heads.
    The paper's accounting (`sim.bitserial.paper.published_attention`) costs the attention matmuls
    in these terms, not per head."""

    role: str
    queries: int
    heads: int
    kv_heads: int

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise SpecError(f"attention role {self.role!r} is not known; choose one of: {', '.join(ROLES)}")
        if min(self.queries, self.heads, self.kv_heads) < 1 or self.heads % self.kv_heads:
            raise SpecError(f"attention operands {self}: queries, heads, kv_heads must be positive and "
                            "heads a multiple of kv_heads")


class GemmShape(Protocol):
    """`batch` independent products (m_tokens × k_reduce) · (k_reduce × n_out); the n side is
    the static operand (weights, or the K/V cache when `is_attention`); `attention` says which
    attention matmul it is (None for a weight GEMM)."""

    batch: int
    m_tokens: int
    k_reduce: int
    n_out: int
    attention: AttentionOperands | None

    @property
    def is_attention(self) -> bool: ...

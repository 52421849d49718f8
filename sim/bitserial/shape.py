"""The GEMM shape the array models consume (a `mappers.bitserial.Gemm` satisfies it)."""
from __future__ import annotations

from typing import Protocol


class GemmShape(Protocol):
    """`batch` independent products (m_tokens × k_reduce) · (k_reduce × n_out); the n side is
    the static operand (weights, or the K/V cache when `is_attention`)."""

    batch: int
    m_tokens: int
    k_reduce: int
    n_out: int

    @property
    def is_attention(self) -> bool: ...

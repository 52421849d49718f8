"""Tensors of a cascade: named ranks, a shape and a datatype."""
from __future__ import annotations

from dataclasses import dataclass

from ..dtypes import bits
from ..errors import SpecError


@dataclass(frozen=True)
class TensorSpec:
    """A tensor with one named rank per dimension.

    `init` is the value of every element before any Einsum writes it; it is what an iterative
    rank's step 0 reads (FuseMax's RM[0,p] = -inf, RD[0,p] = 0). `role` says where the tensor
    lives in a model: "weight", "input" (tokens, masks, tables), "activation", or "kv_cache".
    `lookup` marks a table read through a window of positions (learned position embeddings,
    RoPE tables), whose size may exceed the iteration rank that indexes it.
    """

    name: str
    ranks: tuple[str, ...]
    shape: tuple[int, ...]
    dtype: str = "fp16"
    role: str = "activation"
    init: float | None = None
    lookup: bool = False

    def __post_init__(self) -> None:
        if len(self.ranks) != len(self.shape):
            raise SpecError(f"tensor {self.name}: {len(self.ranks)} ranks but {len(self.shape)} sizes")
        if len(set(self.ranks)) != len(self.ranks):
            raise SpecError(f"tensor {self.name}: repeated rank in {self.ranks}")
        for rank, size in zip(self.ranks, self.shape):
            if size < 1:
                raise SpecError(f"tensor {self.name}: rank {rank} has size {size}; must be >= 1")
        bits(self.dtype)

    @property
    def elements(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n

    @property
    def bytes(self) -> float:
        return self.elements * bits(self.dtype) / 8

    def size_of(self, rank: str) -> int:
        return self.shape[self.ranks.index(rank)]

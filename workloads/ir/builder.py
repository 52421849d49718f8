"""A small builder that assembles a validated Cascade from FuseMax-style Einsum strings."""
from __future__ import annotations

from ..errors import SpecError
from .cascade import Cascade
from .einsum import Einsum, parse_einsum
from .tensor import TensorSpec


class CascadeBuilder:
    """Collects ranks, tensors and Einsums; `build()` returns the validated Cascade.

    Output tensors of Einsums are declared on the fly from their plain output ranks with the
    builder's current `dtype`; iterative tensors (written at `M1+1`) are declared explicitly.
    """

    def __init__(self, name: str, dtype: str = "fp16") -> None:
        self.name = name
        self.dtype = dtype
        self.rank_sizes: dict[str, int] = {}
        self.tensors: dict[str, TensorSpec] = {}
        self.einsums: list[Einsum] = []
        self.outputs: list[str] = []
        self.defaults: dict = {}

    def rank(self, name: str, size: int) -> str:
        if size < 1:
            raise SpecError(f"rank {name} has size {size}; must be >= 1")
        if self.rank_sizes.get(name, size) != size:
            raise SpecError(f"rank {name} declared with sizes {self.rank_sizes[name]} and {size}")
        self.rank_sizes[name] = size
        return name

    def tensor(
        self,
        name: str,
        ranks: str | tuple[str, ...],
        *,
        shape: tuple[int, ...] | None = None,
        dtype: str | None = None,
        role: str = "activation",
        init: float | None = None,
        lookup: bool = False,
    ) -> str:
        ranks = tuple(r.strip() for r in ranks.split(",")) if isinstance(ranks, str) else tuple(ranks)
        if shape is None:
            shape = tuple(self.rank_sizes[r] for r in ranks)
        spec = TensorSpec(name, ranks, tuple(shape), dtype or self.dtype, role, init, lookup)
        if name in self.tensors and self.tensors[name] != spec:
            raise SpecError(f"tensor {name} declared twice with different specs")
        self.tensors[name] = spec
        return name

    def einsum(self, name: str, text: str, *, dtype: str | None = None, **fields) -> Einsum:
        e = parse_einsum(name, text, **{**self.defaults, **fields})
        self._declare_output(e, dtype)
        self.einsums.append(e)
        return e

    def add(self, einsum: Einsum, dtype: str | None = None) -> Einsum:
        self._declare_output(einsum, dtype)
        self.einsums.append(einsum)
        return einsum

    def _declare_output(self, e: Einsum, dtype: str | None) -> None:
        out = e.output.tensor
        if out in self.tensors:
            return
        ranks = [expr.plain_rank for expr in e.output.index]
        if None in ranks:
            raise SpecError(f"Einsum {e.name}: declare tensor {out} before writing it through {e.output}")
        self.tensor(out, tuple(ranks), dtype=dtype)

    def output(self, *names: str) -> None:
        self.outputs.extend(names)

    def build(self, meta: dict | None = None) -> Cascade:
        return Cascade(
            name=self.name,
            tensors=dict(self.tensors),
            einsums=tuple(self.einsums),
            rank_sizes=dict(self.rank_sizes),
            outputs=tuple(self.outputs),
            meta=dict(meta or {}),
        )

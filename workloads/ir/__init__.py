"""The extended-Einsum IR: tensors with named ranks, Einsums, cascades."""
from .cascade import Cascade
from .einsum import Access, Einsum, gather, parse_access, parse_einsum
from .index import Affine
from .ops import Unary, mask, offset, scale, unary
from .stats import EinsumStats
from .tensor import TensorSpec

__all__ = [
    "Access", "Affine", "CascadeBuilder", "Cascade", "Einsum", "EinsumStats", "TensorSpec", "Unary",
    "gather", "mask", "offset", "parse_access", "parse_einsum", "scale", "unary",
]
from .builder import CascadeBuilder

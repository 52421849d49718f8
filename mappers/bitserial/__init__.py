"""Mapping glue for the bit-serial PE-array model (`sim.bitserial`).

* `gemm` — every matrix Einsum of a cascade (linear layers, LM head, QK and AV) as a batched
  GEMM `batch × (tokens × k) · (k × out)`, with the static operand (weights, or the K/V cache
  for attention) on the `out` side;
* `schedule` — the buffer-level tile schedule the array model steps through.
"""
from mappers.bitserial.gemm import Gemm, extract_gemms
from mappers.bitserial.schedule import Step, buffer_blocks, tile_schedule

__all__ = ["Gemm", "Step", "buffer_blocks", "extract_gemms", "tile_schedule"]

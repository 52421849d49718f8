"""Mapping onto the bit-serial PE-array model (`sim.bitserial`).

The family's contract: `map(cascade, accel, strategy="output-stationary", mode="paper"|"cycle")
-> sim.contract.Mapping` (`mapping`). Modules:

* `gemm` — every matrix Einsum of a cascade (linear layers, LM head, QK and AV) as a batched
  GEMM `batch × (tokens × k) · (k × out)`, with the static operand (weights, or the K/V cache
  for attention) on the `out` side;
* `schedule` — the buffer-level tile schedule the array model steps through, and the
  `sim.bitserial.plan.GemmPlan` that carries it;
* `mapping` — `map`: matrix Einsums to the PE array with their plans, vector Einsums to the host.
"""
from mappers.bitserial.gemm import Gemm, extract_gemms, model_gemms
from mappers.bitserial.mapping import STRATEGIES, map
from mappers.bitserial.schedule import Step, buffer_blocks, gemm_plan, tile_schedule

__all__ = ["STRATEGIES", "Gemm", "Step", "buffer_blocks", "extract_gemms", "gemm_plan", "map", "model_gemms",
           "tile_schedule"]

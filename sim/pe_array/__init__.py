"""PE arrays as loop nests: the mapping model the mapspace search scores (`mappers.mapspace`).

* `spec` — storage levels, spatial fan-out, MAC rate; adapters from the roofline and bit-serial
  families' specs;
* `nest` — the problem (ranks, tensors) and the loop nest (temporal loops per level, spatial
  loops at the fan-out);
* `cost` — traffic per level from the nest (Timeloop/ZigZag reuse rules), latency and energy;
* `systolic` — SCALE-Sim's fill/drain closed form;
* `simulate` — the roofline family's `search` mapping: matrix Einsums costed by their nests;
* `fusion` — `search-fused`'s plan: DRAM bytes fused intermediates no longer move.
"""
from sim.pe_array.cost import NestCost, evaluate
from sim.pe_array.nest import Nest, Problem, TensorAccess, gemm
from sim.pe_array.spec import Level, PEArraySpec, SpatialDim, from_bitserial, from_roofline

__all__ = ["Level", "Nest", "NestCost", "PEArraySpec", "Problem", "SpatialDim", "TensorAccess", "evaluate",
           "from_bitserial", "from_roofline", "gemm"]

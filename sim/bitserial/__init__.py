"""Bit-serial and bit-parallel PE arrays for weight-quantized LLM inference (BitMoD reproduction).

The family's contract: `simulate(mapping, accel) -> sim.contract.Result`, one row per Einsum of the
mapped cascade (`mappers.bitserial.map` builds the mapping). Modules, one job each:

* `pe` — PE specs (bit-serial BitMoD PE, FP16×FP16, FP16×INT8, ANT, OliVe) and functional
  PE models that compute a dot product the way each PE does (term by term for BitMoD, with
  per-group accumulation and the scale unit), rounding to FP16 where the hardware does;
* `spec` — array, buffer, DRAM and accelerator specs;
* `kinds` — the accelerator kinds (PE, array shape and weight bits per task), one YAML file each
  in `accels/` (a new file is a new kind; docs/bitserial.md, "Adding a PE kind");
* `presets` — the BitMoD paper's evaluation setup (Chen et al., HPCA 2025, §VI; the authors'
  simulator scripts): buffers, DRAM bus, and `accelerator(kind, task, model)`;
* `shape`, `plan` — what the mapper hands over per matrix Einsum: the GEMM shape and its tile
  schedule;
* `paper` — the paper's analytical accounting (per-layer max(compute, DRAM), no overlap);
* `engine` — the cycle-level model that steps through a buffer-level tile schedule with double
  buffering and a shared DRAM bus, counting cycles by cause; `cycle` — one GEMM costed on it;
* `dram_timing` — the command-level DRAM bus (`sim.dram`) behind the engine;
* `energy` — compute, SRAM and DRAM energy from event counts; `area` — PE and buffer area;
* `simulator` — `simulate`: every Einsum of a mapping costed, vector Einsums marked unmodeled.
"""
from sim.bitserial.plan import UNIT, GemmPlan
from sim.bitserial.simulator import MODES, simulate

__all__ = ["MODES", "UNIT", "GemmPlan", "simulate"]

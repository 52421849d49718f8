"""Bit-serial and bit-parallel PE arrays for weight-quantized LLM inference (BitMoD reproduction).

Modules, one job each:

* `pe` — PE specs (bit-serial BitMoD PE, FP16×FP16, FP16×INT8, ANT, OliVe) and functional
  PE models that compute a dot product the way each PE does (term by term for BitMoD, with
  per-group accumulation and the scale unit), rounding to FP16 where the hardware does;
* `spec` — array, buffer, DRAM and accelerator specs;
* `presets` — the BitMoD paper's evaluation setup (Chen et al., HPCA 2025, §VI; the authors'
  simulator scripts);
* `paper` — the paper's analytical accounting (per-layer max(compute, DRAM), no overlap);
* `engine` — the cycle-level model that steps through a buffer-level tile schedule with double
  buffering and a shared DRAM bus, counting cycles by cause;
* `energy` — compute, SRAM and DRAM energy from event counts.
"""

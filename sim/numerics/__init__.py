"""Numerics for low-bit Transformer inference: datatypes, quantizers, error metrics, bit-serial terms.

Modules, one job each:

* `datatype` — the shared code-table model and round-to-nearest-even onto a value set;
* `integer`, `floating` — INT2–INT8 and ExMy floats (FP3 … FP16, BF16, OCP FP8) and E8M0;
* `bitmod` — BitMoD's FP3/FP4 variants that reuse the −0 code (Chen et al., HPCA 2025);
* `ant` — ANT's flint / PoT / int types (Guo et al., MICRO 2022);
* `olive` — OliVe's outlier-victim pairs (Guo et al., ISCA 2023);
* `mx` — OCP Microscaling (MX) v1.0 block formats;
* `registry`, `schemes/` — the schemes and datatypes by name; one file per scheme (docs/numerics.md);
* `quantizers` — per-tensor / per-channel / per-group scaling and BitMoD's per-group type choice;
* `metrics` — normalized MSE, SQNR, matmul output error;
* `terms` — signed power-of-two term decomposition for bit-serial PEs;
* `weights`, `study` — real (all-MiniLM-L6-v2) and synthetic weights, and the error table.
"""

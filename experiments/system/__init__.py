"""Heterogeneous systems, evaluated: per-unit costs from the families, placement, scheduling,
whole requests (TTFT, TPOT, J/token, memory, area). See docs/system.md."""

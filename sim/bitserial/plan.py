"""The plan of one matrix Einsum on the PE array: what `mappers.bitserial` hands the simulator.

A `GemmPlan` is the `plan` of an `EinsumMapping` on unit `pe-array`: the Einsum's GEMM shape
(`sim.bitserial.shape.GemmShape`) and, for the cycle-level model, the buffer-level tile schedule
the mapper chose (`mappers.bitserial.schedule.tile_schedule`: per step the compute cycles, the
weight/input bytes loaded, the output bytes stored and the array steps) together with how often
the static operand is fetched from DRAM. The paper's accounting needs only the shape (its refetch
rule is part of the accounting, `sim.bitserial.paper`), so a `paper`-mode plan has no schedule.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from sim.bitserial.shape import GemmShape

SCHEDULE_COLUMNS = ("compute_cycles", "load_bytes", "weight_load_bytes", "input_load_bytes", "store_bytes",
                    "array_steps")
UNIT = "pe-array"


@dataclass(frozen=True, eq=False)
class GemmPlan:
    """A GEMM and (cycle mode) its tile schedule, columns `SCHEDULE_COLUMNS` of equal length."""

    gemm: GemmShape
    schedule: Mapping[str, np.ndarray] | None = field(default=None, repr=False)
    weight_fetches: int = 1

    @property
    def key(self) -> tuple:
        """What the cost depends on besides the accelerator: equal keys cost the same."""
        g = self.gemm
        return (g.batch, g.m_tokens, g.k_reduce, g.n_out, g.is_attention, getattr(g, "attention", None),
                self.schedule is None)

"""Fused Einsums on a roofline accelerator: intermediates kept in the global buffer.

A `FusionPlan` (the `Mapping.plan` of the roofline family's `search-fused` mapping, decided by
`mappers.mapspace.fusion`) names, per Einsum, its fusion group and the DRAM bytes fusion removes
from it: the producer no longer writes the fused tensor to DRAM and the consumer no longer reads
it back. `apply` takes those bytes off a roofline row (an Einsum without a nest): `offchip_bytes`,
the DRAM time and energy, the latency (max of compute and DRAM time), cycles and static energy
follow. The buffer's energy is left as it was (the tensor is still written into and read out of
the buffer once). Einsums costed by a nest take the bytes off the nest's DRAM level instead
(`sim.pe_array.cost.less_outer_traffic`, in `sim.pe_array.simulate`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class FusionPlan:
    """`groups`: Einsum -> its fusion group ('' when alone); `removed`: Einsum -> DRAM bytes fusion
    saves it; `tensors`: the fused tensors, each kept on chip from its producer to its consumer."""

    groups: dict = field(default_factory=dict)
    removed: dict = field(default_factory=dict)
    tensors: tuple = ()


def apply(rows: pd.DataFrame, index, removed: float, spec) -> None:
    """Take `removed` DRAM bytes off the roofline row `index` of `rows` (in place; see the module)."""
    if removed <= 0:
        return
    off = max(float(rows.at[index, "offchip_bytes"]) - removed, 0.0)
    memory = off / spec.dram_bandwidth_bytes_per_s
    compute = float(rows.at[index, "compute_s"])
    latency = max(compute, memory)
    rows.at[index, "offchip_bytes"] = off
    rows.at[index, "memory_s"] = memory
    rows.at[index, "latency_s"] = latency
    rows.at[index, "cycles"] = latency * spec.clock_hz
    rows.at[index, "bound"] = "memory" if memory > compute else "compute"
    rows.at[index, "energy_dram_j"] = 8.0 * off * spec.dram_energy_j_per_bit
    rows.at[index, "energy_static_j"] = latency * spec.static_power_w

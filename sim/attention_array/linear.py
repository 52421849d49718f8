"""The work of a Transformer layer outside attention (projections, MLP, norms, residuals, RoPE).

Cycle mode (``layer_costs``): the layer's matrix Einsums (those with MACs) run on the 2D array at
max(ceil(MACs / PEs), ceil(bytes / off-chip bandwidth)) over their sums — weights stream while the
array computes, within the layer — and its element-wise Einsums on the 1D array at
ceil(operations / width); the two terms add. Each Einsum's cycles are its share of its term (MACs
for matrix Einsums, operations for element-wise ones). Energy per Einsum: its MACs, its
element-wise operations by kind, two register-file reads and one write per operation, and its
bytes at the DRAM access energy (``energy.yaml``).

Bytes are the Einsum's compulsory traffic at the array's element size (``ArraySpec.bytes_per_element``:
fp16 throughout, whatever the workload's datatypes); ``weight_reads`` is how many times the weights
stream (once per sequence when batch entries run one after another, as the attention layers do in
prefill; once per step when the batch shares them, as in decode).

Paper mode (``paper_layer``): only the Einsums that read a weight (the FuseMax artifact's linear
layers), at max(MACs / PEs, bytes / bandwidth) — ``paper.paper_linear`` — weights read once.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from sim.attention_array.arch import ArraySpec, EnergyTable
from sim.attention_array.dataflows import ENERGY_KIND
from sim.attention_array.paper import paper_linear
from sim.attention_array.rates import op_kinds


@dataclass(frozen=True)
class EinsumCost:
    """Cycles, energy actions (counts) and off-chip bytes of one Einsum."""

    cycles: float
    actions: dict[str, float]
    bytes_dram: float


def array_bytes(einsum, stats, cascade, arch: ArraySpec, weight_reads: int = 1) -> float:
    """Compulsory bytes of an Einsum at the array's element size, its weights read ``weight_reads`` times."""
    total = 0.0
    for moved in (stats.bytes_read, stats.bytes_written):
        for name, nbytes in moved.items():
            spec = cascade.tensors[name]
            elements = nbytes / (spec.bytes / spec.elements)
            total += elements * arch.bytes_per_element * (weight_reads if spec.role == "weight" else 1)
    return total


def reads_weight(einsum, cascade) -> bool:
    return any(cascade.tensors[a.tensor].role == "weight" for a in einsum.inputs)


def _actions(macs: float, kinds: dict[str, float], nbytes: float, energy: EnergyTable) -> dict[str, float]:
    ops = macs + sum(kinds.values())
    actions = {"mac": float(macs), "dram_access": nbytes / energy.bytes_per_action["dram_access"],
               "rf_read": 2.0 * ops, "rf_write": float(ops)}
    for kind, n in kinds.items():
        key = ENERGY_KIND[kind]
        actions[key] = actions.get(key, 0.0) + n
    return actions


def layer_costs(members, cascade, arch: ArraySpec, energy: EnergyTable, weight_reads: int) -> dict[str, EinsumCost]:
    """Cycle-mode cost of one layer's non-attention Einsums ``members`` ((einsum, stats) pairs)."""
    matrix = {e.name: (s.macs, array_bytes(e, s, cascade, arch, weight_reads)) for e, s in members if s.macs}
    other = {e.name: op_kinds(s) for e, s in members if not s.macs}
    macs = sum(m for m, _ in matrix.values())
    nbytes = sum(b for _, b in matrix.values())
    other_ops = sum(sum(k.values()) for k in other.values())
    cycles_2d = max(math.ceil(macs / arch.pes_2d), math.ceil(nbytes / arch.offchip_bytes_per_cycle)) if macs else 0
    cycles_1d = math.ceil(other_ops / arch.width_1d)
    out = {name: EinsumCost(cycles_2d * m / macs, _actions(m, {}, b, energy), b) for name, (m, b) in matrix.items()}
    for name, kinds in other.items():
        share = sum(kinds.values()) / other_ops if other_ops else 0.0
        out[name] = EinsumCost(cycles_1d * share, _actions(0, kinds, 0.0, energy), 0.0)
    return out


def paper_layer(members, cascade, arch: ArraySpec, energy: EnergyTable) -> dict[str, EinsumCost]:
    """Paper-mode cost of one layer's linear layers (the members that read a weight); the others
    are not part of the artifact's accounting and are left out of the returned map."""
    linear = {e.name: (s.macs, array_bytes(e, s, cascade, arch)) for e, s in members
              if s.macs and reads_weight(e, cascade)}
    macs = sum(m for m, _ in linear.values())
    nbytes = sum(b for _, b in linear.values())
    if not macs:
        return {}
    cycles, _ = paper_linear(macs, nbytes, arch, energy)
    return {name: EinsumCost(cycles * m / macs, {"mac": float(m), "dram_access": b / energy.bytes_per_action["dram_access"]},
                             b) for name, (m, b) in linear.items()}

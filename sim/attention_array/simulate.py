"""``simulate(mapping, arch) -> Result``: a whole cascade on the FuseMax-style array, one row per Einsum.

The mapping (``mappers.attention.map``) carries an ``ArrayPlan``: the design, the accounting
(``cycle`` or ``paper``) and the plan of each Transformer layer's attention. Per layer:

* the attention Einsums (cascade group ``attention``) form one fused group, simulated as one
  layer by ``attention.simulate_attention`` (cycle) or ``paper.paper_attention`` (paper); the
  group's cycles, energy by action and off-chip bytes are shared out over its members in
  proportion to each member's operations in the cascade (``EinsumStats.total_ops``; the
  partition Einsums of the 1-pass cascade have none and get nothing). The design runs its own
  softmax cascade (FuseMax: 1-pass) whatever form the workload lowered, so the shares are over the
  workload's attention Einsums; each row keeps the workload cascade's MACs.
* the layer's other Einsums: ``linear.layer_costs`` (cycle) or ``linear.paper_layer`` (paper: the
  weight-reading Einsums; the rest are outside the artifact's accounting and are not modeled).

Einsums outside the Transformer layers (embeddings, final norm, LM head) are not modeled (as in
the FuseMax evaluation, which costs layers): their rows carry their MACs, zero cost and
``modeled`` False. Rows are in the cascade's order; latencies add (layers and groups run one
after another). ``Result.design`` holds the area (``area.array_area_mm2`` of the design's PEs) and
the attention layer's 2D and 1D utilization. Energy columns: ``energy_<component>_j`` for the
components of ``COMPONENT``; paper mode's attention energy is the artifact's one figure,
``energy_paper_j``.
"""
from __future__ import annotations

import pandas as pd

from sim.attention_array.arch import ArraySpec, EnergyTable, load_energy_table
from sim.attention_array.area import array_area_mm2
from sim.attention_array.attention import simulate_attention
from sim.attention_array.linear import EinsumCost, layer_costs, paper_layer
from sim.attention_array.paper import paper_attention
from sim.attention_array.plan import ArrayPlan, AttentionPlan, PaperPlan
from sim.contract import Mapping, Result

ATTENTION_GROUP = "attention"
# Energy actions (energy.yaml) summed into the Result's energy_<component>_j columns.
COMPONENT = {"mac": "mac", "add": "add", "max": "max", "exp": "exp", "exp_pipelined": "exp", "div": "div",
             "rf_read": "rf", "rf_write": "rf", "glb_read": "glb", "glb_write": "glb", "dram_access": "dram"}
COMPONENTS = tuple(dict.fromkeys(COMPONENT.values()))


def attention_cost(plan: AttentionPlan | PaperPlan, arch: ArraySpec, energy: EnergyTable):
    """(cycles, pJ by action, off-chip bytes, util_2d, util_1d) of one layer's attention."""
    if isinstance(plan, PaperPlan):
        r = paper_attention(plan.design, plan.shape, arch, energy)
        pj = {"paper": r.energy_pj}
        return r.cycles, pj, r.traffic_bytes, r.util_2d, r.util_1d
    r = simulate_attention(plan, arch, energy)
    return r.cycles, r.energy_pj_by_action, r.traffic_bytes, r.util_2d, r.util_1d


def _energy_j(pj_by_action: dict[str, float], share: float) -> dict[str, float]:
    out = {f"energy_{c}_j": 0.0 for c in COMPONENTS}
    for action, pj in pj_by_action.items():
        # paper mode's attention energy is one figure (the artifact's accounting): kept as "paper"
        key = f"energy_{COMPONENT.get(action, action)}_j"
        out[key] = out.get(key, 0.0) + pj * share * 1e-12
    return out


def _row(einsum, stats, m, cycles: float, pj: dict, nbytes: float, clock_hz: float, modeled: bool = True) -> dict:
    return {"einsum": einsum.name, "unit": m.unit, "group": einsum.group,
            "layer": float("nan") if einsum.layer is None else float(einsum.layer),
            "fusion_group": m.fusion_group, "macs": stats.macs, "ops": stats.total_ops,
            "cycles": float(cycles), "latency_s": cycles / clock_hz, **_energy_j(pj, 1.0),
            "offchip_bytes": float(nbytes), "modeled": modeled}


def _attention_rows(members, mapping: Mapping, cost, clock_hz: float) -> list[dict]:
    cycles, pj, traffic = cost[:3]
    total_ops = sum(s.total_ops for _, s in members)
    rows = []
    for e, s in members:
        share = s.total_ops / total_ops if total_ops else 1.0 / len(members)
        rows.append(_row(e, s, mapping.of(e.name), cycles * share, {k: v * share for k, v in pj.items()},
                         traffic * share, clock_hz))
    return rows


def _cost_rows(members, mapping: Mapping, costs: dict[str, EinsumCost], energy: EnergyTable,
               clock_hz: float) -> list[dict]:
    rows = []
    for e, s in members:
        c = costs.get(e.name)
        if c is None:
            rows.append(_row(e, s, mapping.of(e.name), 0.0, {}, 0.0, clock_hz, modeled=False))
        else:
            rows.append(_row(e, s, mapping.of(e.name), c.cycles, energy.energy_pj(c.actions), c.bytes_dram, clock_hz))
    return rows


def _layer_members(cascade) -> dict:
    """(einsum, stats) pairs by (layer, is attention), in cascade order; layer None: outside layers."""
    out: dict = {}
    for e, s in zip(cascade.einsums, cascade.stats):
        out.setdefault((e.layer, e.layer is not None and e.group == ATTENTION_GROUP), []).append((e, s))
    return out


def simulate(mapping: Mapping, arch: ArraySpec, energy: EnergyTable | None = None) -> Result:
    """Simulate ``mapping`` (from ``mappers.attention.map``) on ``arch``; see the module docstring."""
    energy = energy or load_energy_table()
    plan: ArrayPlan = mapping.plan
    cascade = mapping.cascade
    clock = arch.clock_hz
    costs_of = {}
    rows: list[dict] = []
    for (layer, is_attention), members in _layer_members(cascade).items():
        if layer is None:
            rows += _cost_rows(members, mapping, {}, energy, clock)
        elif is_attention:
            lp = plan.layers[layer]
            cost = costs_of.setdefault(lp, attention_cost(lp, arch, energy))
            rows += _attention_rows(members, mapping, cost, clock)
        elif plan.mode == "paper":
            rows += _cost_rows(members, mapping, paper_layer(members, cascade, arch, energy), energy, clock)
        else:
            costs = layer_costs(members, cascade, arch, energy, plan.weight_reads)
            rows += _cost_rows(members, mapping, costs, energy, clock)
    order = {e.name: i for i, e in enumerate(cascade.einsums)}
    table = pd.DataFrame(rows).sort_values("einsum", key=lambda c: c.map(order))
    table = table.fillna({c: 0.0 for c in table.columns if c.startswith("energy_")})
    first = next(iter(costs_of.values()), (0, {}, 0, 0.0, 0.0))
    shape = next(iter(plan.layers.values())).shape if plan.layers else None
    design = {**array_area_mm2(arch, plan.design), "util_2d": float(first[3]), "util_1d": float(first[4])}
    tokens = shape.batch * shape.n_q if shape else 1
    return Result(family="attention", rows=table, design=design, tokens=tokens)

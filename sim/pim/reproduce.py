"""PIM-GPT reproduction: latency and energy per decode token, and ratios over GPU/CPU rooflines.

Per-token PIM latency is simulated by the fast engine (proven equal to the event-driven one) at
kv lengths 1, T/2 and T and averaged over the T tokens with the trapezoid rule (attention work is
linear in the kv length; the weight work does not depend on it). Energy per token: in-bank MACs
(banks x lanes x mac_pj per MAC_AB), in-bank column reads, row activations, bus bursts of WR_GB /
RD_MAC / cache appends at the GDDR6 I/O energy, and ASIC power x ASIC time. Baselines: the
roofline model on the cascade lowered at kv length T (`sim.pim.baselines`).
"""
from __future__ import annotations

from mappers.pim import map_decode
from sim import roofline
from sim.pim.baselines import BASELINES
from sim.pim.engine import run_event, run_fast
from sim.pim.spec import PimSystem
from workloads import lower


def token_run(plan, kv_len: int, engine: str = "fast"):
    steps = plan.steps(kv_len)
    std = plan.system.standard
    if engine == "event":
        return run_event(std, steps, plan.system.channels, record=False)
    return run_fast(std, steps, plan.system.channels)


def _energy_j(run, plan, system: PimSystem) -> float:
    c = run.counts
    per_mac_ab = system.banks * system.lanes
    bits_burst = 32 * 8
    asic_s = sum(s.cycles for s in run.steps if s.kind == "asic") * system.standard.tck_ns * 1e-9
    transfer_bytes = plan.table[plan.table.unit == "transfer"].bytes.sum()
    pj = (c.get("MAC_AB", 0) * per_mac_ab * system.mac_pj
          + c.get("MAC_AB", 0) * system.banks * bits_burst * system.bank_read_pj_per_bit
          + c.get("ACT_AB", 0) * system.banks * system.act_pj_per_bank
          + (c.get("WR_GB", 0) + c.get("RD_MAC", 0)) * bits_burst * system.io_pj_per_bit
          + transfer_bytes * 8 * system.io_pj_per_bit)
    return pj * 1e-12 + system.asic_power_w * asic_s


def _breakdown(run, tck_ns: float) -> dict[str, float]:
    out = {"pim_mac_ms": 0.0, "asic_ms": 0.0, "data_movement_ms": 0.0, "refresh_ms": 0.0}
    for s in run.steps:
        if s.kind == "pim":
            out["refresh_ms"] += s.refresh_cycles
            out["data_movement_ms"] += s.transfer_cycles
            out["pim_mac_ms"] += s.cycles - s.refresh_cycles - s.transfer_cycles
        elif s.kind == "transfer":
            out["data_movement_ms"] += s.cycles
        else:
            out["asic_ms"] += s.cycles
    return {k: v * tck_ns * 1e-6 for k, v in out.items()}


def reproduce(model: str, tokens: int, system: PimSystem | None = None) -> dict:
    """One row of the reproduction table for `model` generating `tokens` tokens."""
    system = system or PimSystem()
    cascade = lower(model, "decode", seq_len=tokens)
    plan = map_decode(cascade, system)
    tck = system.standard.tck_ns
    kvs = [1, max(1, tokens // 2), tokens]
    weights = [0.25, 0.5, 0.25]
    runs = [token_run(plan, kv) for kv in kvs]
    lat_ms = sum(w * r.cycles * tck * 1e-6 for w, r in zip(weights, runs))
    energy = sum(w * _energy_j(r, plan, system) for w, r in zip(weights, runs))
    parts = [_breakdown(r, tck) for r in runs]
    row = {"model": model, "tokens": tokens, "latency_ms_per_token": lat_ms,
           "energy_j_per_token": energy}
    for k in parts[0]:
        row[k] = sum(w * p[k] for w, p in zip(weights, parts))
    for name, spec in BASELINES.items():
        res = roofline.simulate(cascade, spec)
        row[f"{name}_latency_ms"] = res.latency_s * 1e3
        row[f"{name}_energy_j"] = res.energy_j
        row[f"speedup_vs_{name}"] = res.latency_s * 1e3 / lat_ms
        row[f"energy_eff_vs_{name}"] = res.energy_j / energy
    return row

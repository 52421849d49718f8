"""The bitserial family on the contract (`sim.contract`): `mappers.bitserial.map` then
`sim.bitserial.simulate` give one row per Einsum of every zoo model's cascade with the cascade's
MACs; matrix rows are exactly the per-GEMM costs; vector rows are marked unmodeled and cost nothing."""
from __future__ import annotations

import pytest

import mappers.bitserial
import sim.bitserial
from experiments.families.bitserial import BitserialParams, arch
from mappers.bitserial import extract_gemms, gemm_plan
from sim.bitserial.cycle import cycle_gemm
from sim.bitserial.paper import paper_gemm
from sim.bitserial.presets import accelerator
from workloads import MODELS, get_model, lower
from workloads.errors import SpecError

ZOO = [(m, p) for m in MODELS for p in ("prefill", "decode") if p == "prefill" or get_model(m).kind == "decoder"]


@pytest.mark.parametrize("model,phase", ZOO)
@pytest.mark.parametrize("mode", ["paper", "cycle"])
def test_every_zoo_cascade_is_covered_with_its_macs(model, phase, mode):
    cascade = lower(model, phase, seq_len=64, layers=1)
    accel = arch(BitserialParams(mode=mode), {"model": model})
    result = sim.bitserial.simulate(mappers.bitserial.map(cascade, accel, "output-stationary", mode), accel)
    result.check_covers(cascade)
    assert result.macs == sum(s.macs for s in cascade.stats)
    modeled = result.rows[result.rows["modeled"]]
    assert list(modeled["einsum"]) == [g.name for g in extract_gemms(cascade)]
    assert set(modeled["unit"]) == {"pe-array"} and set(result.rows.loc[~result.rows["modeled"], "unit"]) == {"host"}
    assert result.design["vector_einsums_not_modeled"] == len(cascade.einsums) - len(modeled)


@pytest.mark.parametrize("mode", ["paper", "cycle"])
def test_rows_are_the_per_gemm_costs_and_vector_rows_cost_nothing(mode):
    cascade = lower("opt-1.3b", "decode", seq_len=64, layers=1)
    accel = accelerator("ant", "generative", "opt-1.3b")
    result = sim.bitserial.simulate(mappers.bitserial.map(cascade, accel, mode=mode), accel)
    rows = result.rows.set_index("einsum")
    for g in extract_gemms(cascade):
        want = paper_gemm(g, accel) if mode == "paper" else cycle_gemm(gemm_plan(g, accel), accel)
        row = rows.loc[g.name]
        assert (row["cycles"], row["offchip_bytes"]) == (want["cycles"], want["dram_bytes"])
        assert row["latency_s"] == want["cycles"] / 1e9
        for comp in ("compute", "sram", "dram"):
            assert row[f"energy_{comp}_j"] == want[f"energy_{comp}_pj"] * 1e-12
    vector = result.rows[~result.rows["modeled"]]
    assert len(vector) > 0 and (vector[["cycles", "latency_s", "energy_j", "offchip_bytes"]] == 0).all().all()
    assert vector["macs"].sum() > 0  # a norm's reduction: counted, not costed
    gemm_macs = sum(g.macs for g in extract_gemms(cascade))
    assert result.design["utilization"] == gemm_macs / (rows["cycles"].sum() * accel.pes * accel.pe.lanes)


def test_cycle_mode_plans_carry_their_traffic_and_paper_plans_only_the_shape():
    cascade = lower("gpt2", "prefill", seq_len=64, layers=1)
    accel = accelerator("bitmod-lossy", "discriminative", "llama-2-7b")
    paper, cycle = (mappers.bitserial.map(cascade, accel, mode=m) for m in ("paper", "cycle"))
    for p, c in zip(paper.einsums, cycle.einsums):
        assert (p.einsum, p.unit) == (c.einsum, c.unit)
        if c.plan is not None:
            assert p.plan.schedule is None and p.offchip_bytes is None
            assert c.offchip_bytes == float(c.plan.schedule["load_bytes"].sum() + c.plan.schedule["store_bytes"].sum())


@pytest.mark.parametrize("strategy,mode", [("weight-stationary", "paper"), ("output-stationary", "roofline")])
def test_unknown_strategy_or_mode_is_refused(strategy, mode):
    cascade = lower("gpt2", "prefill", seq_len=16, layers=1)
    with pytest.raises(SpecError):
        mappers.bitserial.map(cascade, accelerator("fp16", "generative", "llama-2-7b"), strategy, mode)


def test_paper_mode_refuses_the_command_level_dram():
    cascade = lower("gpt2", "decode", seq_len=16, layers=1)
    accel = accelerator("fp16", "generative", "llama-2-7b", "HBM2")
    with pytest.raises(SpecError, match="needs mode cycle"):
        sim.bitserial.simulate(mappers.bitserial.map(cascade, accel, mode="paper"), accel)

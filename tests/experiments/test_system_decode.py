"""Decode steps interpolated over kv (experiments.system.decode) against per-token simulation:
TPOT, decode time, energy, J/token and every unit's energy within 0.1 %; each token within 0.2 %
(the attention array's cycle model is a staircase in kv that no straight line follows exactly);
the simulated steps are the exact ones."""
import numpy as np
import pytest

from experiments.system.decode import blend, decode_steps, sampled
from experiments.system.evaluate import evaluate_phase
from experiments.system.request import Request, run_request
from sim.system import load_system

CASES = [("hybrid", Request("llama-2-7b", 512, 48, layers=1)),
         ("pim-gpt", Request("gpt2", 128, 32, layers=1)),
         ("fusemax-dram", Request("gpt2", 128, 24, layers=1)),
         ("gpu-a100", Request("opt-6.7b", 256, 16, layers=1))]


@pytest.mark.parametrize("system,req", CASES, ids=[c[0] for c in CASES])
def test_interpolated_request_within_0_1_percent_of_per_token_simulation(system, req):
    spec = load_system(system)
    exact = run_request(spec, req, decode_mode="exact")
    fast = run_request(spec, req)
    assert sampled(exact.decode) == req.generate and sampled(fast.decode) < req.generate
    se, sf = exact.summary(), fast.summary()
    for key in ("tpot_s", "decode_s", "latency_s", "energy_j", "j_per_token", "tokens_per_s"):
        assert sf[key] == pytest.approx(se[key], rel=1e-3), key
    ue, uf = exact.units(), fast.units()
    assert np.allclose(uf["energy_j"], ue["energy_j"], rtol=1e-3, atol=1e-3 * se["energy_j"])
    assert np.allclose(uf["busy_s"], ue["busy_s"], rtol=1e-3, atol=1e-3 * se["latency_s"])
    a, b = np.array(exact.per_token_s), np.array(fast.per_token_s)
    assert np.max(np.abs(a - b) / a) <= 2e-3
    for e, f in zip(exact.decode, fast.decode):  # simulated steps are exact
        if not f.interpolated:
            assert f.result.latency_s == e.result.latency_s and f.result.energy_j == e.result.energy_j


def test_blend_ends_are_the_samples_and_macs_stay_integers():
    spec, req = load_system("hybrid"), Request("gpt2", 32, 8, layers=1)
    a = evaluate_phase(spec, req.workload("decode", 32)).result
    b = evaluate_phase(spec, req.workload("decode", 39)).result
    assert blend(a, b, 0.0).latency_s == pytest.approx(a.latency_s, rel=1e-12)
    assert blend(a, b, 1.0).energy_j == pytest.approx(b.energy_j, rel=1e-12)
    mid = blend(a, b, 3 / 7)
    assert mid.rows["macs"].dtype.kind == "i" and len(mid.rows) == len(a.rows)
    exact = evaluate_phase(spec, req.workload("decode", 35)).result
    assert mid.macs == exact.macs  # MACs are linear in kv


def test_steps_cover_every_kv_and_unknown_mode_is_refused():
    spec, req = load_system("pim-gpt"), Request("gpt2", 16, 5, layers=1)
    steps = decode_steps(spec, req, "auto")
    assert [s.workload["kv_len"] for s in steps] == list(range(16, 21))
    with pytest.raises(ValueError):
        decode_steps(spec, req, "auto", mode="sometimes")

"""Scaled-out requests: TP = PP = 1 is the unscaled system, all-reduces and stage hand-offs by hand,
per-device memory, the 70B decode on the cent-like preset, rejection naming the device, the CLI."""
import json

import pytest

from experiments.cli import main
from experiments.system.request import Request, run_request
from experiments.system.scaleout import run_scaled, with_scaleout
from sim.system import load_system
from sim.system.scaleout import device_system, ring_allgather_s, ring_allreduce_s
from workloads import SpecError, get_model

REL = 1e-12


@pytest.mark.parametrize("preset, model", [("pim-gpt", "gpt2"), ("cent-like", "llama-2-7b")])
def test_tp1_pp1_equals_the_unscaled_system_exactly(preset, model):
    system = load_system(preset)
    request = Request(model, 16, 3, layers=2)
    one = with_scaleout(system, 1, 1, 1)
    plain = run_request(device_system(one), request).summary()
    scaled = run_scaled(one, request).summary()
    for key in ("ttft_s", "tpot_s", "decode_s", "latency_s", "energy_j", "j_per_token", "kv_handoff_s"):
        assert scaled[key] == pytest.approx(plain[key], rel=REL, abs=0), key


def test_tensor_parallel_adds_two_allreduces_per_layer_by_hand():
    cent = load_system("cent-like")
    request = Request("llama-2-7b", 16, 2, layers=2)
    res = run_scaled(with_scaleout(cent, 4, 4, 1), request)
    link = cent.scaleout.link
    run = res.stages[0].run  # one device's 1/4 shard
    act = 1 * 1 * 4096 * 2  # B x q x d_model x fp16 in a decode step
    assert res.summary()["allreduce_bytes_decode"] == act
    per_step = (2 * 2 + 1) * (2 * 3 / 4 * act / link.bandwidth_bytes_per_s + 2 * 3 * link.latency_s) \
        + (3 / 4 * 32000 * 2 / link.bandwidth_bytes_per_s + 3 * link.latency_s)  # + the logits' all-gather
    for step, phase in zip(res.per_token_s, run.decode):
        assert step == pytest.approx(phase.result.latency_s + per_step, rel=REL)
    prefill_act = 16 * 4096 * 2
    assert res.ttft_s == pytest.approx(run.prefill.result.latency_s + 5 * ring_allreduce_s(prefill_act, 4, link)
                                       + ring_allgather_s(16 * 32000 * 2, 4, link), rel=REL)
    # energy: 4 devices' shares + 2 (T-1) x bytes on the wire per all-reduce, (T-1) x logits per all-gather
    wire = (5 * 2 * 3 * prefill_act + 3 * 16 * 32000 * 2) + 2 * (5 * 2 * 3 * act + 3 * 32000 * 2)
    devices_j = 4 * (run.prefill.result.energy_j + run.kv_handoff_j + sum(d.result.energy_j for d in run.decode))
    assert res.energy_j == pytest.approx(devices_j + wire * 8 * link.energy_pj_per_bit * 1e-12, rel=1e-9)


def test_per_device_weights_are_the_shard():
    cent = load_system("cent-like")
    res = run_scaled(with_scaleout(cent, 4, 4, 1), Request("llama-2-7b", 16, 2, layers=2))
    m, d = get_model("llama-2-7b"), 4096
    # by hand, 2 layers of the 1/4 shard in fp16: Q, K, V, O = 4 d^2/4, gate/up/down = 3 d 11008/4, 2 norms;
    # embedding and LM head 32000/4 rows of d each; the final norm
    shard_params = 2 * (4 * d * d // 4 + 3 * d * 11008 // 4 + 2 * d) + 2 * 8000 * d + d
    full = 2 * (4 * d * d + 3 * d * 11008 + 2 * d) + 2 * 32000 * d + d
    replicated = (2 * 2 + 1) * d
    assert shard_params == (full - replicated) // 4 + replicated
    devices = res.devices()
    assert [r["device"] for r in devices] == [0, 1, 2, 3]
    # the prefill runs on the PNM host (PIM-GPT models decode only): it reads every weight of the shard
    assert all(r["weights_bytes_pnm"] == 2 * shard_params for r in devices)
    # KV cache: 8 of the 32 heads, 2 layers, K and V, P + G = 18 tokens, fp16
    assert devices[0]["kv_bytes_pim"] == 2 * 2 * 18 * 8 * 128 * 2
    assert m.d_model == d


def test_pipeline_latency_is_the_stage_sum_plus_transfers():
    cent = load_system("cent-like")
    link = cent.scaleout.link
    request = Request("llama-2-7b", 16, 2, layers=4)
    res = run_scaled(with_scaleout(cent, 2, 1, 2), request)
    assert [st.layers for st in res.stages] == [2, 2]
    # by hand: each stage is a 2-layer run; stage 0 = embedding + its layers, stage 1 = its layers + final
    # norm + LM head, so the two add up to the whole 2-layer run plus its layers once more
    two = run_request(device_system(cent), Request("llama-2-7b", 16, 2, layers=2))

    def layers_s(phase):
        rows = phase.result.rows
        return float(rows.loc[rows["einsum"].str.match(r"L\d+\."), "latency_s"].sum())

    hop = link.latency_s + 16 * 4096 * 2 / link.bandwidth_bytes_per_s
    assert res.ttft_s == pytest.approx(two.prefill.result.latency_s + layers_s(two.prefill) + hop, rel=1e-9)
    hop1 = link.latency_s + 4096 * 2 / link.bandwidth_bytes_per_s
    for step, phase in zip(res.per_token_s, two.decode):
        assert step == pytest.approx(phase.result.latency_s + layers_s(phase) + hop1, rel=1e-9)
    mem = res.devices()
    # stage 0 holds the embedding, stage 1 the final norm and the LM head (32000 x 4096 fp16 each)
    assert mem[0]["weights_bytes_pnm"] - mem[1]["weights_bytes_pnm"] == 32000 * 4096 * 2 - (4096 * 2 + 32000 * 4096 * 2)


def test_llama2_70b_decode_on_cent_like_fits_and_runs():
    cent = load_system("cent-like")
    res = run_scaled(cent, Request("llama-2-70b", 128, 2))
    s = res.summary()
    assert (s["devices"], s["tensor_parallel"], s["pipeline_parallel"]) == (32, 8, 4)
    assert [st.layers for st in res.stages] == [20, 20, 20, 20]
    assert s["allreduce_bytes_decode"] == 8192 * 2
    rows = res.devices()
    assert len(rows) == 32
    for r in rows:
        assert r["memory_bytes_pim"] <= r["capacity_bytes_pim"]
    # 140 GB of fp16 weights over 32 devices: ~4.3 GB each (+ the replicated norms)
    assert 4.2e9 < rows[8]["weights_bytes_pim"] < 4.4e9
    assert s["tpot_s"] > 0 and s["ttft_s"] > s["tpot_s"] and s["j_per_token"] > 0
    assert s["collective_s_per_token"] > 0


def test_a_shard_that_does_not_fit_names_the_device():
    pim_gpt = load_system("pim-gpt")
    with pytest.raises(SpecError) as err:
        run_scaled(with_scaleout(pim_gpt, 2, 1, 2), Request("llama-2-13b", 8, 1))
    msg = str(err.value)
    assert msg.startswith("request does not fit: device 0 (pipeline stage 0 of 2, 20 layers): unit pim needs")
    assert msg.endswith("bytes missing") and "\n" not in msg


def test_cli_devices_tp_pp(capsys):
    code = main(["system", "--system", "cent-like", "--model", "llama-2-7b", "--layers", "2", "--prompt", "16",
                 "--generate", "2", "--devices", "4", "--tp", "2", "--pp", "2", "--format", "json"])
    assert code in (0, None)
    doc = json.loads(capsys.readouterr().out)
    assert doc["scaleout"]["devices"] == 4 and doc["scaleout"]["stage_layers"] == [1, 1]
    assert len(doc["devices"]) == 4 and doc["summary"]["tpot_s"] > 0
    code = main(["system", "--system", "cent-like", "--model", "llama-2-7b", "--layers", "2", "--prompt", "16",
                 "--generate", "2", "--tp", "4", "--pp", "1"])
    out = capsys.readouterr().out
    assert "scale-out: 4 devices = TP 4 x PP 1 of [pim, pnm]" in out and "TPOT" in out


def test_cli_bad_split_is_one_line(capsys):
    code = main(["system", "--system", "cent-like", "--model", "llama-2-7b", "--prompt", "16", "--generate", "2",
                 "--devices", "6", "--tp", "4"])
    err = capsys.readouterr().err
    assert code == 2 and "must equal devices 6" in err and err.count("\n") == 1

"""Requests on the presets: TTFT and TPOT from the phase Results, memory rejection, the CLI."""
import json

import pytest
import yaml

from experiments.cli import main
from experiments.families import cascade_of
from experiments.system.evaluate import evaluate_phase
from experiments.system.request import Request, run_request
from sim.system import load_system
from sim.system.spec import PRESETS_DIR
from workloads import SpecError


@pytest.fixture(scope="module")
def hybrid_request():
    return run_request(load_system("hybrid"), Request("gpt2", 32, 5, layers=1))


def test_ttft_is_the_prefill_latency(hybrid_request):
    res = hybrid_request
    assert res.ttft_s == res.prefill.result.totals()["latency_s"]
    again = evaluate_phase(res.system, Request("gpt2", 32, 5, layers=1).workload("prefill"))
    assert res.ttft_s == again.result.latency_s and res.prefill.result.tokens == 32


def test_tpot_times_g_is_the_sum_of_the_steps(hybrid_request):
    res, req = hybrid_request, Request("gpt2", 32, 5, layers=1)
    assert len(res.per_token_s) == 5
    assert sum(res.per_token_s) == pytest.approx(res.tpot_s * 5, rel=1e-12)
    # step t is the decode at kv = P + t, scheduled on its own
    for t in (0, 4):
        step = evaluate_phase(res.system, req.workload("decode", 32 + t))
        assert res.per_token_s[t] == step.result.latency_s
        assert step.mapping.cascade.meta["kv_len"] == 32 + t
    s = res.summary()
    assert s["latency_s"] == pytest.approx(s["ttft_s"] + s["kv_handoff_s"] + 5 * s["tpot_s"], rel=1e-12)
    assert s["j_per_token"] == pytest.approx(s["energy_j"] / 5, rel=1e-12)
    assert s["area_mm2"] == pytest.approx(sum(res.area_mm2.values())) and set(res.area_mm2) == set(res.system.unit_names)
    assert all(a > 0 for a in res.area_mm2.values())


def test_memory_counts_weights_and_final_cache():
    """pim-gpt: the decode runs whole on PIM, so PIM holds every weight of the cascade and the
    cache after the last step (P + G tokens of K and V)."""
    req = Request("gpt2", 16, 3, layers=1)
    res = run_request(load_system("pim-gpt"), req)
    last = cascade_of(req.workload("decode", 18))
    weights = sum(t.bytes for t in last.tensors.values() if t.role == "weight")
    kv = 2 * (16 + 3) * 768 * 2  # K and V, 19 tokens, d_model 768, fp16
    assert res.memory["pim"].weights_bytes == weights and res.memory["pim"].kv_bytes == kv
    # the prefill ran on the host ASIC: its cache (16 tokens) is there, then handed off to PIM
    assert res.memory["asic"].kv_bytes == 2 * 16 * 768 * 2
    link = load_system("pim-gpt").links[0]
    assert res.kv_handoff_s == pytest.approx(link.latency_s + 2 * 16 * 768 * 2 / link.bandwidth_bytes_per_s, rel=1e-12)


def small_pim(tmp_path, capacity):
    data = yaml.safe_load((PRESETS_DIR / "pim-gpt.yaml").read_text())
    data["units"][0]["memory_bytes"] = capacity
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_overflowing_request_is_rejected_naming_unit_and_bytes(tmp_path, capsys):
    req = Request("gpt2", 16, 3, layers=1)
    last = cascade_of(req.workload("decode", 18))
    need = sum(t.bytes for t in last.tensors.values() if t.role == "weight") + 2 * 19 * 768 * 2
    capacity = 50_000_000
    code = main(["system", "--system", str(small_pim(tmp_path, capacity)), "--model", "gpt2", "--layers", "1",
                 "--prompt", "16", "--generate", "3"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"unit pim needs {need:.0f} bytes" in err and f"{need - capacity:.0f} bytes missing" in err
    with pytest.raises(SpecError, match="request does not fit: unit pim"):
        run_request(load_system(small_pim(tmp_path, capacity)), req)


def test_search_request_never_slower_than_auto():
    req = Request("gpt2", 16, 2, layers=1)
    auto = run_request(load_system("hybrid"), req)
    found = run_request(load_system("hybrid"), req, "search", "latency_s")
    assert found.prefill.search is not None and found.decode_search is not None
    assert found.ttft_s <= auto.ttft_s
    mid = found.decode_search.metric  # scored at kv = P + G // 2
    assert mid <= auto.per_token_s[1] * (1 + 1e-12)


def test_cli_hybrid_gpt2_prefill_and_decode(capsys):
    code = main(["system", "--system", "hybrid", "--model", "gpt2", "--prompt", "16", "--generate", "2",
                 "--format", "json"])
    out = capsys.readouterr().out
    assert code == 0
    doc = json.loads(out)
    assert {"summary", "units", "per_token_s", "placements", "search", "system", "wall_s"} <= set(doc)
    assert {"ttft_s", "tpot_s", "tokens_per_s", "j_per_token", "area_mm2", "energy_j"} <= set(doc["summary"])
    assert [u["unit"] for u in doc["units"]] == ["bitmod", "fusemax", "pim", "host"]
    assert doc["placements"]["decode"]["mlp"][0] == "pim" and doc["placements"]["prefill"]["mlp"][0] == "bitmod"
    assert len(doc["per_token_s"]) == 2 and doc["summary"]["ttft_s"] > 0
    code = main(["system", "--system", "hybrid", "--model", "gpt2", "--prompt", "16", "--generate", "2"])
    table = capsys.readouterr().out
    assert code == 0 and "TTFT" in table and "J/token" in table and "fusemax" in table


@pytest.mark.parametrize("args, message", [
    (["--system", "nope"], "not a file and not a preset"),
    (["--generate", "0"], "--generate 0: a request generates at least one token"),
    (["--placement", "missing.yaml"], "--placement 'missing.yaml': not auto, search or a placement file"),
    (["--model", "bert-base"], "bert-base"),
])
def test_cli_user_errors_are_one_line_exit_2(args, message, capsys):
    base = {"--system": "pim-gpt", "--model": "gpt2", "--prompt": "8", "--generate": "1", "--layers": "1"}
    for i in range(0, len(args), 2):
        base[args[i]] = args[i + 1]
    code = main(["system", *[x for kv in base.items() for x in kv]])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


def test_cli_bad_unit_params_name_the_unit(tmp_path, capsys):
    data = yaml.safe_load((PRESETS_DIR / "bitmod-dram.yaml").read_text())
    data["units"][0]["params"]["rows"] = -1
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    code = main(["system", "--system", str(path), "--model", "gpt2", "--prompt", "8", "--generate", "1", "--layers", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "unit bitmod: params.rows" in err

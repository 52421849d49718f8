"""`einspace attention` prints the searched tiling's traffic, bound and ratio."""
from __future__ import annotations

import json

from click.testing import CliRunner

from experiments.cli.attention import attention


def test_attn_cli_json():
    out = CliRunner().invoke(attention, ["--seq-len", "8192", "--head-dim", "64",
                                         "--buffer-kib", "256", "--format", "json"])
    assert out.exit_code == 0, out.output
    row = json.loads(out.output)
    assert row["design"] == "flashattention2"
    assert row["total_bytes"] == sum(row["read_bytes"].values()) + sum(row["write_bytes"].values())
    assert row["ratio_to_lower_bound"] >= 1.0
    assert row["footprint_bytes"] <= 256 * 1024
    terms = row["bound_terms_bytes"]
    assert row["bound_large_cache"] is True       # 128 Ki words >= d^2 = 4096
    assert row["lower_bound_bytes"] == max(terms["trivial"], terms["pair"],
                                           terms["trivial"] + terms["reload"])


def test_attn_cli_reports_gqa_packing():
    """The JSON names the chosen order; its traffic is the closed form of that order."""
    from mappers.attention import AttentionLayer
    from mappers.attention.closed_form import closed_form_traffic

    out = CliRunner().invoke(attention, ["--seq-len", "2048", "--head-dim", "128", "--heads", "32",
                                         "--kv-heads", "8", "--buffer-kib", "512", "--format", "json"])
    assert out.exit_code == 0, out.output
    row = json.loads(out.output)
    assert row["pack_heads"] is True
    layer = AttentionLayer(n_q=2048, n_kv=2048, head_dim=128, heads=32, kv_heads=8)

    def traffic(pack: bool) -> int:
        return closed_form_traffic("flashattention2", layer, row["q_tile"], row["kv_tile"], True,
                                   512 * 1024, row["kv_keep"], row["serpentine"], 0, pack).total_bytes

    assert row["total_bytes"] == traffic(True) < traffic(False)


def test_attn_cli_text_and_bad_buffer():
    runner = CliRunner()
    out = runner.invoke(attention, ["--seq-len", "2048", "--buffer-kib", "512", "--design",
                                    "fusemax", "--causal"])
    assert out.exit_code == 0, out.output
    assert "lower bound" in out.output and "ratio" in out.output
    bad = runner.invoke(attention, ["--seq-len", "2048", "--buffer-kib", "1"])
    assert bad.exit_code != 0


def _run(argv, capsys):
    from experiments.cli import main
    code = main(["attention", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_attn_cli_model_json_keys_and_batch_default(capsys):
    code, out, _ = _run(["--model", "fusemax-bert", "--seq-len", "4096", "--design", "fusemax",
                         "--format", "json"], capsys)
    assert code == 0
    row = json.loads(out)
    assert row["batch"] == 64 and row["mode"] == "cycle"
    for key in ("cycles", "energy_pj", "end_to_end_cycles", "traffic_bytes", "lower_bound_bytes",
                "util_2d", "util_1d", "stages", "read_bytes", "write_bytes"):
        assert key in row
    assert row["traffic_bytes"] == sum(row["read_bytes"].values()) + sum(row["write_bytes"].values())


def test_attn_cli_model_paper_mode(capsys):
    code, out, _ = _run(["--model", "fusemax-bert", "--seq-len", "1024", "--design", "flat",
                         "--mode", "paper", "--format", "json"], capsys)
    assert code == 0
    row = json.loads(out)
    assert row["mode"] == "paper" and row["batch"] == 64
    # 1D-bound: 4 softmax Einsums × 64·12·1024² pairs / 256 PEs (stable_softmax.py accounting).
    assert row["cycles"] == 4 * 64 * 12 * 1024 * 1024 / 256


def test_attn_cli_model_bad_design_and_model_one_line_exit_2(capsys):
    for argv in (["--model", "fusemax-bert", "--seq-len", "1024", "--design", "flat",
                  "--mode", "paper", "--batch", "1", "--design", "flashattention2"],
                 ["--model", "no-such-model", "--seq-len", "1024", "--design", "fusemax"],
                 ["--model", "fusemax-bert", "--seq-len", "1024", "--design", "nope"]):
        code, _, err = _run(argv, capsys)
        assert code == 2, argv
        assert len(err.strip().splitlines()) == 1, err


def test_attn_cli_model_causal_prefill_skips_masked_tiles(capsys):
    base = ["--model", "gpt2", "--seq-len", "1024", "--design", "flashattention2", "--format", "json"]
    code, dense, _ = _run(base, capsys)
    assert code == 0
    code, causal, _ = _run(base + ["--causal"], capsys)
    assert code == 0
    dense, causal = json.loads(dense), json.loads(causal)
    assert causal["causal"] and not dense["causal"]
    assert causal["cycles"] < dense["cycles"]
    code, _, err = _run(base + ["--causal", "--mode", "paper"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1

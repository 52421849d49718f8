"""`einspace map`: per-Einsum nests as text and JSON; the roofline family's `search` mapping."""
from __future__ import annotations

import json

from experiments.cli import main
from experiments.families import cascade_of, get_family
from experiments.space import Point
from experiments.support import workload


def test_map_prints_nests_and_json(capsys):
    assert main(["map", "--model", "gpt2", "--phase", "decode", "--seq-len", "64", "--max-evals", "300"]) == 0
    out = capsys.readouterr().out
    assert "[DRAM]" in out and "MAC" in out and "nests evaluated" in out and "json {" in out
    assert main(["map", "--model", "gpt2", "--phase", "decode", "--seq-len", "64", "--max-evals", "300",
                 "--format", "json", "--objective", "energy"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["objective"] == "energy" and doc["einsums"]
    for e in doc["einsums"]:
        assert e["evaluated"] >= 1 and e["energy_pj"] <= e["fixed_energy_pj"] * (1 + 1e-9)
        assert set(e["nest"]["temporal"]) == {"DRAM", "GLB", "PEbuf", "REG"}


def test_map_refuses_a_bad_objective_in_one_line(capsys):
    assert main(["map", "--model", "gpt2", "--objective", "speed"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_map_on_the_bitserial_array(capsys):
    assert main(["map", "--model", "gpt2", "--phase", "decode", "--family", "bitserial", "--seq-len", "64",
                 "--max-evals", "200", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert all(e["cycles"] <= e["fixed_cycles"] for e in doc["einsums"])


def test_roofline_search_mapping_keeps_the_contract():
    fam = get_family("roofline")
    w = workload("gpt2", "prefill")
    assert "search" in fam.mappings and fam.default_mapping == "unfused"
    res = fam.result(Point("roofline", "search", w, {}))
    res.check_covers(cascade_of(w))
    base = fam.result(Point("roofline", "unfused", w, {}))
    assert res.latency_s >= base.latency_s * (1 - 1e-9)  # the roofline's traffic is a lower bound
    assert (res.rows["bytes_pe"] > 0).any()

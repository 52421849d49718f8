"""The attention family on the contract: map(cascade) -> Mapping, simulate -> one row per Einsum.

Checks: every Einsum of every zoo cascade has exactly one row with the cascade's MACs (prefill and
decode, cycle and paper mode); the layer shape is read from the cascade (GQA heads, decode's one
query row); a fused attention group's cost is shared out in proportion to its members' operations;
paper mode's linear MACs are the cascade's (LLaMA-2-7B's SwiGLU, not 4d² + 2d·ff); the layering
rule (sim never imports mappers or experiments).
"""
import ast
from dataclasses import replace
from pathlib import Path

import pytest

import mappers.attention as attention_mapper
from mappers.attention.cascade import attention_shapes
from sim.attention_array import FUSEMAX, simulate
from sim.attention_array.linear import reads_weight
from workloads import lower
from workloads.models import MODELS

SMALL = replace(FUSEMAX, rows_2d=64, cols_2d=64, buffer_bytes=2 << 20)
ROOT = Path(__file__).resolve().parents[3]


def _run(cascade, design="fusemax", mode="cycle", arch=SMALL):
    return simulate(attention_mapper.map(cascade, arch, design, mode), arch)


@pytest.mark.parametrize("model", sorted(MODELS))
def test_aa_every_zoo_cascade_is_covered_with_its_macs(model):
    phases = ("prefill", "decode") if MODELS[model].kind == "decoder" else ("prefill",)
    for phase in phases:
        cascade = lower(model, phase, batch=1, seq_len=128, layers=1, lm_head="all")
        result = _run(cascade)
        result.check_covers(cascade)
        assert len(result.rows) == len(cascade.einsums)
        assert result.macs == sum(s.macs for s in cascade.stats)


@pytest.mark.parametrize("model,layers", [("gpt2", 2), ("llama-2-7b", 1), ("llama-3-8b", 1), ("yi-6b", 1)])
@pytest.mark.parametrize("design", ["unfused", "flat", "flashattention2", "fusemax"])
def test_aa_covers_prefill_and_decode_per_design(model, layers, design):
    for phase, attention in (("prefill", "1pass"), ("decode", "3pass")):
        cascade = lower(model, phase, batch=2, seq_len=256, layers=layers, attention=attention)
        result = _run(cascade, design)
        result.check_covers(cascade)
        assert set(result.rows["fusion_group"]) - {""} == {f"L{i}.attention" for i in range(layers)}
        assert result.latency_s > 0 and result.energy_j > 0


def test_aa_paper_mode_covers_and_rejects_decode():
    cascade = lower("llama-2-7b", "prefill", batch=1, seq_len=256, layers=1)
    _run(cascade, "flat", "paper").check_covers(cascade)
    with pytest.raises(Exception, match="paper mode"):
        _run(lower("llama-2-7b", "decode", batch=1, seq_len=256, layers=1), "flat", "paper")


def test_aa_shape_read_from_the_cascade_gqa_and_decode():
    llama3 = attention_shapes(lower("llama-3-8b", "prefill", batch=3, seq_len=64, layers=2))
    assert set(llama3) == {0, 1}
    s = llama3[0]
    assert (s.batch, s.heads, s.kv_heads, s.head_dim, s.n_q, s.n_kv, s.causal) == (3, 32, 8, 128, 64, 64, True)
    d = attention_shapes(lower("llama-3-8b", "decode", batch=2, seq_len=300, layers=1, attention="1pass"))[0]
    assert (d.n_q, d.n_kv, d.kv_heads, d.causal) == (1, 300, 8, False)
    bert = attention_shapes(lower("bert-base", "prefill", batch=1, seq_len=96, layers=1))[0]
    assert (bert.heads, bert.head_dim, bert.causal) == (12, 64, False)


def test_aa_fused_group_shared_by_operations():
    cascade = lower("gpt2", "prefill", batch=1, seq_len=256, layers=1)
    mapping = attention_mapper.map(cascade, SMALL, "fusemax")
    rows = simulate(mapping, SMALL).rows.set_index("einsum")
    group = rows[rows["fusion_group"] == "L0.attention"]
    ops = {s.name: s.total_ops for s in cascade.stats}
    from sim.attention_array import simulate_attention
    layer = simulate_attention(mapping.plan.layers[0], SMALL)
    assert group["cycles"].sum() == pytest.approx(layer.cycles, rel=1e-12)
    assert group["energy_j"].sum() == pytest.approx(layer.energy_pj * 1e-12, rel=1e-12)
    total = sum(ops[n] for n in group.index)
    for name, row in group.iterrows():
        assert row["cycles"] == pytest.approx(layer.cycles * ops[name] / total, rel=1e-12)


def test_aa_layers_repeat_and_lm_head_is_an_unmodeled_row():
    one = _run(lower("gpt2", "prefill", batch=1, seq_len=128, layers=1, lm_head="all"))
    three = _run(lower("gpt2", "prefill", batch=1, seq_len=128, layers=3, lm_head="all"))
    assert three.latency_s == pytest.approx(3 * one.latency_s, rel=1e-12)
    head = three.rows.set_index("einsum").loc["LOGITS"]
    assert not head["modeled"] and head["macs"] > 0 and head["cycles"] == 0 and head["energy_j"] == 0


def test_aa_paper_linear_macs_equal_the_cascade_llama():
    """Paper mode's linear layers count the cascade's MACs: LLaMA-2-7B's QKV, output projection and
    SwiGLU MLP (3·d·ff, not the 2·d·ff of 4d² + 2d·ff, which was 0.78-0.85x of them)."""
    cascade = lower("llama-2-7b", "prefill", batch=1, seq_len=256, layers=1, lm_head="none")
    rows = _run(cascade, "fusemax", "paper", FUSEMAX).rows
    linear = rows[rows["modeled"] & (rows["group"] != "attention")]
    expected = sum(s.macs for e, s in zip(cascade.einsums, cascade.stats)
                   if e.group != "attention" and s.macs and reads_weight(e, cascade))
    assert int(linear["macs"].sum()) == expected
    d, ff, tokens = 4096, 11008, 256
    assert expected == tokens * (4 * d * d + 3 * d * ff)
    assert tokens * (4 * d * d + 2 * d * ff) / expected == pytest.approx(0.7772, abs=1e-4)  # the old count
    nbytes = linear["offchip_bytes"].sum()
    weights = 2 * (4 * d * d + 3 * d * ff)  # fp16, read once
    # activations: Q, K, V read x and write d each; O d in, d out; gate and up d in, ff out; down ff in, d out
    assert nbytes == weights + 2 * tokens * (11 * d + 3 * ff)
    # batch 1 at 256 tokens: the weights' stream (memory) bounds the linear layers
    assert linear["cycles"].sum() == pytest.approx(nbytes / FUSEMAX.offchip_bytes_per_cycle, rel=1e-12)
    assert nbytes / FUSEMAX.offchip_bytes_per_cycle > expected / FUSEMAX.pes_2d


def test_aa_sim_never_imports_mappers_or_experiments():
    for path in (ROOT / "sim" / "attention_array").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith(("mappers", "experiments")), f"{path}: imports {name}"
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("sim", "mappers"):
                assert not any(a.name.startswith("_") for a in node.names), f"{path}: private import {node.module}"


def test_aa_family_mapping_is_the_design_and_design_param_overrides():
    from experiments.families import get_family
    from experiments.space import Point

    fam = get_family("attention")
    assert fam.default_mapping == "fusemax" and set(fam.mappings) == {"unfused", "flat", "flashattention2", "fusemax"}
    w = {"model": "gpt2", "phase": "prefill", "batch": 1, "seq_len": 128, "kv_len": None, "layers": 1,
         "attention": "3pass", "block": 64, "lm_head": "all", "weight_dtype": "fp16",
         "activation_dtype": "fp16", "kv_dtype": "fp16"}
    small = {"array_rows": 64, "array_cols": 64, "buffer_kib": 2048}
    by_mapping = fam.evaluate(Point("attention", "flat", w, small)).metrics
    by_param = fam.evaluate(Point("attention", "fusemax", w, {**small, "design": "flat"})).metrics
    fusemax = fam.evaluate(Point("attention", "fusemax", w, small)).metrics
    assert by_mapping == by_param and by_mapping["latency_s"] != fusemax["latency_s"]
    assert by_mapping["area_mm2"] < fusemax["area_mm2"]  # FLAT's PEs (no max units, smaller register files)

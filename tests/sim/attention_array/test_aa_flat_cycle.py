"""Cycle mode's FLAT uses the artifact's mappings: iso-area 32 MiB buffer, full query blocks,
score spilling with 1024-row blocks; FlashAttention-2 streams array-wide K/V tiles.

Reference: FuseMax artifact (FPSG-UIUC/micro24-fusemax-artifact) data/pregenerated/attn-flat.csv,
transcribed in data/fusemax_artifact_points.csv.
"""
import csv
from pathlib import Path

import pytest

import sim.attention_array.attention as attention
from experiments.reproductions.fusemax_layers import layer_for, simulate_attention, simulate_model
from mappers.attention.array import flat_is_spilled, flat_mappings
from sim.attention_array import FUSEMAX, pipeline
from sim.attention_array.arch import PRESETS

DATA = Path(__file__).with_name("data") / "fusemax_artifact_points.csv"
MODELS = {"BERT": "fusemax-bert", "TrXL": "fusemax-trxl", "T5": "fusemax-t5", "XLM": "fusemax-xlm"}


def _row(name, seq):
    with open(DATA) as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        return next(r for r in rows if r["model"] == name and r["seq_len"] == seq)


@pytest.mark.parametrize("name", list(MODELS))
def test_aa_spilled_flat_traffic_equals_artifact_at_1m(name):
    res = simulate_model("flat", MODELS[name], 1 << 20)
    assert flat_is_spilled(res.mapping) and res.mapping.q_tile == 1024
    assert res.traffic_bytes == int(float(_row(name, "1M")["flat_traffic_bytes"]))


def test_aa_flat_defaults_to_iso_area_buffer_and_full_blocks():
    assert PRESETS["flat"].buffer_bytes == 2 * FUSEMAX.buffer_bytes
    res = simulate_model("flat", "fusemax-bert", 16384)
    assert res.arch.buffer_bytes == 32 * 2**20 and res.mapping.q_tile == 256


def test_aa_spill_pipeline_fast_path_equals_event_driven(monkeypatch):
    seen = []
    orig = attention.simulate_uniform

    def both(make, n, window):
        fast = orig(make, n, window)
        seen.append((fast.cycles, pipeline.simulate(make(n), window).cycles))
        return fast
    monkeypatch.setattr(attention, "simulate_uniform", both)
    layer = layer_for("fusemax-t5", 1 << 18, batch=1)
    spill = [m for m in flat_mappings(layer, PRESETS["flat"]) if flat_is_spilled(m)][0]
    simulate_attention("flat", layer, model="fusemax-t5", mapping=spill)
    assert seen and all(a == b for a, b in seen)


def test_aa_flashattention2_streams_array_wide_kv_tiles():
    res = simulate_model("flashattention2", "fusemax-bert", 65536)
    assert res.mapping.kv_tile == FUSEMAX.cols_2d
    # rescaling once per K/V block per row (SPNV, RNV: 2·d per row and block), final division once
    # per output element: the 1D array's work is the pipelined softmax (3 steps per score) plus that
    layer = res.layer
    pairs = layer.n_q * layer.n_kv * layer.instances
    per_pair = res.ops_1d / pairs
    assert per_pair == pytest.approx(3 + 2 * layer.head_dim / 256, rel=0.01)

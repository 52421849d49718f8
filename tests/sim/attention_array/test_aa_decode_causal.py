"""Decode steps and causal prefill on the array model, against closed-form traffic counts."""
from dataclasses import replace

import pytest

from mappers.attention import AttentionLayer, build
from mappers.attention.closed_form import active_tiles
from sim.attention_array.arch import FUSEMAX
from experiments.reproductions.fusemax_layers import simulate_attention, simulate_decode, simulate_model
from sim.attention_array.dataflows import SKIPS_MASKED_TILES
from workloads.errors import SpecError
from workloads.models import get_model

SMALL = replace(FUSEMAX, rows_2d=64, cols_2d=64, buffer_bytes=1 << 20)


@pytest.mark.parametrize("design", ["unfused", "flat", "flashattention2", "fusemax"])
def test_aa_decode_reads_kv_once_per_head_and_leaves_rows_idle(design):
    spec = get_model("llama-2-7b")
    kv_len, batch = 2047, 2
    r = simulate_decode(design, "llama-2-7b", kv_len, batch=batch, arch=SMALL)
    d, b, inst = spec.d_head, 2, batch * spec.n_heads
    # Q read and O written for one row, K and V read once (no GQA packing in llama-2-7b); unfused
    # does not fit one head's K, V and scores in 1 MiB, so its score row goes off chip and back
    # (row-block softmax: S written and read once, P written and read once)
    spill = 4 * (kv_len + 1) * b if design == "unfused" else 0
    assert r.traffic_bytes == inst * (d * b * (2 * 1 + 2 * (kv_len + 1)) + spill)
    assert r.util_2d <= 1 / SMALL.rows_2d + 1e-12    # one query row of the array's 64 busy
    assert r.linear_cycles > 0


@pytest.mark.parametrize("design", SKIPS_MASKED_TILES)
@pytest.mark.parametrize("n_q,n_kv", [(1, 300), (4, 300), (64, 1000)])
def test_aa_causal_decode_costs_its_unmasked_twin(design, n_q, n_kv):
    """The last query row sees every key, so no (q, kv) tile is fully masked."""
    causal = AttentionLayer(n_q=n_q, n_kv=n_kv, head_dim=64, causal=True)
    dense = replace(causal, causal=False)
    for bc in (16, 64, 256):
        a = build(design, causal, 1 << 22, n_q, bc).traffic
        b = build(design, dense, 1 << 22, n_q, bc).traffic
        assert a.total_bytes == b.total_bytes and a.computed_pairs == b.computed_pairs
        assert active_tiles(causal, n_q, bc, True) == -(-n_kv // bc)


def test_aa_causal_prefill_tile_skipping_closed_form():
    """N = 4T, Br = Bc = T: q tile i computes kv tiles 0..i (10 of 16); K and V rows read
    T·(1 + 2 + 3 + 4) minus the tile 0 still resident after the first sweep."""
    t, d, b = 64, 64, 2
    layer = AttentionLayer(n_q=4 * t, n_kv=4 * t, head_dim=d, causal=True)
    m = build("fusemax", layer, 1 << 20, t, t)
    assert active_tiles(layer, t, t, True) == 10
    assert m.traffic.read_bytes["K"] == (10 - 1) * t * d * b
    assert m.traffic.computed_pairs == 10 * t * t
    r = simulate_attention("fusemax", layer, SMALL, model="gpt2", mapping=m)
    dense = simulate_attention("fusemax", replace(layer, causal=False), SMALL, model="gpt2",
                               mapping=build("fusemax", replace(layer, causal=False), 1 << 20, t, t))
    # same per-tile work, 10 of 16 tiles
    assert r.ops_2d == pytest.approx(dense.ops_2d * 10 / 16, rel=1e-9)
    assert r.cycles < dense.cycles


@pytest.mark.parametrize("design", ["unfused", "flat"])
def test_aa_causal_prefill_row_designs_cost_the_twin(design):
    c = simulate_model(design, "gpt2", 512, batch=1, arch=SMALL, causal=True)
    n = simulate_model(design, "gpt2", 512, batch=1, arch=SMALL)
    assert (c.cycles, c.energy_pj, c.traffic_bytes) == (n.cycles, n.energy_pj, n.traffic_bytes)
    assert c.lower_bound_bytes <= n.lower_bound_bytes


@pytest.mark.parametrize("design", SKIPS_MASKED_TILES)
def test_aa_causal_prefill_skipping_designs_do_less_work(design):
    c = simulate_model(design, "gpt2", 1024, batch=1, arch=SMALL, causal=True)
    n = simulate_model(design, "gpt2", 1024, batch=1, arch=SMALL)
    assert c.ops_2d < 0.6 * n.ops_2d and c.energy_pj < n.energy_pj and c.cycles < n.cycles


def test_aa_decode_rejects_encoders():
    with pytest.raises(SpecError):
        simulate_decode("fusemax", "bert-base", 127)

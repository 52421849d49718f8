"""Array model: utilization by binding, footprints, energy accounting."""
import pytest
import yaml

from mappers.attention import AttentionLayer, build
from experiments.reproductions.fusemax_layers import layer_for, simulate_attention, simulate_model
from sim.attention_array import FUSEMAX
from sim.attention_array.arch import ENERGY_TABLE_PATH


@pytest.mark.parametrize("seq_len", [1 << 16, 1 << 20])
def test_aa_fusemax_fills_2d_array_at_long_sequences(seq_len):
    fm = simulate_model("fusemax", "fusemax-bert", seq_len)
    assert fm.util_2d > 0.9
    flat = simulate_model("flat", "fusemax-bert", seq_len)
    assert flat.util_2d < 0.3
    assert flat.util_1d > flat.util_2d
    assert flat.cycles > 3 * fm.cycles


def test_aa_unfused_shows_imbalance():
    un = simulate_model("unfused", "fusemax-trxl", 1 << 14)
    assert un.util_2d < 0.3
    qk = next(s for s in un.stages if s.stage == "qk")
    soft = next(s for s in un.stages if s.stage == "softmax")   # the row-block softmax pass
    assert soft.util_2d == 0.0 and qk.util_1d == 0.0


def test_aa_fusemax_footprint_independent_of_n_flat_grows():
    big = 1 << 40
    fp = {n: build("fusemax", AttentionLayer(n, n, 64), big, 256, 256).footprint_bytes
          for n in (4096, 65536)}
    assert fp[4096] == fp[65536] == 256 * 64 * 2 * 2 + 2 * 256 * 4 + 4 * 256 * 64 * 2
    fl = {n: build("flat", AttentionLayer(n, n, 64), big, 256, 256).footprint_bytes
          for n in (4096, 65536)}
    assert fl[65536] - fl[4096] == 256 * (65536 - 4096) * 2


def test_aa_fusemax_cycles_near_mac_bound():
    layer = layer_for("fusemax-bert", 1 << 16)
    res = simulate_attention("fusemax", layer, FUSEMAX, model="fusemax-bert")
    mac_cycles = 2 * layer.head_dim * layer.n_q * layer.n_kv * layer.instances / (256 * 256)
    assert mac_cycles <= res.cycles <= 1.1 * mac_cycles


def test_aa_energy_is_sum_of_actions_times_table():
    with open(ENERGY_TABLE_PATH) as fh:
        table = yaml.safe_load(fh)["actions"]
    res = simulate_model("flat", "fusemax-t5", 4096)
    expect = sum(n * table[a]["energy_pj"] for a, n in res.actions.items())
    assert res.energy_pj == pytest.approx(expect, rel=1e-12)
    assert res.actions["dram_access"] == pytest.approx(res.traffic_bytes / 8)


def test_aa_every_energy_entry_has_a_source():
    with open(ENERGY_TABLE_PATH) as fh:
        table = yaml.safe_load(fh)["actions"]
    assert all(entry.get("source") for entry in table.values())

"""Scale-out specs and closed forms: the scaleout block, the Megatron shard, ring collectives, stages."""
import dataclasses

import pytest
import yaml

from sim.system import load_system, parse_system
from sim.system.scaleout import (DeviceLinkSpec, allreduce_wire_bytes, device_system, kv_heads_per_device,
                                 ring_allgather_s, ring_allreduce_s, shard_model, stage_comm, stage_layers)
from sim.system.spec import PRESETS_DIR
from workloads import SpecError, get_model

LINK = DeviceLinkSpec(bandwidth_bytes_per_s=6.3e10, latency_s=5e-7, energy_pj_per_bit=10.0, topology="switch",
                      source="CXL 2.0 x16")


def cent():
    return yaml.safe_load(open(PRESETS_DIR / "cent-like.yaml"))


def test_cent_like_preset_loads_with_its_scaleout_cited():
    spec = load_system("cent-like")
    so = spec.scaleout
    assert (so.devices, so.tp, so.pp) == (32, 8, 4)
    assert so.group == ("pim", "pnm") and so.link.topology == "switch"
    assert so.source.strip() and so.link.source.strip()
    assert so.link.bandwidth_bytes_per_s == pytest.approx(32e9 * 16 * 128 / 130 / 8, rel=1e-3)  # CXL 2.0 x16
    assert load_system("pim-gpt").scaleout is None


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["scaleout"].update(devices=30), "tensor_parallel 8 x pipeline_parallel 4 must equal devices 30"),
    (lambda d: d["scaleout"].pop("link"), "32 devices need a device-to-device link"),
    (lambda d: d["scaleout"].update(group=["pim", "gpu"]), "scaleout.group: no unit named 'gpu'"),
    (lambda d: d["scaleout"]["link"].update(topology="mesh"), "scaleout.link.topology"),
    (lambda d: d["scaleout"]["link"].update(source=""), "scaleout.link.source: Value error, every number cites"),
    (lambda d: d["scaleout"].update(devices=0), "scaleout.devices"),
    (lambda d: d["scaleout"].update(ways=2), "scaleout.ways: Extra inputs are not permitted"),
])
def test_bad_scaleout_blocks_are_one_line(edit, message):
    data = cent()
    edit(data)
    with pytest.raises(SpecError) as err:
        parse_system(data, "cent.yaml")
    assert message in str(err.value) and "\n" not in str(err.value)


def test_device_system_keeps_the_group_and_its_links():
    data = cent()
    data["units"].append({"name": "cpu", "family": "roofline", "params": {}, "memory_bytes": 1e9, "source": "x"})
    data["links"].append({"between": ["cpu", "pnm"], "bandwidth_bytes_per_s": 1e9, "latency_s": 0,
                          "energy_pj_per_bit": 1, "source": "x"})
    dev = device_system(parse_system(data))
    assert dev.unit_names == ("pim", "pnm") and [lk.name for lk in dev.links] == ["pim--pnm"]
    assert dev.host == "pnm" and dev.scaleout is None


def _norms(m, layers):
    return (2 * layers + 1) * m.d_model  # RMSNorm gains, replicated on every device


def test_shard_weights_are_total_over_t_plus_replicated_norms():
    m = get_model("llama-2-7b")  # MHA: 32 heads, 32 KV heads, d_ff 11008, vocab 32000
    for t in (2, 4, 8, 16, 32):
        s = shard_model(m, t)
        assert (s.n_heads, s.kv_heads, s.d_ff, s.vocab_size, s.d_model) == (32 // t, 32 // t, 11008 // t, 32000 // t,
                                                                           4096)
        rep = _norms(m, 32)
        assert s.param_count() == (m.param_count() - rep) // t + rep
    assert shard_model(m, 1) is m


def test_llama2_70b_shard_by_hand():
    from experiments.system.scaleout import MODELS

    m = MODELS["llama-2-70b"]
    assert m.param_count() == m.published_params == 68_976_648_192
    s = shard_model(m, 32)  # 64 heads / 32 = 2 query heads; 8 KV heads < 32: one KV head per device
    assert (s.n_heads, s.kv_heads, s.d_ff, s.vocab_size) == (2, 1, 896, 1000)
    d, e = 8192, 128
    layer = d * 2 * e + 2 * d * 1 * e + 2 * e * d + 3 * d * 896 + 2 * d
    assert s.param_count() == 80 * layer + 2 * 1000 * d + d
    # 8 ways: KV heads split exactly, so the shard is total/8 + the replicated norms
    rep = _norms(m, 80)
    assert shard_model(m, 8).param_count() == (m.param_count() - rep) // 8 + rep


def test_shards_that_do_not_split_are_refused():
    m = get_model("llama-2-7b")
    with pytest.raises(SpecError, match="32 attention heads do not split over 3 devices"):
        shard_model(m, 3)
    gqa = dataclasses.replace(m, n_heads=24, n_kv_heads=8, name="gqa")
    with pytest.raises(SpecError, match="8 KV heads neither split over 6 devices nor divide 6"):
        kv_heads_per_device(gqa, 6)
    assert kv_heads_per_device(gqa, 4) == 2 and kv_heads_per_device(gqa, 16) == 1


def test_ring_allreduce_closed_form():
    n = 1 * 1 * 8192 * 2  # B x q x d_model x fp16: one decode token of LLaMA-2-70B
    t = 8
    by_hand = 2 * 7 / 8 * 16384 / 6.3e10 + 14 * 5e-7
    assert ring_allreduce_s(n, t, LINK) == pytest.approx(by_hand, rel=1e-15)
    assert ring_allgather_s(64000, t, LINK) == pytest.approx(7 / 8 * 64000 / 6.3e10 + 7 * 5e-7, rel=1e-15)
    assert allreduce_wire_bytes(n, t) == 2 * 7 * 16384
    assert ring_allreduce_s(n, 1, None) == 0.0


def test_stage_comm_counts_two_allreduces_per_layer():
    act, logits = 16384.0, 64000.0
    mid = stage_comm(20, False, False, act, logits, 8, LINK)
    assert mid.allreduces == 40 and mid.allgather_bytes == 0
    assert mid.time_s == pytest.approx(40 * ring_allreduce_s(act, 8, LINK), rel=1e-14)
    assert mid.energy_j == pytest.approx(40 * 2 * 7 * act * 8 * 10e-12, rel=1e-14)
    whole = stage_comm(20, True, True, act, logits, 8, LINK)  # + the embedding's all-reduce + the logits' all-gather
    assert whole.allreduces == 41
    assert whole.time_s == pytest.approx(41 * ring_allreduce_s(act, 8, LINK) + ring_allgather_s(logits, 8, LINK))
    assert stage_comm(20, True, True, act, logits, 1, None).time_s == 0.0


def test_stage_layers_are_balanced():
    assert stage_layers(80, 4) == (20, 20, 20, 20)
    assert stage_layers(80, 3) == (27, 27, 26)
    assert stage_layers(32, 1) == (32,)
    with pytest.raises(SpecError, match="pipeline_parallel 5: the model has only 4 layers"):
        stage_layers(4, 5)

"""`search-fused`: intermediates kept in the global buffer where they fit (mappers.mapspace.fusion).

Hand-computed chain: X[M,N] (input) -> A: Y = X * G -> B: Z = Y * G (Z the output), fp16, M=64,
N=128: Y is 64·128·2 = 16,384 B; A moves X (16,384) + G (256) + Y (16,384) = 33,024 B off chip
unfused, B the same; fusing Y takes exactly 16,384 B off each.
"""
from __future__ import annotations

import pytest

import mappers.roofline
from experiments.families import cascade_of, get_family
from experiments.families.roofline import RooflineParams
from experiments.space import Point
from experiments.support import workload
from mappers.mapspace.fusion import fuse
from workloads.ir.builder import CascadeBuilder

Y_BYTES = 64 * 128 * 2


def chain(second_consumer: bool = False):
    b = CascadeBuilder("chain")
    b.rank("M", 64)
    b.rank("N", 128)
    b.tensor("X", "M,N", role="input")
    b.tensor("G", "N", role="weight")
    b.einsum("A", "Y[M,N] = X[M,N] * G[N]")
    b.einsum("B", "Z[M,N] = Y[M,N] * G[N]")
    outs = ["Z"]
    if second_consumer:
        b.einsum("C", "U[M,N] = Y[M,N] * G[N]")
        outs.append("U")
    b.output(*outs)
    return b.build({"phase": "prefill", "batch": 1, "seq_len": 64})


def run(cascade, strategy: str, buffer_mib: float = 1.0):
    spec = RooflineParams(buffer_mib=buffer_mib).spec()
    fam = get_family("roofline")
    mapping = mappers.roofline.map(cascade, spec, strategy)
    return mapping, fam.simulate(mapping, spec)


def test_fusing_a_two_einsum_chain_removes_exactly_the_intermediate():
    cascade = chain()
    _, unfused = run(cascade, "search")
    mapping, fused = run(cascade, "search-fused")
    before = dict(zip(unfused.rows["einsum"], unfused.rows["offchip_bytes"]))
    after = dict(zip(fused.rows["einsum"], fused.rows["offchip_bytes"]))
    assert before == {"A": 2 * Y_BYTES + 256, "B": 2 * Y_BYTES + 256}
    assert before["A"] - after["A"] == Y_BYTES and before["B"] - after["B"] == Y_BYTES
    assert mapping.plan.tensors == ("Y",)
    assert mapping.of("A").fusion_group == mapping.of("B").fusion_group == "fused:A"
    assert mapping.of("A").offchip_bytes == after["A"]
    assert list(fused.rows["fusion_group"]) == ["fused:A", "fused:A"]
    spec = RooflineParams().spec()
    saved_j = unfused.rows["energy_dram_j"].sum() - fused.rows["energy_dram_j"].sum()
    assert saved_j == pytest.approx(2 * Y_BYTES * 8 * spec.dram_energy_j_per_bit, rel=1e-12)
    assert fused.latency_s < unfused.latency_s
    fused.check_covers(cascade)


def test_a_tensor_too_large_for_the_buffer_is_not_fused():
    cascade = chain()
    small = (Y_BYTES - 1) / 2**20
    mapping, fused = run(cascade, "search-fused", buffer_mib=small)
    assert mapping.plan.tensors == () and set(fused.rows["fusion_group"]) == {""}
    plan = fuse(cascade, Y_BYTES, {}, {"A": 1e9, "B": 1e9})
    assert plan.tensors == ("Y",)
    assert fuse(cascade, Y_BYTES, {"B": 1.0}, {"A": 1e9, "B": 1e9}).tensors == ()


def test_a_tensor_with_two_consumers_is_not_fused():
    plan = fuse(chain(second_consumer=True), 2**30, {}, {"A": 1e9, "B": 1e9, "C": 1e9})
    assert plan.tensors == () and plan.removed == {}


@pytest.mark.parametrize("model", ["gpt2", "llama2-7b"])
def test_fused_is_never_worse_than_search_on_a_zoo_layer(model):
    fam = get_family("roofline")
    w = workload(model, "prefill")
    base = fam.result(Point("roofline", "search", w, {}))
    fused = fam.result(Point("roofline", "search-fused", w, {}))
    fused.check_covers(cascade_of(w))
    assert list(fused.rows["einsum"]) == list(base.rows["einsum"])
    assert (fused.rows["offchip_bytes"] <= base.rows["offchip_bytes"] + 1e-9).all()
    assert (fused.rows["latency_s"] <= base.rows["latency_s"] * (1 + 1e-12)).all()
    assert (fused.rows["energy_j"] <= base.rows["energy_j"] * (1 + 1e-12)).all()
    assert fused.rows["offchip_bytes"].sum() < base.rows["offchip_bytes"].sum()
    assert fused.latency_s < base.latency_s and fused.energy_j < base.energy_j
    assert (fused.rows["fusion_group"] != "").any()

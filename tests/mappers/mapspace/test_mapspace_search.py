"""The mapspace search: lossless pruning, never worse than the fixed dataflow, cached, on the zoo."""
from __future__ import annotations

import pytest

from experiments.families import cascade_of
from experiments.support import workload
from mappers.mapspace import output_stationary, search
from mappers.mapspace.cascade import problems, unnamed
from mappers.mapspace.search import space_size
from mappers.mapspace.space import order_classes
from sim import roofline
from sim.pe_array import Level, PEArraySpec, SpatialDim, evaluate, from_bitserial, from_roofline, gemm
from sim.pe_array.spec import INF
from workloads import MODELS
from workloads.errors import SpecError


def toy():
    return PEArraySpec("toy", (Level("DRAM", INF, 4, 100), Level("GLB", 512, 16, 6), Level("PEbuf", 32, INF, 1),
                               Level("REG", 3, INF, 0)), (SpatialDim("rows", 4), SpatialDim("cols", 4)),
                       fanout_level=1, clock_hz=1e9, mac_energy_pj=1, systolic=True)


@pytest.mark.parametrize("objective", ["latency", "energy", "edp"])
@pytest.mark.parametrize("shape", [(1, 16, 16, 16), (1, 8, 32, 4), (2, 8, 8, 12)])
def test_pruned_search_finds_the_exhaustive_best(shape, objective):
    p, spec = gemm(*shape, 1, 1, 1), toy()
    full = search(p, spec, objective, "exhaustive")
    pruned = search(p, spec, objective, "pruned")
    assert full.evaluated == space_size(p, spec)[0] + 1  # + the fixed nest
    assert pruned.evaluated < full.evaluated / 10
    assert pruned.cost.objective(objective) <= full.cost.objective(objective) * 1.0001


def test_loop_order_classes_of_a_gemm():
    p = gemm(1, 4, 4, 4)
    # three ranks: which one is innermost decides each tensor's stationarity
    assert len(order_classes(("M", "K", "N"), p)) == 3
    assert len(order_classes(("M",), p)) == 1


def test_the_search_is_cached_and_counts():
    p, spec = gemm(1, 16, 16, 16, 1, 1, 1), toy()
    a = search(p, spec, "latency", "pruned", 100, 7)
    assert search(p, spec, "latency", "pruned", 100, 7) is a
    assert 1 < a.evaluated


def zoo_problems():
    spec = from_roofline(roofline.accelerator(1024, 1e9, 2**20, 25.6e9))
    for model in MODELS:
        for phase in ("prefill", "decode"):
            try:
                cascade = cascade_of(workload(model, phase))
            except SpecError:  # an encoder has no decode phase
                continue
            yield from ((model, phase, spec, unnamed(p)) for p in problems(cascade, 2, 2, 2))


def test_never_worse_than_the_fixed_dataflow_on_any_zoo_layer():
    seen = set()
    better = 0
    for model, phase, spec, p in zoo_problems():
        if (p, spec) in seen:
            continue
        seen.add((p, spec))
        res = search(p, spec, "latency", "auto", 300)
        fixed = evaluate(p, output_stationary(p, spec), spec)
        assert res.cost.valid and fixed.valid, (model, phase, p)
        assert res.cost.cycles <= fixed.cycles, (model, phase, p)
        better += res.cost.cycles < fixed.cycles
    assert better > 0  # 27 of 132 distinct shapes strictly faster at seq 64 (the rest tie: compute-bound, full use)


def test_bitserial_array_search_respects_the_lanes():
    from sim.bitserial.presets import accelerator

    acc = accelerator("bitmod-lossy", "discriminative", "llama-2-7b")
    pe = from_bitserial(acc)
    res = search(gemm(1, 256, 4096, 4096, 2, acc.weight_bits / 8, 2), pe, "latency", "pruned", 500)
    assert res.cost.cycles <= res.fixed.cycles
    lanes = [r for d, r, _ in res.nest.spatial if d == "lanes"]
    assert lanes in ([], ["K"])

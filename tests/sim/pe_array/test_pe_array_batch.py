"""The batched nest cost (`sim.pe_array.batch.evaluate_batch`) equals the scalar reference
(`sim.pe_array.cost.evaluate`) — validity, bytes per level, compute and fill/drain cycles, latency,
energy, EDP — on random GEMM shapes, arrays (systolic or not, per-role capacities, bandwidth
limits, a fan-out at either level) and nests (random spatial loops, random divisor tilings and
loop orders, padding, invalid nests among them), to rel 1e-12."""
from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mappers.mapspace import search
from sim.pe_array import Level, Nest, PEArraySpec, SpatialDim, evaluate, gemm
from sim.pe_array.batch import evaluate_batch
from sim.pe_array.spec import INF

REL = 1e-12


def close(a: float, b: float) -> bool:
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= REL * max(abs(a), abs(b), 1e-300)


@st.composite
def arrays(draw) -> PEArraySpec:
    nl = draw(st.integers(3, 4))
    bw = st.one_of(st.just(INF), st.floats(0.5, 256))
    en = st.floats(0.0, 200.0)
    levels = [Level("DRAM", INF, draw(bw), draw(en))]
    split = draw(st.booleans())
    for i in range(1, nl - 1):
        cap = draw(st.sampled_from([64, 512, 4096, 2**20]))
        if split and i == 1:
            levels.append(Level(f"L{i}", cap, draw(bw), draw(en), holds=("input", "weight"),
                                capacity_by_role=(("weight", cap / 2), ("input", cap / 2))))
        else:
            levels.append(Level(f"L{i}", cap, draw(bw), draw(en)))
    levels.append(Level("REG", draw(st.sampled_from([3, 6, 8])), INF, draw(en)))
    dims = [SpatialDim("rows", draw(st.integers(1, 16))), SpatialDim("cols", draw(st.integers(1, 16)))]
    if draw(st.booleans()):
        dims.append(SpatialDim("lanes", draw(st.integers(1, 8)), reduce_only=True))
    return PEArraySpec("rand", tuple(levels), tuple(dims), fanout_level=draw(st.integers(0, nl - 2)),
                       clock_hz=1e9, mac_energy_pj=draw(en), cycles_per_step=draw(st.integers(1, 4)),
                       systolic=draw(st.booleans()))


def random_nest(draw, problem, spec) -> Nest:
    ranks = [r for r, _ in problem.ranks]
    spatial, left = [], dict(problem.sizes)
    for d in spec.spatial:
        r = draw(st.sampled_from([None, *ranks]))
        if r is None or any(r == q for _, q, _ in spatial) or (d.reduce_only and r not in problem.reduced):
            continue
        f = draw(st.integers(1, d.size))
        spatial.append((d.name, r, f))
        left[r] = math.ceil(left[r] / f)
    temporal = [[] for _ in spec.levels]
    for r in ranks:
        rest = left[r]
        for i in draw(st.permutations(range(len(spec.levels)))):
            b = draw(st.sampled_from([d for d in range(1, rest + 1) if rest % d == 0]))
            if b > 1 or draw(st.booleans()):
                temporal[i].append((r, b))
            rest //= b
        if rest > 1:
            temporal[0].append((r, rest))
    temporal = [tuple(draw(st.permutations(lv))) for lv in temporal]
    return Nest(tuple(temporal), tuple(spatial))


@st.composite
def cases(draw):
    dim = st.integers(1, 48)
    nbytes = st.sampled_from([0.5, 1.0, 2.0, 1.5])
    p = gemm(draw(st.integers(1, 3)), draw(dim), draw(dim), draw(dim), draw(nbytes), draw(nbytes), draw(nbytes))
    spec = draw(arrays())
    nests = [random_nest(draw, p, spec) for _ in range(draw(st.integers(1, 6)))]
    return p, spec, nests


@settings(max_examples=300, deadline=None)
@given(cases())
def test_batched_cost_equals_the_scalar_cost(case):
    p, spec, nests = case
    batch = evaluate_batch(p, nests, spec)
    for j, nest in enumerate(nests):
        ref = evaluate(p, nest, spec)
        assert bool(batch.valid[j]) == ref.valid, ref.reason
        if not ref.valid:
            assert math.isinf(batch.cycles[j])
            continue
        for i, lvl in enumerate(spec.levels):
            assert close(batch.bytes_by_level[j, i], ref.bytes_by_level[lvl.name]), lvl.name
        assert close(batch.compute_cycles[j], ref.compute_cycles)
        assert close(batch.fill_drain_cycles[j], ref.fill_drain_cycles)
        assert close(batch.cycles[j], ref.cycles)
        assert close(batch.energy_pj[j], ref.energy_pj)
        assert close(batch.edp[j], ref.edp)
        for o in ("latency", "energy", "edp"):
            assert close(batch.objective(o)[j], ref.objective(o))


def test_the_search_result_is_costed_by_the_scalar_model():
    levels = (Level("DRAM", INF, 8.0, 100.0), Level("GLB", 4096, INF, 6.0), Level("REG", 3, INF, 0.5))
    spec = PEArraySpec("toy", levels, (SpatialDim("rows", 4), SpatialDim("cols", 4)), 1, 1e9, 1.0)
    p = gemm(1, 24, 16, 12, 1, 1, 1)
    res = search(p, spec, "latency", "exhaustive")
    assert res.cost == evaluate(p, res.nest, spec)
    every = evaluate_batch(p, [res.nest, res.nest], spec)
    assert np.all(every.cycles == res.cost.cycles)

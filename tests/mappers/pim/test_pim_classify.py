"""The PIM mapper reads each Einsum's role from its ranks and its tensors' roles, never from
`cascade.meta` or from two sizes happening to be equal."""
import dataclasses

import pytest

from mappers.pim import DecodeSteps, classify, map_decode
from workloads import Dtypes, lower
from workloads.errors import SpecError


def _kinds(cascade) -> dict[str, str]:
    return {p.einsum: p.kind for p in classify(cascade)}


def test_seq_len_equal_to_d_head_keeps_score_and_context_apart():
    # GPT-2: d_head 64; a cache of 64 tokens makes q.K and p.V both 64-long dot products
    cascade = lower("gpt2", "decode", seq_len=64, layers=1)
    assert cascade.rank_sizes["M"] == cascade.rank_sizes["E"] == 64
    kinds = _kinds(cascade)
    assert kinds["L0.QK"] == "score" and kinds["L0.AV"] == "context"
    plan = map_decode(cascade)
    by_name = {p.einsum: p for p in plan.placements}
    assert (by_name["L0.QK"].streams, by_name["L0.QK"].in_len) == (12, 64)
    assert (by_name["L0.AV"].streams, by_name["L0.AV"].out_rows, by_name["L0.AV"].in_len) == (12, 64, 64)


def test_the_mapper_does_not_read_the_cascade_meta():
    cascade = lower("gpt2", "decode", seq_len=64, layers=2)
    blind = dataclasses.replace(cascade, meta={})
    a, b = map_decode(cascade), map_decode(blind)
    assert a.placements == b.placements and a.kv_len == b.kv_len == 64
    for kv in (1, 64, 300):
        assert a.steps(kv, runs=True) == b.steps(kv, runs=True)


def test_units_by_role():
    kinds = _kinds(lower("gpt2", "decode", seq_len=128, layers=1))
    assert kinds["L0.Q_mm"] == kinds["L0.2_mm"] == kinds["LOGITS"] == "weight"
    assert kinds["L0.Kcache"] == kinds["L0.Vcache"] == "kv_append"
    # LayerNorm's sum of squares is a MAC Einsum, but of one tensor with itself: ASIC
    assert kinds["L0.N1.VAR"] == kinds["L0.SN"] == kinds["EMB.X"] == kinds["L0.Q"] == "vector"


def test_grouped_query_attention_shapes_from_ranks():
    # LLaMA-3 8B: 32 query heads over 8 KV heads of 128
    by_name = {p.einsum: p for p in classify(lower("llama-3-8b", "decode", seq_len=100, layers=1))}
    qk, av = by_name["L0.QK"], by_name["L0.AV"]
    assert (qk.kind, qk.streams, qk.in_len) == ("score", 32, 128)
    assert (av.kind, av.streams, av.out_rows, av.in_len) == ("context", 32, 128, 100)
    assert (by_name["L0.K"].kind, by_name["L0.K"].out_rows, by_name["L0.K"].in_len) == ("weight", 8 * 128, 4096)


def test_batch_is_one_stream_per_sequence():
    one = {p.einsum: p for p in classify(lower("gpt2", "decode", seq_len=64, layers=1))}
    two = {p.einsum: p for p in classify(lower("gpt2", "decode", batch=2, seq_len=64, layers=1))}
    assert (one["L0.Q_mm"].streams, two["L0.Q_mm"].streams) == (1, 2)
    assert two["L0.Q_mm"].out_rows == one["L0.Q_mm"].out_rows == 768
    assert (one["L0.QK"].streams, two["L0.QK"].streams) == (12, 24)
    plan = map_decode(lower("gpt2", "decode", batch=2, seq_len=64, layers=1))
    gemv = next(s for s in plan.steps(64) if s.name == "L0.Q_mm")
    # every channel runs the 768 x 768 GEMV twice, reloading its GB for the second sequence
    tiles = gemv.tiles[0]
    assert len(tiles) == 2 * 6 and tiles[0].gb_bursts == tiles[6].gb_bursts == 48


@pytest.mark.parametrize("lm_head, present", [("all", True), ("last", True), ("none", False)])
def test_lm_head_follows_the_cascade(lm_head, present):
    kinds = _kinds(lower("gpt2", "decode", seq_len=16, layers=1, lm_head=lm_head))
    assert ("LOGITS" in kinds) == present
    if present:
        assert kinds["LOGITS"] == "weight"


@pytest.mark.parametrize("kwargs, names", [
    ({"attention": "2pass"}, "L0.QK"),
    ({"seq_len": 1}, "L0.QK"),
    ({"dtypes": Dtypes(weight="int8")}, "int8"),
])
def test_what_pim_gpt_cannot_map_is_refused_naming_it(kwargs, names):
    args = {"seq_len": 16, "layers": 1, **kwargs}
    with pytest.raises(SpecError, match=names):
        map_decode(lower("gpt2", "decode", **args))


def test_decode_builder_equals_mapper_steps():
    plan = map_decode(lower("gpt2", "decode", seq_len=1024))
    build = DecodeSteps(plan)
    for kv in (1, 64, 300, 1024):
        assert build(kv) == plan.steps(kv)


def test_token_kv_ends_at_the_cascade_cache():
    plan = map_decode(lower("gpt2", "decode", seq_len=40, layers=1), tokens=40)
    assert [plan.token_kv(t) for t in (0, 1, 39)] == [1, 2, 40]
    assert plan.token_steps(39) == plan.steps(40, runs=True)
    with pytest.raises(SpecError, match="tokens: 41"):
        map_decode(lower("gpt2", "decode", seq_len=40, layers=1), tokens=41)

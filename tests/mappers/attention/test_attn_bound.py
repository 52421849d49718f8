"""No mapping of any design, tile size or buffer size falls below the concrete lower bound."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mappers.attention.bound import traffic_bound
from mappers.attention.designs import DESIGNS, build
from mappers.attention.layer import AttentionLayer
from workloads.errors import SpecError


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    design=st.sampled_from(DESIGNS),
    n_q=st.integers(1, 300), extra_kv=st.integers(0, 300),
    d=st.integers(1, 64), b=st.sampled_from([1, 2, 4]),
    causal=st.booleans(), skip=st.booleans(),
    log_buffer=st.floats(4.0, 22.0),
    q_frac=st.floats(0.0, 1.0), kv_frac=st.floats(0.0, 1.0),
    heads=st.sampled_from([(1, 1), (4, 1), (4, 2)]),
)
def test_attn_traffic_never_below_bound(design, n_q, extra_kv, d, b, causal, skip, log_buffer,
                                        q_frac, kv_frac, heads):
    layer = AttentionLayer(n_q=n_q, n_kv=n_q + extra_kv, head_dim=d, bytes_per_element=b,
                           causal=causal, heads=heads[0], kv_heads=heads[1])
    buffer = int(2 ** log_buffer)
    br = max(1, int(q_frac * n_q))
    bc = max(1, int(kv_frac * layer.n_kv))
    try:
        mapping = build(design, layer, buffer, br, bc, skip_masked=skip)
    except SpecError:
        return
    bound = traffic_bound(layer, buffer)
    assert mapping.traffic.total_bytes >= bound.lower_bound_bytes * (1 - 1e-12)


def test_attn_bound_terms_by_hand():
    layer = AttentionLayer(n_q=1024, n_kv=1024, head_dim=64, bytes_per_element=2)
    bound = traffic_bound(layer, 256 * 1024)
    assert bound.trivial_bytes == 4 * 1024 * 64 * 2
    assert bound.pair_bytes == pytest.approx(4 * 64**2 * 2**2 * 1024**2 / (256 * 1024))
    words = 128 * 1024
    assert bound.matmul_bytes == pytest.approx(2 * (2 * 1024**2 * 64 / math.sqrt(words) - 2 * words))


def test_attn_bound_regimes():
    small_cache = AttentionLayer(n_q=4096, n_kv=4096, head_dim=256, bytes_per_element=1)
    assert traffic_bound(small_cache, 4096).regime == "matmul"   # M = 4096 < d^2
    long = AttentionLayer(n_q=65536, n_kv=65536, head_dim=64)
    assert traffic_bound(long, 256 * 1024).regime == "pair"
    short = AttentionLayer(n_q=128, n_kv=128, head_dim=64)
    assert traffic_bound(short, 4 << 20).regime == "trivial"


def test_attn_causal_pairs_brute_force():
    for n_q, n_kv in [(1, 1), (5, 5), (3, 9), (17, 40)]:
        layer = AttentionLayer(n_q=n_q, n_kv=n_kv, head_dim=1, causal=True)
        want = sum(1 for i in range(n_q) for j in range(n_kv) if j <= i + n_kv - n_q)
        assert layer.pairs_per_head() == want


def test_attn_oversized_tiling_rejected():
    layer = AttentionLayer(n_q=4096, n_kv=4096, head_dim=128)
    with pytest.raises(SpecError, match="more than"):
        build("flashattention2", layer, 64 * 1024, 512, 64)
    with pytest.raises(SpecError):
        AttentionLayer(n_q=8, n_kv=4, head_dim=8, causal=True)
    with pytest.raises(SpecError):
        AttentionLayer(n_q=8, n_kv=8, head_dim=8, heads=6, kv_heads=4)

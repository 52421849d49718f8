"""The search's closed forms equal the exact loop-nest counter (ragged tiles, causal skipping, GQA)."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mappers.attention.closed_form import closed_form_traffic
from mappers.attention.designs import (
    DESIGNS,
    ORDER_VARIANTS,
    PACKING_DESIGNS,
    build,
    unfused_on_chip_bytes,
)
from mappers.attention.layer import AttentionLayer


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    design=st.sampled_from(DESIGNS),
    n_q=st.integers(1, 400), extra_kv=st.integers(0, 200),
    q_frac=st.floats(0.0, 1.2), kv_frac=st.floats(0.0, 1.2),
    d=st.integers(1, 16), b=st.sampled_from([1, 2, 4]),
    causal=st.booleans(), skip=st.booleans(), spill=st.booleans(),
    heads=st.sampled_from([(1, 1), (4, 2), (2, 2)]), batch=st.integers(1, 2),
)
def test_attn_closed_form_equals_counter(design, n_q, extra_kv, q_frac, kv_frac, d, b, causal,
                                         skip, spill, heads, batch):
    layer = AttentionLayer(n_q=n_q, n_kv=n_q + extra_kv, head_dim=d, bytes_per_element=b,
                           causal=causal, heads=heads[0], kv_heads=heads[1], batch=batch)
    br = max(1, int(q_frac * n_q))
    bc = max(1, int(kv_frac * layer.n_kv))
    buffer = unfused_on_chip_bytes(layer) - 1 if design == "unfused" and spill else 1 << 40
    if design == "unfused" and spill:
        buffer = max(buffer, 1)
        try:
            mapping = build(design, layer, buffer, br, bc, skip_masked=skip)
        except ValueError:
            return
    else:
        mapping = build(design, layer, buffer, br, bc, skip_masked=skip)
    assert closed_form_traffic(design, layer, br, bc, skip, buffer) == mapping.traffic


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    design=st.sampled_from(ORDER_VARIANTS),
    n_q=st.integers(1, 400), extra_kv=st.integers(0, 200),
    q_frac=st.floats(0.0, 1.2), kv_frac=st.floats(0.0, 1.2), keep=st.integers(1, 40),
    serpentine=st.booleans(), causal=st.booleans(),
    heads=st.sampled_from([(1, 1), (4, 2)]), batch=st.integers(1, 2),
)
def test_attn_closed_form_kept_tail_equals_counter(design, n_q, extra_kv, q_frac, kv_frac, keep,
                                                   serpentine, causal, heads, batch):
    layer = AttentionLayer(n_q=n_q, n_kv=n_q + extra_kv, head_dim=4, causal=causal,
                           heads=heads[0], kv_heads=heads[1], batch=batch)
    br = max(1, int(q_frac * n_q))
    bc = max(1, int(kv_frac * layer.n_kv))
    mapping = build(design, layer, 1 << 40, br, bc, skip_masked=not causal, kv_keep=keep,
                    serpentine=serpentine)
    assert closed_form_traffic(design, layer, br, bc, not causal, 1 << 40, keep,
                               serpentine) == mapping.traffic


def test_attn_closed_form_large_shape():
    layer = AttentionLayer(n_q=20000, n_kv=30000, head_dim=64, causal=True)
    for design in DESIGNS:
        buffer = 1 << 40 if design != "unfused" else unfused_on_chip_bytes(layer) - 1
        mapping = build(design, layer, buffer, 937, 211)
        assert closed_form_traffic(design, layer, 937, 211, True, buffer) == mapping.traffic


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    design=st.sampled_from(PACKING_DESIGNS),
    n_q=st.integers(1, 300), extra_kv=st.integers(0, 200),
    q_frac=st.floats(0.0, 4.5), kv_frac=st.floats(0.0, 1.2), keep=st.integers(1, 40),
    order=st.booleans(), serpentine=st.booleans(), causal=st.booleans(), skip=st.booleans(),
    heads=st.sampled_from([(4, 2), (4, 1), (3, 1), (8, 8)]), batch=st.integers(1, 2),
    d=st.integers(1, 8),
)
def test_attn_closed_form_packed_heads_equals_counter(design, n_q, extra_kv, q_frac, kv_frac,
                                                      keep, order, serpentine, causal, skip,
                                                      heads, batch, d):
    """GQA head packing (query tiles over the stacked rows of a group's heads, straddling head
    boundaries, ragged), with causal skipping or with the kept-tail order."""
    layer = AttentionLayer(n_q=n_q, n_kv=n_q + extra_kv, head_dim=d, causal=causal,
                           heads=heads[0], kv_heads=heads[1], batch=batch)
    br = max(1, int(q_frac * n_q))
    bc = max(1, int(kv_frac * layer.n_kv))
    if not order or design not in ORDER_VARIANTS or (causal and skip):
        keep, serpentine = 1, False
    mapping = build(design, layer, 1 << 40, br, bc, skip_masked=skip, kv_keep=keep,
                    serpentine=serpentine, pack_heads=True)
    assert closed_form_traffic(design, layer, br, bc, skip, 1 << 40, keep, serpentine,
                               pack_heads=True) == mapping.traffic


def test_attn_closed_form_packed_large_shape():
    layer = AttentionLayer(n_q=20000, n_kv=30000, head_dim=64, causal=True, heads=8, kv_heads=2)
    for design in PACKING_DESIGNS:
        mapping = build(design, layer, 1 << 40, 9371, 2111, pack_heads=True)
        assert closed_form_traffic(design, layer, 9371, 2111, True, 1 << 40,
                                   pack_heads=True) == mapping.traffic

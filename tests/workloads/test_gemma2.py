"""Gemma-2 (`model_type: gemma2`): the config mapping (layer parity, score scale, soft-caps,
sandwich norms), refusals naming key / value / allowed, the closed-form parameter count, and the
work the accelerator does for soft-capping (a scale, a `tanh`, a scale per score and per logit)
counted in the cascade's stats. The forward pass itself is checked in test_hf_forward.py
(numpy reference) and test_hf_oracle.py (transformers' Gemma2)."""
from __future__ import annotations

import numpy as np
import pytest

from hf_small import write_config
from workloads import SpecError, get_model, lower
from workloads.inputs import random_inputs


@pytest.fixture
def small(tmp_path):
    return get_model(write_config(tmp_path / "g2", "gemma2"))


def test_field_mapping(small):
    m = small
    assert m.family == "gemma2" and m.sandwich_norms and m.tied_embeddings and m.activation == "geglu_tanh"
    # Gemma2Config: layer i slides when (i + 1) % 2 != 0 -> layers 0 and 2 local, 1 global
    assert m.sliding_window == 4 and m.window_layers == (0, 2)
    assert [m.is_window_layer(i) for i in range(3)] == [True, False, True]
    assert m.score_scale == pytest.approx(24 ** -0.5) and (m.attn_softcap, m.final_softcap) == (0.5, 0.8)
    assert m.embed_scale == pytest.approx(32 ** 0.5) and m.d_head == 16


def test_layer_types_and_nulls(tmp_path):
    m = get_model(write_config(tmp_path / "a", "gemma2", layer_types=["full_attention", "sliding_attention", "full_attention"]))
    assert m.window_layers == (1,)
    m = get_model(write_config(tmp_path / "b", "gemma2", layer_types=["sliding_attention"] * 3))
    assert m.window_layers is None and m.sliding_window == 4
    m = get_model(write_config(tmp_path / "c", "gemma2", layer_types=["full_attention"] * 3))
    assert m.sliding_window is None
    m = get_model(write_config(tmp_path / "d", "gemma2", attn_logit_softcapping=None, final_logit_softcapping=None))
    assert m.attn_softcap is None and m.final_softcap is None
    c = lower(m, "prefill", seq_len=4)
    assert all("tanh" not in s.ops for s in c.stats)


@pytest.mark.parametrize("changes,words", [
    (dict(layer_types=["full_attention"]), "layer_types = ['full_attention'] is not supported"),
    (dict(layer_types=["chunked_attention"] * 3), "allowed: a list of num_hidden_layers (3)"),
    (dict(attn_logit_softcapping=-1.0), "attn_logit_softcapping = -1.0 is not supported"),
    (dict(final_logit_softcapping="x"), "final_logit_softcapping = 'x' is not supported"),
    (dict(query_pre_attn_scalar=0), "query_pre_attn_scalar = 0 is not supported"),
    (dict(sliding_window=0), "sliding_window = 0 is not supported"),
    (dict(hidden_activation="silu"), "hidden_activation = 'silu' is not supported"),
    (dict(use_bidirectional_attention=True), "use_bidirectional_attention = True is not supported"),
])
def test_refusals_name_key_value_allowed(tmp_path, changes, words):
    with pytest.raises(SpecError) as err:
        get_model(write_config(tmp_path / "r", "gemma2", **changes))
    assert words in str(err.value) and "allowed" in str(err.value) and "\n" not in str(err.value)


def test_closed_form_param_count(small):
    """Attention (head_dim 16 != 32/4, 2 KV heads), GeGLU, 4 RMSNorms per block, tied head."""
    d, h, g, e, f, v, n = 32, 4, 2, 16, 48, 64, 3
    per_block = d * h * e + 2 * d * g * e + h * e * d + 3 * d * f + 4 * d
    assert small.param_count() == n * per_block + v * d + d


def test_softcap_ops_counted(small):
    """Each score: its scale, the cap's 1/c scale, tanh, the c scale (3 muls + 1 tanh besides the
    MACs); each logit: scale, tanh, scale. Local layers also mask outside the window."""
    b, p, h, v = 2, 9, 4, 64
    c = lower(small, "prefill", batch=b, seq_len=p)
    stats = {e.name: s for e, s in zip(c.einsums, c.stats)}
    for i in range(3):
        qk = stats[f"L{i}.QK"]
        scores = b * h * p * p
        assert qk.ops["tanh"] == scores and qk.macs == scores * 16
        assert qk.ops["mul"] == qk.macs + 3 * scores
        assert qk.ops["mask"] == (2 if i != 1 else 1) * scores  # causal (+ window on local layers)
    logits = stats["LOGITS"]
    assert logits.ops["tanh"] == b * p * v and logits.ops["mul"] == logits.macs + 2 * b * p * v
    assert sum(s.ops.get("tanh", 0) for s in c.stats) == 3 * b * h * p * p + b * p * v


def test_soft_caps_bound_the_logits(small):
    c = lower(small, "prefill", batch=1, seq_len=6)
    out = c.evaluate(random_inputs(c, seed=3, std=2.0), keep="all")
    assert np.abs(out["LOGITS"]).max() <= small.final_softcap
    scores = out["L1.QK"]
    assert np.abs(scores[np.isfinite(scores)]).max() <= small.attn_softcap  # -inf: the causal mask


def test_decode_reads_the_whole_cache(small):
    """Global layers read every cached position, so the local layers' step reads them all too and
    masks those outside the window (no rolling buffer): M = kv_len + 1."""
    step = lower(small, "decode", seq_len=20)
    assert step.rank_sizes["M"] == 20 and "kv_window" not in step.meta
    qk = {e.name: e for e in step.einsums}
    assert "mask" in str(qk["L0.QK"]) and str(qk["L1.QK"]).count("mask") == 0

"""T5 (model_type t5): config -> ModelSpec, the lowered encoder-decoder cascade against an
independently written numpy forward pass (no torch), for a prefill (encoder + the decoder's
first tokens) and for a decode step chained on the prefill's self- and cross-attention caches;
the parameter count of flan-t5-base; one-line errors for what the lowering cannot represent.

The reference follows the T5 paper (Raffel et al. 2020, Sec. 2.1) and the `transformers`
modelling code's equations: RMSNorm without mean or bias, unscaled scores plus a relative
position bias looked up from buckets (bidirectional in the encoder, causal in the decoder; the
bucket arithmetic written here from the released function, in float32 as it does), causal
self-attention and cross-attention over the encoder output in the decoder, GeGLU (gelu_new) or
ReLU MLPs, the tied head scaled by d_model^-0.5. Weights come from the cascade's seeded random
inputs, by name; the bucket inputs are not read from them.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from hf_small import SMALL_T5, write_t5_config
from workloads import SpecError, get_model, lower
from workloads.inputs import position_tables, random_inputs

CONFIGS = Path(__file__).parent / "configs"
VARIANTS = {"v1.1": {}, "original": dict(feed_forward_proj="relu", tie_word_embeddings=True)}
GELU_TANH = lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))  # noqa: E731


def bucket(r: int, bidirectional: bool, n: int, max_distance: int) -> int:
    """T5's bucket of relative position r = key - query (the released _relative_position_bucket)."""
    out = 0
    if bidirectional:
        n //= 2
        out, r = (n if r > 0 else 0), abs(r)
    else:
        r = max(-r, 0)
    exact = n // 2
    if r < exact:
        return out + r
    ratio = np.float32(np.log(np.float32(r) / np.float32(exact))) / np.float32(math.log(max_distance / exact))
    return out + min(n - 1, exact + int(np.float32(ratio * np.float32(n - exact))))


def rms(x, g, eps):
    return x / np.sqrt((x**2).mean(-1, keepdims=True) + eps) * g


def attend(xq, xkv, w, L, ours, m, bias=None, causal_from=None):
    """Multi-head attention of xq over xkv: scores unscaled, + bias[h, q, k], causal from query offset."""
    b, tq, tk = xq.shape[0], xq.shape[1], xkv.shape[1]
    heads = lambda y, t: y.reshape(b, t, m.n_heads, -1).transpose(0, 2, 1, 3)  # noqa: E731
    q = heads(xq @ w[f"{L}W{ours}Q"].reshape(m.d_model, -1), tq)
    k = heads(xkv @ w[f"{L}W{ours}K"].reshape(m.d_model, -1), tk)
    v = heads(xkv @ w[f"{L}W{ours}V"].reshape(m.d_model, -1), tk)
    s = q @ k.transpose(0, 1, 3, 2)
    if bias is not None:
        s = s + bias
    if causal_from is not None:
        s = np.where(np.arange(tk)[None, :] > np.arange(tq)[:, None] + causal_from, -np.inf, s)
    a = np.exp(s - s.max(-1, keepdims=True))
    out = ((a / a.sum(-1, keepdims=True)) @ v).transpose(0, 2, 1, 3).reshape(b, tq, -1)
    return out @ w[f"{L}W{ours}O"].reshape(-1, m.d_model)


def position_bias(table, tq, tk, bidirectional, m):
    idx = np.array([[bucket(k - q, bidirectional, m.relative_buckets, m.relative_max_distance) for k in range(tk)]
                    for q in range(tq)])
    return table.reshape(table.shape[0], -1)[idx].transpose(2, 0, 1)  # [heads, q, k]


def mlp(x, w, L, m):
    if m.gated:
        return (GELU_TANH(x @ w[L + "WG"]) * (x @ w[L + "WU"])) @ w[L + "WD"]
    return np.maximum(x @ w[L + "W1"], 0) @ w[L + "W2"]


def forward(w, etok, dtok, m):
    """Logits [B, T, V] of the decoder over dtok given the encoder over etok."""
    eps = m.norm_eps
    x = w["WTE"][etok]
    bias = position_bias(w["ENC.REL"], etok.shape[1], etok.shape[1], True, m)
    for i in range(m.n_layers):
        L = f"E{i}."
        x = x + attend(rms(x, w[L + "N1.G"], eps), rms(x, w[L + "N1.G"], eps), w, L, "", m, bias)
        x = x + mlp(rms(x, w[L + "N2.G"], eps), w, L, m)
    enc = rms(x, w["ENC.F.N.G"], eps)
    y = w["WTE"][dtok]
    bias = position_bias(w["DEC.REL"], dtok.shape[1], dtok.shape[1], False, m)
    for i in range(m.n_decoder_layers):
        L = f"L{i}."
        h = rms(y, w[L + "N1.G"], eps)
        y = y + attend(h, h, w, L, "", m, bias, causal_from=0)
        y = y + attend(rms(y, w[L + "NX.G"], eps), enc, w, L, "X", m)
        y = y + mlp(rms(y, w[L + "N2.G"], eps), w, L, m)
    y = rms(y, w["F.N.G"], eps)
    return (y * m.d_model**-0.5) @ w["WTE"].T if m.tied_embeddings else y @ w["WLM"]


@pytest.fixture(params=list(VARIANTS))
def t5(request, tmp_path):
    return get_model(write_t5_config(tmp_path / request.param, **VARIANTS[request.param]))


@pytest.mark.parametrize("attention", ["3pass", "2pass", "1pass"])
def test_prefill_equals_numpy_reference(t5, attention):
    """Encoder over 9 tokens, decoder over its first 6 (logarithmic buckets in both stacks)."""
    c = lower(t5, "prefill", batch=2, seq_len=9, new_tokens=6, attention=attention, block=4)
    w = random_inputs(c, seed=21, std=0.2)
    got = c.evaluate(w)["LOGITS"]
    np.testing.assert_allclose(got, forward(w, w["ETOK"], w["TOK"], t5), rtol=0, atol=1e-9)


def test_buckets_reach_the_logarithmic_range():
    # buckets 0-3 for r <= 0 (2 exact, 2 logarithmic), 5-7 for r > 0 (bucket 4 would be r = 0 from the right)
    assert {bucket(r, True, 8, 16) for r in range(-8, 9)} == set(range(8)) - {4}
    assert bucket(5, False, 8, 16) == 0 and bucket(-5, False, 8, 16) == 4 and bucket(-6, False, 8, 16) == 5


@pytest.mark.parametrize("attention", ["3pass", "1pass"])
def test_decode_step_on_prefill_caches_equals_numpy_reference(t5, attention):
    """Prefill (encoder over 9, decoder over 6), then one decode step (kv_len 6) reading the
    self-attention cache and the cross-attention cache: the 7th decoder position's logits."""
    first = lower(t5, "prefill", batch=2, seq_len=9, new_tokens=6, attention=attention, block=4)
    step = lower(t5, "decode", batch=2, seq_len=9, kv_len=6, new_tokens=1, attention=attention, block=4)
    w = random_inputs(first, seed=22, std=0.2)
    dtok = np.random.default_rng(5).integers(0, t5.vocab_size, (2, 7))
    cache = first.evaluate({**w, "TOK": dtok[:, :6]}, keep="all")
    feed = {k: v for k, v in w.items() if k in step.inputs}
    feed.update(position_tables(step, t5), TOK=dtok[:, 6:])  # the step's buckets: queries at position 6
    for i in range(t5.n_decoder_layers):
        for ours, theirs in (("Kpast", "K"), ("Vpast", "V"), ("XK", "XK"), ("XV", "XV")):
            feed[f"L{i}.{ours}"] = cache[f"L{i}.{theirs}"]
    got = step.evaluate(feed)["LOGITS"][:, 0]
    np.testing.assert_allclose(got, forward(w, w["ETOK"], dtok, t5)[:, -1], rtol=0, atol=1e-9)
    assert step.rank_sizes["M"] == 7 and step.rank_sizes["S"] == 9 and "ETOK" not in step.inputs


def test_flan_t5_base_field_mapping():
    m = get_model(str(CONFIGS / "flan-t5-base.json"))
    assert (m.kind, m.n_layers, m.n_decoder_layers, m.activation, m.tied_embeddings, m.head_scale) == \
        ("encoder-decoder", 12, 12, "geglu_tanh", False, 1.0)
    assert (m.relative_buckets, m.relative_max_distance, m.norm, m.bias, m.score_scale) == (32, 128, "rmsnorm", False, 1.0)


def test_closed_form_of_the_small_t5(t5):
    d, inner, f, v, buckets = 32, 48, 40, 64, 8
    mlp_params = (3 if t5.gated else 2) * d * f
    enc = 2 * (4 * d * inner + mlp_params + 2 * d)
    dec = 2 * (8 * d * inner + mlp_params + 3 * d)
    head = 0 if t5.tied_embeddings else v * d
    assert t5.param_count() == enc + dec + 2 * buckets * 4 + 2 * d + v * d + head


def test_decode_default_kv_len_and_layers_truncate_both_stacks(t5):
    c = lower(t5, "decode", seq_len=16)
    assert (c.meta["kv_len"], c.meta["queries"], c.meta["encoder_len"]) == (15, 1, 16)
    two = lower(t5, "prefill", seq_len=8, layers=1)
    assert two.meta["decoder_layers"] == 1 and not any(e.name.startswith(("E1.", "L1.")) for e in two.einsums)


@pytest.mark.parametrize("changes,words", [
    (dict(is_encoder_decoder=False), "is_encoder_decoder = False is not supported for model_type 't5'; allowed: True"),
    (dict(feed_forward_proj="gated-silu"), "feed_forward_proj = 'gated-silu' is not supported for model_type 't5'; "
                                           "allowed: 'relu', 'gated-gelu'"),
    (dict(relative_attention_num_buckets=None), "needs 'relative_attention_num_buckets', which is missing"),
    (dict(relative_attention_max_distance=2), "relative_attention_max_distance = 2 is not supported"),
])
def test_unsupported_fields_are_one_line_errors(changes, words, tmp_path):
    cfg = {k: v for k, v in {**SMALL_T5, **changes}.items() if v is not None}
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(SpecError) as err:
        get_model(str(tmp_path / "config.json"))
    assert words in str(err.value) and "\n" not in str(err.value)


def test_prefill_with_kv_len_is_refused(t5):
    with pytest.raises(SpecError, match="kv_len = 3"):
        lower(t5, "prefill", seq_len=8, kv_len=3)

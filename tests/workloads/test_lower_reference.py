"""Lowered models against independently written numpy forward passes.

The reference functions below are written from the models' published definitions (GPT-2:
pre-LN, tanh-GELU, learned positions; LLaMA: RMSNorm, RoPE with rotate_half, SwiGLU, GQA;
BERT: post-LN, exact GELU, segment embeddings, bidirectional). They share no code with the
lowering: weights are taken from the lowered cascade's inputs by name and reshaped to the
conventional [in, out] matrices.
"""
import math
from dataclasses import replace

import numpy as np
import pytest

from workloads import get_model, lower
from workloads.inputs import random_inputs

ATTN = ("3pass", "2pass", "1pass")


def layer_norm(x, g, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def rms_norm(x, g, eps):
    return x / np.sqrt((x**2).mean(-1, keepdims=True) + eps) * g


def gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def gelu_erf(x):
    return 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))


def softmax_attention(q, k, v, causal, offset=0):
    """q[b,h,p,e], k/v[b,h,m,e] -> [b,h,p,e]."""
    s = q @ np.swapaxes(k, -1, -2) / math.sqrt(q.shape[-1])
    if causal:
        p, m = s.shape[-2:]
        s = np.where(np.arange(m)[None, :] > np.arange(p)[:, None] + offset, -np.inf, s)
    w = np.exp(s - s.max(-1, keepdims=True))
    return (w / w.sum(-1, keepdims=True)) @ v


def mat(w):
    """[in, ...out ranks] -> [in, out]"""
    return w.reshape(w.shape[0], -1)


def heads(x, n):
    b, p, _ = x.shape
    return x.reshape(b, p, n, -1).transpose(0, 2, 1, 3)


def merge(x):
    b, h, p, e = x.shape
    return x.transpose(0, 2, 1, 3).reshape(b, p, h * e)


def gpt2_forward(w, tokens, n_layers, n_heads, eps):
    x = w["WTE"][tokens] + w["WPE"][: tokens.shape[1]]
    for i in range(n_layers):
        L = f"L{i}."
        y = layer_norm(x, w[L + "N1.G"], w[L + "N1.B"], eps)
        q = y @ mat(w[L + "WQ"]) + w[L + "bQ"].reshape(-1)
        k = y @ mat(w[L + "WK"]) + w[L + "bK"].reshape(-1)
        v = y @ mat(w[L + "WV"]) + w[L + "bV"].reshape(-1)
        a = merge(softmax_attention(heads(q, n_heads), heads(k, n_heads), heads(v, n_heads), True))
        x = x + a @ w[L + "WO"].reshape(-1, x.shape[-1]) + w[L + "bO"]
        y = layer_norm(x, w[L + "N2.G"], w[L + "N2.B"], eps)
        x = x + gelu_tanh(y @ w[L + "W1"] + w[L + "b1"]) @ w[L + "W2"] + w[L + "b2"]
    x = layer_norm(x, w["F.N.G"], w["F.N.B"], eps)
    return x @ w["WTE"].T


def rope(x, theta):
    """x[b,h,p,e], rotate_half convention."""
    e = x.shape[-1]
    inv = theta ** (-np.arange(0, e, 2) / e)
    ang = np.arange(x.shape[2])[:, None] * inv[None, :]
    cos = np.concatenate([np.cos(ang)] * 2, -1)
    sin = np.concatenate([np.sin(ang)] * 2, -1)
    rot = np.concatenate([-x[..., e // 2 :], x[..., : e // 2]], -1)
    return x * cos + rot * sin


def llama_forward(w, tokens, m):
    x = w["WTE"][tokens]
    group = m.n_heads // m.kv_heads
    for i in range(m.n_layers):
        L = f"L{i}."
        y = rms_norm(x, w[L + "N1.G"], m.norm_eps)
        q = rope(heads(y @ mat(w[L + "WQ"]), m.n_heads), m.rope_theta)
        k = rope(heads(y @ mat(w[L + "WK"]), m.kv_heads), m.rope_theta)
        v = heads(y @ mat(w[L + "WV"]), m.kv_heads)
        k, v = np.repeat(k, group, axis=1), np.repeat(v, group, axis=1)
        x = x + merge(softmax_attention(q, k, v, True)) @ w[L + "WO"].reshape(-1, x.shape[-1])
        y = rms_norm(x, w[L + "N2.G"], m.norm_eps)
        gate = y @ w[L + "WG"]
        x = x + (gate / (1 + np.exp(-gate)) * (y @ w[L + "WU"])) @ w[L + "WD"]
    return rms_norm(x, w["F.N.G"], m.norm_eps) @ w["WLM"]


def bert_forward(w, tokens, types, m):
    x = w["WTE"][tokens] + w["WPE"][: tokens.shape[1]] + w["WTT"][types]
    x = layer_norm(x, w["EMB.N.G"], w["EMB.N.B"], m.norm_eps)
    for i in range(m.n_layers):
        L = f"L{i}."
        q = x @ mat(w[L + "WQ"]) + w[L + "bQ"].reshape(-1)
        k = x @ mat(w[L + "WK"]) + w[L + "bK"].reshape(-1)
        v = x @ mat(w[L + "WV"]) + w[L + "bV"].reshape(-1)
        a = merge(softmax_attention(heads(q, m.n_heads), heads(k, m.n_heads), heads(v, m.n_heads), False))
        x = layer_norm(x + a @ w[L + "WO"].reshape(-1, x.shape[-1]) + w[L + "bO"], w[L + "N1.G"], w[L + "N1.B"], m.norm_eps)
        h = gelu_erf(x @ w[L + "W1"] + w[L + "b1"]) @ w[L + "W2"] + w[L + "b2"]
        x = layer_norm(x + h, w[L + "N2.G"], w[L + "N2.B"], m.norm_eps)
    return x


def small(name, **changes):
    return replace(get_model(name), **changes)


@pytest.mark.parametrize("attention", ATTN)
def test_gpt2_small_block_equals_numpy_forward(attention):
    """The real GPT-2 small block (d=768, 12 heads, d_ff=3072); vocabulary cut to 1000 rows."""
    m = small("gpt2", vocab_size=1000, n_layers=1)
    c = lower(m, "prefill", batch=2, seq_len=9, attention=attention, block=4)
    w = random_inputs(c, seed=1)
    got = c.evaluate(w)["LOGITS"]
    want = gpt2_forward(w, w["TOK"], 1, m.n_heads, m.norm_eps)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


@pytest.mark.parametrize("attention", ATTN)
def test_llama_gqa_rope_swiglu_equals_numpy_forward(attention):
    m = small("llama-3-8b", vocab_size=97, n_layers=2, d_model=64, n_heads=8, n_kv_heads=2, d_ff=96)
    c = lower(m, "prefill", batch=1, seq_len=7, attention=attention, block=3)
    w = random_inputs(c, seed=2, std=0.2)
    np.testing.assert_allclose(c.evaluate(w)["LOGITS"], llama_forward(w, w["TOK"], m), rtol=0, atol=1e-9)


def test_bert_post_norm_bidirectional_equals_numpy_forward():
    m = small("bert-base", vocab_size=50, n_layers=2, d_model=48, n_heads=4, d_head=12, d_ff=64)
    c = lower(m, "prefill", batch=2, seq_len=6, attention="1pass", block=4)
    w = random_inputs(c, seed=3, std=0.2)
    got = c.evaluate(w)[c.outputs[-1]]
    np.testing.assert_allclose(got, bert_forward(w, w["TOK"], w["TT"], m), rtol=0, atol=1e-9)


@pytest.mark.parametrize("name,changes", [
    ("gpt2", dict(vocab_size=64, n_layers=2, d_model=32, n_heads=4, d_head=8, d_ff=64)),
    ("llama-2-7b", dict(vocab_size=64, n_layers=2, d_model=32, n_heads=4, n_kv_heads=4, d_head=8, d_ff=48)),
    ("llama-3-8b", dict(vocab_size=64, n_layers=2, d_model=32, n_heads=4, n_kv_heads=2, d_head=8, d_ff=48)),
    ("opt-1.3b", dict(vocab_size=64, n_layers=2, d_model=32, n_heads=4, d_head=8, d_ff=64)),
    ("phi-2", dict(vocab_size=64, n_layers=2, d_model=40, n_heads=4, d_head=10, d_ff=64, rotary_dim=4)),
])
@pytest.mark.parametrize("attention", ATTN)
def test_decode_step_with_kv_cache_equals_last_prefill_position(name, changes, attention):
    """Prefill N-1 tokens, keep the cache, decode token N: its logits equal position N of a
    prefill of all N tokens (and the cache grows by exactly that token's K and V)."""
    m = small(name, **changes)
    n = 7
    full = lower(m, "prefill", seq_len=n, attention=attention, block=3)
    w = random_inputs(full, seed=4, std=0.2)
    want = full.evaluate(w, keep="all")
    first = lower(m, "prefill", seq_len=n - 1, attention=attention, block=3)
    cache = first.evaluate({**{k: v for k, v in w.items() if k in first.inputs},
                            "TOK": w["TOK"][:, : n - 1], **_tables(w, first)}, keep="all")
    step = lower(m, "decode", seq_len=n, attention=attention, block=3)
    feed = {k: v for k, v in w.items() if k in step.inputs}
    feed["TOK"] = w["TOK"][:, n - 1 :]
    for i in range(m.n_layers):
        k_name = f"L{i}.KR" if m.position == "rope" else f"L{i}.K"
        v_name = f"L{i}.V"
        feed[f"L{i}.Kpast"] = cache[k_name]
        feed[f"L{i}.Vpast"] = cache[v_name]
    got = step.evaluate(feed, keep="all")
    np.testing.assert_allclose(got["LOGITS"][:, 0], want["LOGITS"][:, n - 1], rtol=0, atol=1e-9)
    k_full = want[f"L0.KR" if m.position == "rope" else "L0.K"]
    np.testing.assert_allclose(got["L0.Kcache"], k_full, rtol=0, atol=1e-12)


def _tables(w, cascade):
    return {k: w[k][: cascade.tensors[k].shape[0]] for k in ("COS", "SIN") if k in cascade.inputs}

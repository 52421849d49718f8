"""Every supported Hugging Face architecture, from a small config.json written in tmp_path:
the lowered cascade's forward pass equals an independently written numpy forward pass (no
torch), for a prefill and for a decode step chained on the prefill's KV cache.

The reference is written from the architectures' published definitions (the papers and the
`transformers` modelling code's equations): LayerNorm / RMSNorm, pre- or post-norm, parallel
attention+MLP (Phi), learned positions with OPT's offset 2, RoPE in the rotate_half convention on
the first rotary_dim dims with Llama 3.1's frequency scaling, GQA, causal and sliding-window
masks (a query sees keys q - k < W), GELU/ReLU MLPs and SwiGLU/GeGLU gated MLPs, sparse
Mixture-of-Experts MLPs (Mixtral, Qwen2-MoE with its shared expert), Gemma's sqrt(d)
embedding scale, Gemma-2's score scale, tanh soft-capping of scores and logits, sandwich norms
and alternating local/global layers, tied or separate LM head with optional bias. Weights come from the cascade's
seeded random inputs, by name; COS/SIN are not read from them.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from hf_small import SMALL, write_config
from workloads import get_model, lower
from workloads.inputs import random_inputs

GELU_TANH = lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))  # noqa: E731
ACT = {"gelu_tanh": GELU_TANH, "gelu": lambda x: 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2))),
       "relu": lambda x: np.maximum(x, 0), "silu": lambda x: x / (1 + np.exp(-x))}
GATE = {"swiglu": "silu", "geglu_tanh": "gelu_tanh", "geglu": "gelu"}


def norm(x, w, pre, m):
    if m.norm == "rmsnorm":
        return x / np.sqrt((x**2).mean(-1, keepdims=True) + m.norm_eps) * w[pre + "G"]
    mu = x.mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + m.norm_eps) * w[pre + "G"] + w[pre + "B"]


def frequencies(m):
    rot = m.rotary_dim or m.d_head
    freqs = []
    for i in range(0, rot, 2):
        f = m.rope_theta ** (-i / rot)
        if m.rope_scaling == "llama3":  # Llama 3.1: low-frequency band / factor, a smooth ramp between
            wavelength = 2 * math.pi / f
            lo, hi = m.rope_original_positions / m.rope_low_freq_factor, m.rope_original_positions / m.rope_high_freq_factor
            if wavelength > lo:
                f = f / m.rope_factor
            elif wavelength >= hi:
                s = (m.rope_original_positions / wavelength - m.rope_low_freq_factor) / (m.rope_high_freq_factor - m.rope_low_freq_factor)
                f = (1 - s) * f / m.rope_factor + s * f
        freqs.append(f)
    return np.array(freqs)


def rope(x, m):
    """x[b, heads, positions, e]: rotate the first rotary_dim dims (rotate_half)."""
    rot = m.rotary_dim or m.d_head
    ang = np.arange(x.shape[2])[:, None] * frequencies(m)[None, :]
    cos, sin = np.cos(np.concatenate([ang, ang], -1)), np.sin(np.concatenate([ang, ang], -1))
    r, rest = x[..., :rot], x[..., rot:]
    half = np.concatenate([-r[..., rot // 2:], r[..., : rot // 2]], -1)
    return np.concatenate([r * cos + half * sin, rest], -1)


def proj(x, w, name, L):
    y = x @ w[L + "W" + name].reshape(x.shape[-1], -1)
    return y + w[L + "b" + name].reshape(-1) if L + "b" + name in w else y


def attention(x, w, L, m):
    b, t, _ = x.shape
    split = lambda y, n: y.reshape(b, t, n, -1).transpose(0, 2, 1, 3)  # noqa: E731
    q, k, v = split(proj(x, w, "Q", L), m.n_heads), split(proj(x, w, "K", L), m.kv_heads), split(proj(x, w, "V", L), m.kv_heads)
    if m.position == "rope":
        q, k = rope(q, m), rope(k, m)
    rep = m.n_heads // m.kv_heads
    k, v = np.repeat(k, rep, axis=1), np.repeat(v, rep, axis=1)
    s = q @ k.transpose(0, 1, 3, 2) * (1 / math.sqrt(m.d_head) if m.score_scale is None else m.score_scale)
    if m.attn_softcap:  # Gemma-2: cap * tanh(s / cap), before the mask
        s = m.attn_softcap * np.tanh(s / m.attn_softcap)
    pos_q, pos_k = np.arange(t)[:, None], np.arange(t)[None, :]
    hidden = (pos_k > pos_q) if m.kind == "decoder" else np.zeros((t, t), bool)
    layer = int(L[1:-1])  # Gemma-2: only the layers in window_layers slide (None: all)
    if m.sliding_window and (m.window_layers is None or layer in m.window_layers):
        hidden = hidden | (pos_q - pos_k >= m.sliding_window)
    s = np.where(hidden, -np.inf, s)
    a = np.exp(s - s.max(-1, keepdims=True))
    out = ((a / a.sum(-1, keepdims=True)) @ v).transpose(0, 2, 1, 3).reshape(b, t, -1)
    y = out @ w[L + "WO"].reshape(-1, m.d_model)
    return y + w[L + "bO"] if L + "bO" in w else y


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def moe(x, w, L, m):
    """A sparse MLP as the transformers code states it: softmax over all router logits, the top
    k probabilities (renormalized for Mixtral and when norm_topk_prob), each expert run densely
    over all tokens and weighted by its routing weight (0 where not selected); Qwen2-MoE adds a
    shared expert scaled by sigmoid(x . w)."""
    probs = softmax(x @ w[L + "WR"])
    chosen = np.argsort(-probs, axis=-1, kind="stable")[..., : m.experts_per_token]
    top = np.take_along_axis(probs, chosen, -1)
    if m.family == "mixtral" or m.norm_topk_prob:
        top = top / top.sum(-1, keepdims=True)
    out = np.zeros_like(x)
    silu = ACT["silu"]
    for e in range(m.n_experts):
        h = (silu(x @ w[L + "WEG"][e]) * (x @ w[L + "WEU"][e])) @ w[L + "WED"][e]
        out += (top * (chosen == e)).sum(-1)[..., None] * h
    if m.d_shared_expert:
        shared = (silu(x @ w[L + "WSEG"]) * (x @ w[L + "WSEU"])) @ w[L + "WSED"]
        out += shared / (1 + np.exp(-(x @ w[L + "WSEGT"])))[..., None]
    return out


def mlp(x, w, L, m):
    if m.is_moe_layer(int(L[1:-1])):
        return moe(x, w, L, m)
    if m.activation in GATE:
        return proj(ACT[GATE[m.activation]](proj(x, w, "G", L)) * proj(x, w, "U", L), w, "D", L)
    return proj(ACT[m.activation](proj(x, w, "1", L)), w, "2", L)


def forward(w, tok, m, types=None):
    t = tok.shape[1]
    x = w["WTE"][tok] * m.embed_scale
    if m.position == "learned":
        x = x + w["WPE"][m.position_offset: m.position_offset + t]
    if types is not None:
        x = x + w["WTT"][types]
    if m.embed_norm:
        x = norm(x, w, "EMB.N.", m)
    for i in range(m.n_layers):
        L = f"L{i}."
        if m.norm_position == "post":
            x = norm(x + attention(x, w, L, m), w, L + "N1.", m)
            x = norm(x + mlp(x, w, L, m), w, L + "N2.", m)
        elif m.parallel_block:
            y = norm(x, w, L + "N1.", m)
            x = x + attention(y, w, L, m) + mlp(y, w, L, m)
        elif m.sandwich_norms:  # Gemma-2: a norm before and after attention and the MLP
            x = x + norm(attention(norm(x, w, L + "N1.", m), w, L, m), w, L + "NA.", m)
            x = x + norm(mlp(norm(x, w, L + "N2.", m), w, L, m), w, L + "NF.", m)
        else:
            x = x + attention(norm(x, w, L + "N1.", m), w, L, m)
            x = x + mlp(norm(x, w, L + "N2.", m), w, L, m)
    if m.kind != "decoder":
        return x
    x = norm(x, w, "F.N.", m)
    logits = x @ (w["WTE"].T if m.tied_embeddings else w["WLM"])
    logits = logits + w["BLM"] if m.lm_head_bias else logits
    return m.final_softcap * np.tanh(logits / m.final_softcap) if m.final_softcap else logits


DECODERS = [a for a in SMALL if a != "bert"]
MAX_ERR: dict[str, float] = {}


@pytest.mark.parametrize("arch", DECODERS)
@pytest.mark.parametrize("attention_variant", ["3pass", "2pass", "1pass"])
def test_prefill_equals_numpy_reference(arch, attention_variant, tmp_path):
    m = get_model(write_config(tmp_path / arch, arch))
    c = lower(m, "prefill", batch=2, seq_len=9, attention=attention_variant, block=3)
    w = random_inputs(c, seed=11, std=0.2)
    got = c.evaluate(w)["LOGITS"]
    want = forward(w, w["TOK"], m)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


@pytest.mark.parametrize("arch", DECODERS)
@pytest.mark.parametrize("attention_variant", ["3pass", "1pass"])
def test_decode_step_on_prefill_cache_equals_numpy_reference(arch, attention_variant, tmp_path):
    m = get_model(write_config(tmp_path / arch, arch))
    n = 9
    first = lower(m, "prefill", seq_len=n - 1, attention=attention_variant, block=3)
    step = lower(m, "decode", seq_len=n, attention=attention_variant, block=3)
    w = random_inputs(step, seed=12, std=0.2)
    tok = np.random.default_rng(3).integers(0, m.vocab_size, (1, n))
    feed = {k: v for k, v in w.items() if k in first.inputs}
    cache = first.evaluate({**feed, **random_tables(first), "TOK": tok[:, :-1]}, keep="all")
    feed = {k: v for k, v in w.items() if k in step.inputs and "past" not in k}
    for i in range(m.n_layers):
        for ours, theirs in ((f"L{i}.Kpast", f"L{i}.KR" if m.position == "rope" else f"L{i}.K"), (f"L{i}.Vpast", f"L{i}.V")):
            kept = step.tensors[ours].shape[1]
            feed[ours] = cache[theirs][:, n - 1 - kept:]
    got = step.evaluate({**feed, "TOK": tok[:, -1:]}, keep="all")
    np.testing.assert_allclose(got["LOGITS"][:, 0], forward(w, tok, m)[:, -1], rtol=0, atol=1e-9)
    if m.sliding_window and m.sliding_window < n:  # the rolling cache: the step reads W-1 positions
        # (Gemma-2 keeps every position: its global layers read them all, its local layers mask)
        assert step.rank_sizes["M"] == (m.sliding_window if m.window_layers is None else n)


def random_tables(cascade):
    return {k: v for k, v in random_inputs(cascade).items() if k in ("COS", "SIN")}


def test_bert_encoder_equals_numpy_reference(tmp_path):
    m = get_model(write_config(tmp_path / "bert", "bert"))
    c = lower(m, "prefill", batch=2, seq_len=7, attention="2pass", block=3)
    w = random_inputs(c, seed=13, std=0.2)
    np.testing.assert_allclose(c.evaluate(w)[c.outputs[-1]], forward(w, w["TOK"], m, w["TT"]), rtol=0, atol=1e-9)


def test_sliding_window_changes_mask_and_work(tmp_path):
    """Mistral with W=4: a prefill of 9 differs from the unwindowed model's (positions >= 4), the
    first 4 positions agree; a decode step after 100 cached tokens reads W-1 of them."""
    windowed = get_model(write_config(tmp_path / "w", "mistral"))
    full = get_model(write_config(tmp_path / "f", "mistral", sliding_window=None))
    assert full.sliding_window is None and windowed.sliding_window == 4
    cw, cf = lower(windowed, "prefill", seq_len=9), lower(full, "prefill", seq_len=9)
    w = random_inputs(cw, seed=1, std=0.3)
    a, b = cw.evaluate(w)["LOGITS"], cf.evaluate(w)["LOGITS"]
    np.testing.assert_allclose(a[:, :4], b[:, :4], rtol=0, atol=1e-12)
    assert np.abs(a[:, 4:] - b[:, 4:]).max() > 1e-3
    dw, df = lower(windowed, "decode", seq_len=101), lower(full, "decode", seq_len=101)
    assert dw.rank_sizes["M"] == 4 and df.rank_sizes["M"] == 101
    assert dw.meta["kv_len"] == 100 and dw.meta["kv_window"] == 3
    attn = lambda c: sum(s.macs for s, e in zip(c.stats, c.einsums) if e.group == "attention")  # noqa: E731
    assert attn(df) == attn(dw) * 101 // 4

"""Checkpoint layouts: a Hugging-Face-layout state dict mapped onto a lowered cascade gives the
same logits as a forward pass written directly on that layout (Linear [out,in], Conv1D [in,out])."""
import math
from dataclasses import replace

import numpy as np
import pytest

from workloads import SpecError, get_model, lower
from workloads.checkpoints import from_state_dict


def ln(x, g, b, eps):
    mu = x.mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + eps) * g + b


def attend(q, k, v, n_heads, n_kv):
    b, p, _ = q.shape
    q = q.reshape(b, p, n_heads, -1).transpose(0, 2, 1, 3)
    k = np.repeat(k.reshape(b, p, n_kv, -1).transpose(0, 2, 1, 3), n_heads // n_kv, axis=1)
    v = np.repeat(v.reshape(b, p, n_kv, -1).transpose(0, 2, 1, 3), n_heads // n_kv, axis=1)
    s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(q.shape[-1])
    s = np.where(np.triu(np.ones((p, p), bool), 1), -np.inf, s)
    a = np.exp(s - s.max(-1, keepdims=True))
    return ((a / a.sum(-1, keepdims=True)) @ v).transpose(0, 2, 1, 3).reshape(b, p, -1)


def rope(x, n, theta):
    b, p, _ = x.shape
    x = x.reshape(b, p, n, -1)
    e = x.shape[-1]
    ang = np.arange(p)[:, None] * theta ** (-np.arange(0, e, 2) / e)
    cos, sin = np.cos(np.concatenate([ang, ang], -1))[:, None], np.sin(np.concatenate([ang, ang], -1))[:, None]
    rot = np.concatenate([-x[..., e // 2:], x[..., : e // 2]], -1)
    return (x * cos + rot * sin).reshape(b, p, -1)


def gpt2_hf(s, tok, m):
    x = s["transformer.wte.weight"][tok] + s["transformer.wpe.weight"][: tok.shape[1]]
    for i in range(m.n_layers):
        p = f"transformer.h.{i}."
        y = ln(x, s[p + "ln_1.weight"], s[p + "ln_1.bias"], m.norm_eps)
        q, k, v = np.split(y @ s[p + "attn.c_attn.weight"] + s[p + "attn.c_attn.bias"], 3, -1)
        x = x + attend(q, k, v, m.n_heads, m.n_heads) @ s[p + "attn.c_proj.weight"] + s[p + "attn.c_proj.bias"]
        y = ln(x, s[p + "ln_2.weight"], s[p + "ln_2.bias"], m.norm_eps)
        h = y @ s[p + "mlp.c_fc.weight"] + s[p + "mlp.c_fc.bias"]
        h = 0.5 * h * (1 + np.tanh(math.sqrt(2 / math.pi) * (h + 0.044715 * h**3)))
        x = x + h @ s[p + "mlp.c_proj.weight"] + s[p + "mlp.c_proj.bias"]
    x = ln(x, s["transformer.ln_f.weight"], s["transformer.ln_f.bias"], m.norm_eps)
    return x @ s["transformer.wte.weight"].T


def llama_hf(s, tok, m):
    def rms(x, g):
        return x / np.sqrt((x**2).mean(-1, keepdims=True) + m.norm_eps) * g

    x = s["model.embed_tokens.weight"][tok]
    for i in range(m.n_layers):
        p = f"model.layers.{i}."
        y = rms(x, s[p + "input_layernorm.weight"])
        q = rope(y @ s[p + "self_attn.q_proj.weight"].T, m.n_heads, m.rope_theta)
        k = rope(y @ s[p + "self_attn.k_proj.weight"].T, m.kv_heads, m.rope_theta)
        v = y @ s[p + "self_attn.v_proj.weight"].T
        x = x + attend(q, k, v, m.n_heads, m.kv_heads) @ s[p + "self_attn.o_proj.weight"].T
        y = rms(x, s[p + "post_attention_layernorm.weight"])
        gate = y @ s[p + "mlp.gate_proj.weight"].T
        x = x + (gate / (1 + np.exp(-gate)) * (y @ s[p + "mlp.up_proj.weight"].T)) @ s[p + "mlp.down_proj.weight"].T
    return rms(x, s["model.norm.weight"]) @ s["lm_head.weight"].T


def random_state(shapes, seed):
    rng = np.random.default_rng(seed)
    return {k: (1 + 0.1 * rng.standard_normal(v)) if "norm" in k or "ln_" in k and k.endswith("weight")
            else 0.2 * rng.standard_normal(v) for k, v in shapes.items()}


def gpt2_shapes(m):
    d, f = m.d_model, m.d_ff
    s = {"transformer.wte.weight": (m.vocab_size, d), "transformer.wpe.weight": (m.max_positions, d),
         "transformer.ln_f.weight": (d,), "transformer.ln_f.bias": (d,)}
    for i in range(m.n_layers):
        p = f"transformer.h.{i}."
        s.update({p + "ln_1.weight": (d,), p + "ln_1.bias": (d,), p + "ln_2.weight": (d,), p + "ln_2.bias": (d,),
                  p + "attn.c_attn.weight": (d, 3 * d), p + "attn.c_attn.bias": (3 * d,),
                  p + "attn.c_proj.weight": (d, d), p + "attn.c_proj.bias": (d,),
                  p + "mlp.c_fc.weight": (d, f), p + "mlp.c_fc.bias": (f,), p + "mlp.c_proj.weight": (f, d), p + "mlp.c_proj.bias": (d,)})
    return s


def llama_shapes(m):
    d, f, e = m.d_model, m.d_ff, m.d_head
    s = {"model.embed_tokens.weight": (m.vocab_size, d), "model.norm.weight": (d,), "lm_head.weight": (m.vocab_size, d)}
    for i in range(m.n_layers):
        p = f"model.layers.{i}."
        s.update({p + "input_layernorm.weight": (d,), p + "post_attention_layernorm.weight": (d,),
                  p + "self_attn.q_proj.weight": (m.n_heads * e, d), p + "self_attn.k_proj.weight": (m.kv_heads * e, d),
                  p + "self_attn.v_proj.weight": (m.kv_heads * e, d), p + "self_attn.o_proj.weight": (d, m.n_heads * e),
                  p + "mlp.gate_proj.weight": (f, d), p + "mlp.up_proj.weight": (f, d), p + "mlp.down_proj.weight": (d, f)})
    return s


@pytest.mark.parametrize("attention", ["3pass", "1pass"])
def test_gpt2_layout(attention):
    m = replace(get_model("gpt2"), vocab_size=50, n_layers=2, d_model=32, n_heads=4, d_head=8, d_ff=64, max_positions=16)
    state = random_state(gpt2_shapes(m), 5)
    c = lower(m, "prefill", seq_len=6, attention=attention, block=4)
    tok = np.random.default_rng(0).integers(0, 50, (1, 6))
    got = c.evaluate({**from_state_dict(c, state), "TOK": tok})["LOGITS"]
    np.testing.assert_allclose(got, gpt2_hf(state, tok, m), rtol=0, atol=1e-9)


def test_llama_gqa_layout():
    m = replace(get_model("llama-3-8b"), vocab_size=40, n_layers=2, d_model=32, n_heads=4, n_kv_heads=2, d_head=8, d_ff=48)
    state = random_state(llama_shapes(m), 6)
    c = lower(m, "prefill", seq_len=5, attention="2pass", block=2)
    tok = np.random.default_rng(1).integers(0, 40, (1, 5))
    from workloads.inputs import rope_tables
    cos, sin = rope_tables(m, 5)
    got = c.evaluate({**from_state_dict(c, state), "TOK": tok, "COS": cos, "SIN": sin})["LOGITS"]
    np.testing.assert_allclose(got, llama_hf(state, tok, m), rtol=0, atol=1e-9)


def test_missing_tensor_is_named():
    m = replace(get_model("gpt2"), vocab_size=50, n_layers=1, d_model=32, n_heads=4, d_head=8, d_ff=64)
    state = random_state(gpt2_shapes(m), 5)
    del state["transformer.h.0.ln_2.bias"]
    with pytest.raises(SpecError, match="h.0.ln_2.bias"):
        from_state_dict(lower(m, "prefill", seq_len=4), state)

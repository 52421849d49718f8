"""Weights of released checkpoints mapped onto a lowered cascade's input tensors.

Given a Hugging-Face-style state dict (tensor name -> numpy array; any framework's tensors
converted with `np.asarray`), `from_state_dict(cascade, state)` returns the cascade's weight
inputs, reshaped to the IR's head-structured layouts (WQ[D,G,J,E], WK[D,G,E], WO[G,J,F,D], …).
Linear layers stored as [out, in] (torch.nn.Linear) are transposed; GPT-2's Conv1D stores
[in, out]. Query head h maps to (g, j) = divmod(h, J), matching grouped-query attention's
`repeat_kv`. Families: gpt2, gpt3 (GPT-2 layout), opt, llama (LLaMA-2/3, Yi), bert.
"""
from __future__ import annotations

import numpy as np

from .errors import SpecError
from .ir import Cascade

_PREFIXES = ("transformer.", "model.decoder.", "model.", "bert.", "decoder.")


def _strip(state: dict) -> dict[str, np.ndarray]:
    out = {}
    for key, value in state.items():
        for p in _PREFIXES:
            if key.startswith(p):
                key = key[len(p):]
                break
        out[key] = np.asarray(value, dtype=np.float64)
    return out


def from_state_dict(cascade: Cascade, state: dict) -> dict[str, np.ndarray]:
    spec = cascade.meta.get("spec")
    if spec is None:
        raise SpecError(f"cascade {cascade.name} was not lowered from a model")
    family = spec["family"]
    mapper = {"gpt2": _gpt2, "gpt3": _gpt2, "opt": _opt, "llama": _llama, "bert": _bert}.get(family)
    if mapper is None:
        raise SpecError(f"no checkpoint layout for family {family!r}; allowed: gpt2, gpt3, opt, llama, bert")
    s = _strip(state)
    sizes = cascade.rank_sizes
    g, j, e, d = sizes["G"], sizes["J"], sizes["E"], sizes["D"]
    weights: dict[str, np.ndarray] = {}
    try:
        mapper(s, weights, cascade.meta["layers"], d, g, j, e)
    except KeyError as missing:
        raise SpecError(f"state dict has no tensor {missing.args[0]!r} needed by the {family} layout") from None
    return {k: v for k, v in weights.items() if k in cascade.tensors}


def _heads_in(w_in_out: np.ndarray, d, heads, e):
    return w_in_out.reshape(d, *heads, e)


def _gpt2(s, w, layers, d, g, j, e):
    w["WTE"], w["WPE"] = s["wte.weight"], s["wpe.weight"]
    for i in range(layers):
        p, L = f"h.{i}.", f"L{i}."
        qkv, bias = s[p + "attn.c_attn.weight"], s[p + "attn.c_attn.bias"]
        w[L + "WQ"] = qkv[:, :d].reshape(d, g, j, e)
        w[L + "WK"] = qkv[:, d:2 * d].reshape(d, g, e)
        w[L + "WV"] = qkv[:, 2 * d:].reshape(d, g, e)
        w[L + "bQ"], w[L + "bK"], w[L + "bV"] = bias[:d].reshape(g, j, e), bias[d:2 * d].reshape(g, e), bias[2 * d:].reshape(g, e)
        w[L + "WO"], w[L + "bO"] = s[p + "attn.c_proj.weight"].reshape(g, j, e, d), s[p + "attn.c_proj.bias"]
        w[L + "W1"], w[L + "b1"] = s[p + "mlp.c_fc.weight"], s[p + "mlp.c_fc.bias"]
        w[L + "W2"], w[L + "b2"] = s[p + "mlp.c_proj.weight"], s[p + "mlp.c_proj.bias"]
        for ours, theirs in (("N1.", "ln_1."), ("N2.", "ln_2.")):
            w[L + ours + "G"], w[L + ours + "B"] = s[p + theirs + "weight"], s[p + theirs + "bias"]
    w["F.N.G"], w["F.N.B"] = s["ln_f.weight"], s["ln_f.bias"]


def _linear_qkvo(s, w, p, L, d, g, j, e, names, bias: bool):
    q, k, v, o = names
    w[L + "WQ"] = s[p + q + ".weight"].T.reshape(d, g, j, e)
    w[L + "WK"] = s[p + k + ".weight"].T.reshape(d, g, e)
    w[L + "WV"] = s[p + v + ".weight"].T.reshape(d, g, e)
    w[L + "WO"] = s[p + o + ".weight"].T.reshape(g, j, e, d)
    if bias:
        w[L + "bQ"] = s[p + q + ".bias"].reshape(g, j, e)
        w[L + "bK"] = s[p + k + ".bias"].reshape(g, e)
        w[L + "bV"] = s[p + v + ".bias"].reshape(g, e)
        w[L + "bO"] = s[p + o + ".bias"]


def _opt(s, w, layers, d, g, j, e):
    w["WTE"], w["WPE"] = s["embed_tokens.weight"], s["embed_positions.weight"]
    for i in range(layers):
        p, L = f"layers.{i}.", f"L{i}."
        _linear_qkvo(s, w, p, L, d, g, j, e, ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj"), True)
        w[L + "W1"], w[L + "b1"] = s[p + "fc1.weight"].T, s[p + "fc1.bias"]
        w[L + "W2"], w[L + "b2"] = s[p + "fc2.weight"].T, s[p + "fc2.bias"]
        for ours, theirs in (("N1.", "self_attn_layer_norm."), ("N2.", "final_layer_norm.")):
            w[L + ours + "G"], w[L + ours + "B"] = s[p + theirs + "weight"], s[p + theirs + "bias"]
    w["F.N.G"], w["F.N.B"] = s["final_layer_norm.weight"], s["final_layer_norm.bias"]


def _llama(s, w, layers, d, g, j, e):
    w["WTE"] = s["embed_tokens.weight"]
    for i in range(layers):
        p, L = f"layers.{i}.", f"L{i}."
        _linear_qkvo(s, w, p, L, d, g, j, e, ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj"), False)
        w[L + "WG"] = s[p + "mlp.gate_proj.weight"].T
        w[L + "WU"] = s[p + "mlp.up_proj.weight"].T
        w[L + "WD"] = s[p + "mlp.down_proj.weight"].T
        w[L + "N1.G"] = s[p + "input_layernorm.weight"]
        w[L + "N2.G"] = s[p + "post_attention_layernorm.weight"]
    w["F.N.G"] = s["norm.weight"]
    w["WLM"] = s["lm_head.weight"].T


def _bert(s, w, layers, d, g, j, e):
    w["WTE"] = s["embeddings.word_embeddings.weight"]
    w["WPE"] = s["embeddings.position_embeddings.weight"]
    w["WTT"] = s["embeddings.token_type_embeddings.weight"]
    w["EMB.N.G"], w["EMB.N.B"] = s["embeddings.LayerNorm.weight"], s["embeddings.LayerNorm.bias"]
    for i in range(layers):
        p, L = f"encoder.layer.{i}.", f"L{i}."
        _linear_qkvo(s, w, p, L, d, g, j, e, ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"), True)
        w[L + "W1"], w[L + "b1"] = s[p + "intermediate.dense.weight"].T, s[p + "intermediate.dense.bias"]
        w[L + "W2"], w[L + "b2"] = s[p + "output.dense.weight"].T, s[p + "output.dense.bias"]
        for ours, theirs in (("N1.", "attention.output.LayerNorm."), ("N2.", "output.LayerNorm.")):
            w[L + ours + "G"], w[L + ours + "B"] = s[p + theirs + "weight"], s[p + theirs + "bias"]

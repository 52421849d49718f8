"""Safetensors checkpoints written here with `safetensors.numpy.save_file` (no torch): bf16,
fp16 and fp32 tensors, tied embeddings (no lm_head.weight), sharded folders with
model.safetensors.index.json, Phi-3's fused qkv_proj/gate_up_proj, Gemma's (1 + w) norm gains,
a cached model id, and the errors of an unsupported file. Each checkpoint is written from the
IR-layout weights by the inverse of the documented tensor layout; loading must give those
weights back (bf16-rounded where stored in bf16) and the same logits."""
from __future__ import annotations

import json

import ml_dtypes
import numpy as np
import pytest
from safetensors.numpy import save_file

from hf_small import write_config
from test_hf_forward import forward
from workloads import SpecError, get_model, lower
from workloads.checkpoints import load_checkpoint, open_checkpoint
from workloads.inputs import random_inputs


def llama_state(w, m, phi3=False, gemma=False):
    """HF LLaMA/Phi-3/Gemma names from IR weights (Linear stores [out, in])."""
    d = m.d_model
    s = {"model.embed_tokens.weight": w["WTE"], "model.norm.weight": w["F.N.G"] - gemma}
    if not m.tied_embeddings:
        s["lm_head.weight"] = w["WLM"].T
    for i in range(m.n_layers):
        p, L = f"model.layers.{i}.", f"L{i}."
        q, k, v = (w[L + n].reshape(d, -1).T for n in ("WQ", "WK", "WV"))
        s[p + "self_attn.o_proj.weight"] = w[L + "WO"].reshape(-1, d).T
        s[p + "mlp.down_proj.weight"] = w[L + "WD"].T
        if phi3:
            s[p + "self_attn.qkv_proj.weight"] = np.concatenate([q, k, v], 0)
            s[p + "mlp.gate_up_proj.weight"] = np.concatenate([w[L + "WG"].T, w[L + "WU"].T], 0)
        else:
            s.update({p + "self_attn.q_proj.weight": q, p + "self_attn.k_proj.weight": k, p + "self_attn.v_proj.weight": v,
                      p + "mlp.gate_proj.weight": w[L + "WG"].T, p + "mlp.up_proj.weight": w[L + "WU"].T})
        s[p + "input_layernorm.weight"] = w[L + "N1.G"] - gemma
        s[p + "post_attention_layernorm.weight"] = w[L + "N2.G"] - gemma
        for n, t in (("bQ", "q_proj"), ("bK", "k_proj"), ("bV", "v_proj")):
            if L + n in w:
                s[p + f"self_attn.{t}.bias"] = w[L + n].reshape(-1)
    return {k: np.ascontiguousarray(v) for k, v in s.items()}


def setup(tmp_path, arch, seed=0, **changes):
    m = get_model(write_config(tmp_path, arch, **changes))
    c = lower(m, "prefill", seq_len=6, attention="1pass", block=4)
    return m, c, random_inputs(c, seed=seed, std=0.2)


def check(c, m, w, folder, weights_exact=True):
    loaded = load_checkpoint(c, folder)
    assert set(loaded) == set(c.inputs) - {"TOK"}
    for k in w:
        if k != "TOK" and weights_exact:
            np.testing.assert_array_equal(loaded[k], w[k], err_msg=k)
    got = c.evaluate({**loaded, "TOK": w["TOK"]})["LOGITS"]
    np.testing.assert_allclose(got, forward({**w, **loaded}, w["TOK"], m), rtol=0, atol=1e-9)


def rounded(w, dtype):
    return {k: (v if k in ("TOK", "COS", "SIN") else v.astype(dtype).astype(np.float64)) for k, v in w.items()}


@pytest.mark.parametrize("dtype", [np.float32, np.float16, ml_dtypes.bfloat16])
def test_single_file_in_each_dtype(tmp_path, dtype):
    m, c, w = setup(tmp_path, "llama")
    w = rounded(w, dtype)
    save_file({k: v.astype(dtype) for k, v in llama_state(w, m).items()}, str(tmp_path / "model.safetensors"))
    check(c, m, w, tmp_path)


def test_tied_embeddings_sharded_bf16_with_qkv_bias(tmp_path):
    """Qwen2 (q/k/v bias, tied: no lm_head.weight) in bf16, split over three shards."""
    m, c, w = setup(tmp_path, "qwen2")
    assert m.tied_embeddings and "WLM" not in c.tensors
    w = rounded(w, ml_dtypes.bfloat16)
    state = {k: v.astype(ml_dtypes.bfloat16) for k, v in llama_state(w, m).items()}
    assert "lm_head.weight" not in state
    names = sorted(state)
    shards = {f"model-0000{i + 1}-of-00003.safetensors": names[i::3] for i in range(3)}
    for file, keys in shards.items():
        save_file({k: state[k] for k in keys}, str(tmp_path / file))
    weight_map = {k: f for f, keys in shards.items() for k in keys}
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    assert len(open_checkpoint(tmp_path)) == len(state)
    check(c, m, w, tmp_path)


def test_phi3_fused_projections_and_gemma_norms(tmp_path):
    m, c, w = setup(tmp_path / "phi3", "phi3")
    save_file(llama_state(w, m, phi3=True), str(tmp_path / "phi3" / "model.safetensors"))
    check(c, m, w, tmp_path / "phi3")
    m, c, w = setup(tmp_path / "gemma", "gemma")
    save_file(llama_state(w, m, gemma=True), str(tmp_path / "gemma" / "model.safetensors"))
    check(c, m, w, tmp_path / "gemma", weights_exact=False)  # gains are stored as g - 1


def test_cached_model_id_and_unsharded_folder_of_several_files(tmp_path, monkeypatch):
    snap = tmp_path / "hub" / "models--acme--tiny" / "snapshots" / "rev1"
    m, c, w = setup(snap, "llama")
    state = llama_state(w, m)
    names = sorted(state)
    save_file({k: state[k] for k in names[:5]}, str(snap / "a.safetensors"))
    save_file({k: state[k] for k in names[5:]}, str(snap / "b.safetensors"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    assert get_model("acme/tiny").name == "acme/tiny"
    check(c, m, w, "acme/tiny")


def test_bad_checkpoints_are_spec_errors(tmp_path):
    m, c, w = setup(tmp_path, "llama")
    state = llama_state(w, m)
    state["model.layers.0.mlp.up_proj.weight"] = state["model.layers.0.mlp.up_proj.weight"].astype(np.int8)
    save_file(state, str(tmp_path / "model.safetensors"))
    with pytest.raises(SpecError, match="mlp.up_proj.weight has dtype I8; allowed: F64, F32, F16, BF16"):
        load_checkpoint(c, tmp_path)
    state = llama_state(w, m)
    del state["model.layers.1.mlp.up_proj.weight"]
    save_file(state, str(tmp_path / "model.safetensors"))
    with pytest.raises(SpecError, match="no tensor 'layers.1.mlp.up_proj.weight' needed by the llama layout"):
        load_checkpoint(c, tmp_path)
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "pytorch_model.bin").write_bytes(b"x")
    with pytest.raises(SpecError, match="no \\*.safetensors checkpoint \\(found pytorch_model.bin\\)"):
        open_checkpoint(tmp_path / "bin")
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(SpecError, match="not a readable safetensors file"):
        open_checkpoint(tmp_path / "junk.safetensors")
    with pytest.raises(SpecError, match="no such model in the local Hugging Face cache"):
        open_checkpoint("acme/absent")

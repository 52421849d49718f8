"""Hugging Face config.json -> ModelSpec: parameter counts of real configs against their
published counts (fixtures in configs/, each citing its source), the field mapping, the zoo
unchanged, errors that name the key, resolution of paths / folders / cached ids (offline), the
CLI, and a sweep over two config files."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from experiments.cli import main
from hf_small import write_config
from workloads import MODELS, SpecError, get_model, lower
from workloads.hf_config import spec_from_config

CONFIGS = Path(__file__).parent / "configs"
FIXTURES = sorted(CONFIGS.glob("*.json"))


def fixture(name):
    return json.loads((CONFIGS / f"{name}.json").read_text())


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_param_count_equals_published(path):
    doc = json.loads(path.read_text())
    m = get_model(str(path))
    assert m.name == path.stem
    if doc["_exact"]:
        assert m.param_count() == doc["_published_params"]
    else:  # a nominal (rounded) published figure
        assert m.param_count() == pytest.approx(doc["_published_params"], rel=0.01)


def test_closed_form_of_a_small_gemma(tmp_path):
    """Gemma: GeGLU (3 matrices), no biases, RMSNorm, head_dim 16 != 32/4, MQA, tied head."""
    m = get_model(write_config(tmp_path / "g", "gemma"))
    d, h, g, e, f, v, n = 32, 4, 1, 16, 48, 64, 2
    per_block = d * h * e + 2 * d * g * e + h * e * d + 3 * d * f + 2 * d
    assert m.param_count() == n * per_block + v * d + d


@pytest.mark.parametrize("name,zoo", [("gpt2", "gpt2"), ("opt-1.3b", "opt-1.3b"), ("llama-2-7b", "llama-2-7b"),
                                      ("llama-3-8b", "llama-3-8b"), ("phi-2", "phi-2"), ("bert-base-uncased", "bert-base")])
def test_config_lowers_like_the_zoo_model(name, zoo):
    """The config of a zoo model gives the zoo's cascade: same Einsums, MACs, ops and bytes."""
    phase = "prefill" if zoo == "bert-base" else "decode"
    a = lower(str(CONFIGS / f"{name}.json"), phase, seq_len=64, layers=2)
    b = lower(zoo, phase, seq_len=64, layers=2)
    assert [e.name for e in a.einsums] == [e.name for e in b.einsums]
    assert [(s.macs, s.ops, s.bytes_read, s.bytes_written) for s in a.stats] == [(s.macs, s.ops, s.bytes_read, s.bytes_written) for s in b.stats]


def test_field_mapping_of_real_configs():
    l31, l32 = get_model(str(CONFIGS / "llama-3.1-8b.json")), get_model(str(CONFIGS / "llama-3.2-1b.json"))
    assert (l31.rope_scaling, l31.rope_factor, l31.rope_original_positions, l31.rope_theta) == ("llama3", 8.0, 8192, 500000.0)
    assert l32.tied_embeddings and l32.rope_factor == 32.0
    mistral = get_model(str(CONFIGS / "mistral-7b-v0.1.json"))
    assert mistral.sliding_window == 4096 and mistral.kv_heads == 8
    qwen = get_model(str(CONFIGS / "qwen2-0.5b.json"))
    assert (qwen.has_bias("qkv"), qwen.has_bias("out"), qwen.has_bias("mlp"), qwen.sliding_window) == (True, False, False, None)
    assert get_model(str(CONFIGS / "phi-2.json")).rotary_dim == 32
    assert get_model(str(CONFIGS / "phi-1_5.json")).rotary_dim == 32
    phi3 = get_model(str(CONFIGS / "phi-3-mini-4k.json"))
    assert (phi3.sliding_window, phi3.activation, phi3.rotary_dim) == (2047, "swiglu", None)
    gemma = get_model(str(CONFIGS / "gemma-7b.json"))
    assert (gemma.d_head, gemma.activation, gemma.embed_scale) == (256, "geglu_tanh", math.sqrt(3072))
    assert gemma.d_head * gemma.n_heads != gemma.d_model


def test_transformers5_rope_parameters_are_read():
    cfg = {**fixture("llama-3.1-8b"), "rope_parameters": {"rope_type": "llama3", "rope_theta": 123.0, "factor": 4.0,
                                                          "original_max_position_embeddings": 1024}}
    del cfg["rope_scaling"]
    m = spec_from_config(cfg, "x")
    assert (m.rope_theta, m.rope_factor, m.rope_original_positions) == (123.0, 4.0, 1024)
    phi = spec_from_config({**fixture("phi-2"), "partial_rotary_factor": None,
                            "rope_parameters": {"rope_type": "default", "partial_rotary_factor": 0.5}}, "p")
    assert phi.rotary_dim == 40


@pytest.mark.parametrize("changes,needle", [
    ({"model_type": "jamba"}, "model_type = 'jamba' is not supported; allowed: gpt2, opt, llama, mistral, qwen2, mixtral, qwen2_moe"),
    ({"model_type": "bart"}, "model_type = 'bart' is not supported"),
    ({"model_type": "gemma3"}, "model_type = 'gemma3' is not supported"),
    ({"rope_scaling": {"rope_type": "yarn", "factor": 4.0}}, "rope_scaling.rope_type = 'yarn' is not supported; allowed: 'default', 'linear', 'llama3'"),
    ({"hidden_act": "tanh"}, "hidden_act = 'tanh' is not supported for model_type 'llama'; allowed: 'silu', 'swish'"),
    ({"num_key_value_heads": 3}, "num_attention_heads 32 is not a multiple of num_key_value_heads 3"),
    ({"hidden_size": None}, "needs 'hidden_size', which is missing"),
])
def test_unsupported_llama_fields_name_key_value_and_allowed(changes, needle):
    with pytest.raises(SpecError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        spec_from_config({**fixture("llama-2-7b"), **changes}, "x")


@pytest.mark.parametrize("name,changes,needle", [
    ("opt-1.3b", {"do_layer_norm_before": False}, "do_layer_norm_before = False is not supported for model_type 'opt'; allowed: True"),
    ("opt-1.3b", {"word_embed_proj_dim": 512}, "word_embed_proj_dim = 512"),
    ("qwen2-0.5b", {"use_sliding_window": True}, "use_sliding_window = True"),
    ("bert-base-uncased", {"position_embedding_type": "relative_key"}, "position_embedding_type = 'relative_key'"),
    ("phi-2", {"qk_layernorm": True}, "qk_layernorm = True"),
    ("gpt2", {"scale_attn_by_inverse_layer_idx": True}, "scale_attn_by_inverse_layer_idx = True"),
    ("phi-3-mini-4k", {"rope_scaling": {"type": "longrope", "short_factor": [1.0]}}, "rope_type = 'longrope'"),
])
def test_unsupported_variants_are_spec_errors(name, changes, needle):
    with pytest.raises(SpecError, match=needle):
        spec_from_config({**fixture(name), **changes}, "x")


def test_resolution_of_paths_folders_and_cached_ids(tmp_path, monkeypatch):
    path = write_config(tmp_path / "tiny-llama", "llama")
    assert get_model(path).name == "tiny-llama" and get_model(str(tmp_path / "tiny-llama")).name == "tiny-llama"
    snap = tmp_path / "hf" / "hub" / "models--acme--tiny-phi" / "snapshots" / "abc123"
    write_config(snap, "phi")
    (snap.parents[1] / "refs").mkdir()
    (snap.parents[1] / "refs" / "main").write_text("abc123")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    m = get_model("acme/tiny-phi")
    assert (m.name, m.family, m.parallel_block) == ("acme/tiny-phi", "phi", True)
    with pytest.raises(SpecError, match="unknown model 'acme/absent'"):
        get_model("acme/absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SpecError, match="folder has no config.json"):
        get_model(str(tmp_path / "empty"))
    (tmp_path / "bad.json").write_text("{nope")
    with pytest.raises(SpecError, match="not valid JSON"):
        get_model(str(tmp_path / "bad.json"))
    assert set(MODELS) >= {"gpt2", "llama-2-7b"}  # zoo names still win


def test_cli_lower_and_models_take_config_paths(tmp_path, capsys):
    path = str(CONFIGS / "gemma-2b.json")
    assert main(["lower", path, "--phase", "decode", "--seq-len", "64", "--layers", "1", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["meta"]["model"] == "gemma-2b" and "EMB.XS" in {e["name"] for e in doc["einsums"]}
    assert main(["models", path, str(CONFIGS / "mistral-7b-v0.1.json"), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["name"], r["params"]) for r in rows] == [("gemma-2b", 2_506_172_416), ("mistral-7b-v0.1", 7_241_732_096)]
    assert main(["models"]) == 0 and "llama-2-7b" in capsys.readouterr().out
    bad = tmp_path / "bart.json"
    bad.write_text(json.dumps({"model_type": "bart"}))
    assert main(["lower", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "model_type = 'bart' is not supported" in err


def test_sweep_over_two_config_files(tmp_path, capsys):
    a, b = write_config(tmp_path / "m" / "tiny-llama", "llama"), str(CONFIGS / "llama-3.2-1b.json")
    exp = tmp_path / "exp.yaml"
    exp.write_text(f"""name: hf-configs
workloads:
  models: [{a}, {b}]
  phases: [decode]
  seq_len: [32]
  layers: 1
family: roofline
fixed: {{}}
sweep:
  preset: [a100-40gb]
objectives:
  latency_s: min
""")
    runs = tmp_path / "runs"
    assert main(["sweep", str(exp), "--run", "two", "--runs-dir", str(runs), "--jobs", "1", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["results", "two", "--runs-dir", str(runs), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted(r["model"] for r in rows) == sorted([a, b])
    want = {m: sum(s.macs for s in lower(m, "decode", seq_len=32, layers=1).stats) for m in (a, b)}
    assert {r["model"]: r["macs"] for r in rows} == want
    exp.write_text(exp.read_text().replace(a, str(tmp_path / "nothing.json")))
    assert main(["sweep", str(exp), "--run", "bad", "--runs-dir", str(runs), "--quiet"]) == 2
    assert "unknown model" in capsys.readouterr().err

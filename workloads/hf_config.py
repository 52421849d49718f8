"""Hugging Face `config.json` -> `ModelSpec`, offline.

`resolve(source)` accepts a `config.json` path, a checkpoint folder holding one, or a model id
(`ORG/NAME`) found in the local Hugging Face cache (`$HF_HUB_CACHE`, else `$HF_HOME/hub`, else
`~/.cache/huggingface/hub`: `models--ORG--NAME/snapshots/<revision>/config.json`); it never uses
the network. `spec_from_config(cfg, name)` maps the fields of one architecture family
(`model_type`) to a `ModelSpec`. The field names and their defaults are those of the
`transformers` configuration classes (GPT2Config, OPTConfig, LlamaConfig, MistralConfig,
Qwen2Config, MixtralConfig, Qwen2MoeConfig, PhiConfig, Phi3Config, GemmaConfig, Gemma2Config, BertConfig, T5Config); a field whose value the lowering
cannot represent raises `SpecError` naming the key, the value and what is allowed.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

from .errors import SpecError
from .models import ModelSpec


class _Config:
    """Reads fields of one config with errors that name the file, the key and what is allowed."""

    def __init__(self, cfg: dict, where: str) -> None:
        self.cfg, self.where = cfg, where
        self.model_type = cfg.get("model_type")

    def need(self, key: str, *alternatives: str):
        for k in (key, *alternatives):
            if self.cfg.get(k) is not None:
                return self.cfg[k]
        raise SpecError(f"{self.where}: model_type {self.model_type!r} needs {key!r}, which is missing")

    def get(self, key: str, default=None):
        value = self.cfg.get(key)
        return default if value is None else value

    def allow(self, key: str, allowed, default=None):
        """The value of `key` (or `default`), which must be one of `allowed`."""
        value = self.cfg.get(key, default)
        if value not in allowed:
            shown = ", ".join(repr(a) for a in allowed)
            raise SpecError(f"{self.where}: {key} = {value!r} is not supported for model_type "
                            f"{self.model_type!r}; allowed: {shown}")
        return value

    def activation(self, key: str, table: dict[str, str], default: str) -> str:
        return table[self.allow(key, tuple(table), default)]

    def integer(self, key: str, *alternatives: str) -> int:
        value = self.need(key, *alternatives)
        if not isinstance(value, int) or value < 1:
            raise SpecError(f"{self.where}: {key} = {value!r}; must be a positive integer")
        return value


_GELU = {"gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh", "gelu_fast": "gelu_tanh",
         "gelu": "gelu", "relu": "relu"}
_SILU = {"silu": "swiglu", "swish": "swiglu"}


def _common(c: _Config, heads_key: str = "num_attention_heads") -> dict:
    d, h = c.integer("hidden_size"), c.integer(heads_key)
    head_dim = c.get("head_dim", d // h)
    if d % h and c.get("head_dim") is None:
        raise SpecError(f"{c.where}: hidden_size {d} is not divisible by {heads_key} {h}; give head_dim")
    return dict(n_layers=c.integer("num_hidden_layers"), d_model=d, n_heads=h, d_head=head_dim,
                d_ff=c.integer("intermediate_size"), vocab_size=c.integer("vocab_size"),
                max_positions=c.integer("max_position_embeddings"))


def _window(window, max_positions: int) -> int | None:
    """A sliding window, or None when there is none or it covers every position."""
    return None if window is None or window >= max_positions else int(window)


def _with_defaults(c: _Config, defaults: dict) -> _Config:
    """`c` with a family's own defaults for keys that are absent (an explicit null in a key with
    a default is read as absent too)."""
    cfg = {**defaults, **{k: v for k, v in c.cfg.items() if v is not None or k not in defaults}}
    return _Config(cfg, c.where)


def _rope_params(c: _Config) -> tuple[str, dict]:
    """RoPE fields, from `rope_scaling` + `rope_theta` (transformers 4) or `rope_parameters` (5)."""
    key = "rope_parameters" if c.cfg.get("rope_parameters") is not None else "rope_scaling"
    params = c.cfg.get(key) or {}
    if not isinstance(params, dict):
        raise SpecError(f"{c.where}: {key} = {params!r}; expected an object")
    return key, params


def partial_rotary(c: _Config, default: float) -> float:
    _, params = _rope_params(c)
    return float(c.cfg.get("partial_rotary_factor") or params.get("partial_rotary_factor") or default)


def _rope(c: _Config) -> dict:
    """rope_theta and RoPE scaling (none, linear, llama3)."""
    key, params = _rope_params(c)
    theta = params.get("rope_theta", c.get("rope_theta", 10000.0))
    out = dict(position="rope", rope_theta=float(theta))
    kind = params.get("rope_type", params.get("type", "default"))
    if kind not in ("linear", "llama3", "default"):
        raise SpecError(f"{c.where}: {key}.rope_type = {kind!r} is not supported; "
                        f"allowed: 'default', 'linear', 'llama3'")
    if kind == "default":
        return out
    out.update(rope_scaling=kind, rope_factor=float(params["factor"]))
    if kind == "llama3":
        out.update(rope_low_freq_factor=float(params.get("low_freq_factor", 1.0)),
                   rope_high_freq_factor=float(params.get("high_freq_factor", 4.0)),
                   rope_original_positions=int(params.get("original_max_position_embeddings", 8192)))
    return out


def _gpt2(c: _Config) -> dict:
    c.allow("scale_attn_weights", (True,), True)
    c.allow("scale_attn_by_inverse_layer_idx", (False,), False)
    d = c.integer("n_embd")
    h = c.integer("n_head")
    return dict(family="gpt2", n_layers=c.integer("n_layer"), d_model=d, n_heads=h, d_head=d // h,
                d_ff=c.get("n_inner", 4 * d), vocab_size=c.integer("vocab_size"),
                max_positions=c.integer("n_positions"), norm_eps=float(c.get("layer_norm_epsilon", 1e-5)),
                activation=c.activation("activation_function", _GELU, "gelu_new"),
                tied_embeddings=bool(c.get("tie_word_embeddings", True)))


def _opt(c: _Config) -> dict:
    c.allow("do_layer_norm_before", (True,), True)
    c.allow("layer_norm_elementwise_affine", (True,), True)
    d = c.integer("hidden_size")
    c.allow("word_embed_proj_dim", (d, None), d)
    out = _common(_Config({**c.cfg, "intermediate_size": c.need("ffn_dim")}, c.where))
    return dict(out, family="opt", position_offset=2, bias=bool(c.get("enable_bias", True)),
                activation=c.activation("activation_function", _GELU, "relu"),
                tied_embeddings=bool(c.get("tie_word_embeddings", True)))


def _llama(c: _Config) -> dict:
    """LLaMA 1/2/3 (incl. Llama 3.1 rope_scaling), Mistral (sliding window), Qwen2 (q/k/v bias)."""
    out = _common(c)
    kind = c.model_type
    attention_bias = bool(c.get("attention_bias", False)) if kind == "llama" else False
    out.update(family=kind, n_kv_heads=c.get("num_key_value_heads", out["n_heads"]), norm="rmsnorm",
               norm_eps=float(c.get("rms_norm_eps", 1e-6)), activation=c.activation("hidden_act", _SILU, "silu"),
               bias=False, qkv_bias=True if kind == "qwen2" else attention_bias, out_bias=attention_bias,
               mlp_bias=bool(c.get("mlp_bias", False)) if kind == "llama" else False,
               tied_embeddings=bool(c.get("tie_word_embeddings", False)), **_rope(c))
    if kind == "mistral":
        # MistralConfig's default sliding_window is 4096 (Mistral 7B v0.1); v0.2 on set null.
        out["sliding_window"] = _window(c.cfg.get("sliding_window", 4096), out["max_positions"])
    if kind == "qwen2":
        c.allow("use_sliding_window", (False,), False)
    return out


def _experts(c: _Config, experts_key: str, width_key: str) -> dict:
    """The expert count, k, width and the router's activation (SwiGLU experts only)."""
    n, k = c.integer(experts_key), c.integer("num_experts_per_tok")
    if k > n:
        raise SpecError(f"{c.where}: num_experts_per_tok = {k} is not supported for model_type "
                        f"{c.model_type!r}; allowed: 1..{experts_key} ({n})")
    return dict(n_experts=n, experts_per_token=k, d_expert=c.integer(width_key))


def _mixtral(c: _Config) -> dict:
    """Mixtral (MixtralConfig): LLaMA attention, every MLP a sparse block of num_local_experts
    SwiGLU experts of width intermediate_size; softmax over the num_experts_per_tok top logits."""
    defaults = {"rope_theta": 1e6, "rms_norm_eps": 1e-5}  # MixtralConfig's defaults
    c = _with_defaults(c, defaults)
    out = _llama(c)
    window = c.get("sliding_window")  # MixtralConfig: None (Mixtral-8x7B's config.json: null)
    out.update(family="mixtral", sliding_window=_window(window, out["max_positions"]),
               router="topk_softmax", **_experts(c, "num_local_experts", "intermediate_size"))
    return out


def _qwen2_moe(c: _Config) -> dict:
    """Qwen2-MoE (Qwen2MoeConfig): Qwen2 attention (q/k/v bias), sparse MLPs of num_experts experts
    of width moe_intermediate_size plus a shared expert (shared_expert_intermediate_size) behind a
    sigmoid gate; softmax over all experts, then the top num_experts_per_tok (renormalized when
    norm_topk_prob). Layer i is sparse unless i is in mlp_only_layers or (i+1) % decoder_sparse_step
    != 0; dense layers use intermediate_size."""
    c.allow("use_sliding_window", (False,), False)
    c.allow("qkv_bias", (True, False), True)
    out = _llama(_Config({**c.cfg, "model_type": "qwen2"}, c.where))
    step = c.get("decoder_sparse_step", 1)
    if not isinstance(step, int) or step < 1:
        raise SpecError(f"{c.where}: decoder_sparse_step = {step!r} is not supported; allowed: a positive integer")
    dense = c.get("mlp_only_layers", [])
    if not isinstance(dense, list) or not all(isinstance(i, int) and 0 <= i < out["n_layers"] for i in dense):
        raise SpecError(f"{c.where}: mlp_only_layers = {dense!r} is not supported; allowed: a list of layer "
                        f"indices 0..{out['n_layers'] - 1}")
    sparse = tuple(i for i in range(out["n_layers"]) if i not in dense and (i + 1) % step == 0)
    out.update(family="qwen2_moe", qkv_bias=bool(c.get("qkv_bias", True)), router="softmax_topk",
               norm_topk_prob=bool(c.allow("norm_topk_prob", (True, False), False)),
               d_shared_expert=c.integer("shared_expert_intermediate_size"),
               moe_layers=None if len(sparse) == out["n_layers"] else sparse,
               **_experts(c, "num_experts", "moe_intermediate_size"))
    return out


def _phi(c: _Config) -> dict:
    """Phi-1, Phi-1.5, Phi-2: parallel attention/MLP block, partial rotary, LM head with bias."""
    c.allow("qk_layernorm", (False,), False)
    out = _common(c)
    partial = partial_rotary(c, 0.5)
    out.update(family="phi", n_kv_heads=c.get("num_key_value_heads", out["n_heads"]),
               norm_eps=float(c.get("layer_norm_eps", 1e-5)), rotary_dim=int(partial * out["d_head"]),
               activation=c.activation("hidden_act", _GELU, "gelu_new"), parallel_block=True,
               tied_embeddings=bool(c.get("tie_word_embeddings", False)), lm_head_bias=True, **_rope(c))
    return out


def _phi3(c: _Config) -> dict:
    """Phi-3 (mini/medium 4k): LLaMA-like with fused qkv_proj/gate_up_proj and a sliding window."""
    out = _common(c)
    partial = partial_rotary(c, 1.0)
    window = c.get("sliding_window")
    out.update(family="phi3", n_kv_heads=c.get("num_key_value_heads", out["n_heads"]), norm="rmsnorm",
               norm_eps=float(c.get("rms_norm_eps", 1e-5)), activation=c.activation("hidden_act", _SILU, "silu"),
               bias=False, tied_embeddings=bool(c.get("tie_word_embeddings", False)),
               rotary_dim=None if partial == 1.0 else int(partial * out["d_head"]),
               sliding_window=_window(window, out["max_positions"]), **_rope(c))
    return out


def _gemma(c: _Config) -> dict:
    """Gemma 1: GeGLU, head_dim independent of hidden/heads, sqrt(d)-scaled embeddings, tied head.
    GemmaConfig's hidden_activation defaults to gelu_pytorch_tanh (the `hidden_act` field is not read)."""
    out = _common(c)
    act = c.activation("hidden_activation", {"gelu_pytorch_tanh": "geglu_tanh", "gelu_new": "geglu_tanh",
                                             "gelu": "geglu"}, "gelu_pytorch_tanh")
    out.update(family="gemma", n_kv_heads=c.get("num_key_value_heads", out["n_heads"]), norm="rmsnorm",
               norm_eps=float(c.get("rms_norm_eps", 1e-6)), activation=act, bias=False,
               qkv_bias=bool(c.get("attention_bias", False)), out_bias=bool(c.get("attention_bias", False)),
               tied_embeddings=bool(c.get("tie_word_embeddings", True)),
               embed_scale=math.sqrt(out["d_model"]), **_rope(c))
    return out


_LAYER_TYPES = ("sliding_attention", "full_attention")


def _softcap(c: _Config, key: str, default: float) -> float | None:
    value = c.cfg.get(key, default)
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
        raise SpecError(f"{c.where}: {key} = {value!r} is not supported for model_type {c.model_type!r}; "
                        f"allowed: a positive number, or null")
    return None if value is None else float(value)


def _window_layers(c: _Config, n_layers: int) -> tuple[int, ...]:
    """The sliding (local) layers: `layer_types`, else Gemma2Config's default, the even layers
    (layer i slides when (i + 1) % 2 != 0)."""
    types = c.cfg.get("layer_types")
    if types is None:
        return tuple(i for i in range(n_layers) if (i + 1) % 2)
    if not isinstance(types, list) or len(types) != n_layers or any(t not in _LAYER_TYPES for t in types):
        raise SpecError(f"{c.where}: layer_types = {types!r} is not supported for model_type {c.model_type!r}; "
                        f"allowed: a list of num_hidden_layers ({n_layers}) of 'sliding_attention', 'full_attention'")
    return tuple(i for i, t in enumerate(types) if t == "sliding_attention")


def _gemma2(c: _Config) -> dict:
    """Gemma 2 (Gemma2Config): Gemma 1 plus post-attention and post-feedforward RMSNorms
    (sandwich norms), scores scaled by query_pre_attn_scalar^-1/2, tanh soft-capping of scores
    (attn_logit_softcapping) and logits (final_logit_softcapping), and sliding-window (local)
    layers alternating with global ones (`layer_types`; by default the even layers slide)."""
    defaults = {"head_dim": 256, "query_pre_attn_scalar": 256, "sliding_window": 4096}  # Gemma2Config's
    c = _with_defaults(c, defaults)
    c.allow("use_bidirectional_attention", (None, False), None)
    out = _gemma(c)
    scalar = c.need("query_pre_attn_scalar")
    if isinstance(scalar, bool) or not isinstance(scalar, (int, float)) or scalar <= 0:
        raise SpecError(f"{c.where}: query_pre_attn_scalar = {scalar!r} is not supported for model_type "
                        f"{c.model_type!r}; allowed: a positive number")
    window = c.cfg.get("sliding_window")
    if window is not None and (isinstance(window, bool) or not isinstance(window, int) or window < 1):
        raise SpecError(f"{c.where}: sliding_window = {window!r} is not supported for model_type "
                        f"{c.model_type!r}; allowed: a positive integer, or null")
    local = _window_layers(c, out["n_layers"]) if window is not None else ()
    out.update(family="gemma2", score_scale=float(scalar) ** -0.5, sandwich_norms=True,
               attn_softcap=_softcap(c, "attn_logit_softcapping", 50.0),
               final_softcap=_softcap(c, "final_logit_softcapping", 30.0),
               sliding_window=int(window) if local else None,
               window_layers=None if len(local) == out["n_layers"] else local)
    return out


def _bert(c: _Config) -> dict:
    c.allow("position_embedding_type", ("absolute",), "absolute")
    out = _common(c)
    out.update(family="bert", kind="encoder", norm_eps=float(c.get("layer_norm_eps", 1e-12)),
               norm_position="post", activation=c.activation("hidden_act", _GELU, "gelu"),
               token_types=c.get("type_vocab_size", 2), embed_norm=True, final_norm=False, pooler=True)
    return out


def _t5(c: _Config) -> dict:
    """T5 (T5Config; original T5: relu MLP, tied head scaled by d_model^-0.5; T5 v1.1 / flan-t5:
    feed_forward_proj gated-gelu, i.e. GeGLU with gelu_new, separate head): encoder-decoder,
    RMSNorm without bias, no biases, unscaled scores plus a bucketed relative position bias
    computed in block 0 of each stack and shared by its blocks. T5Config's defaults."""
    c.allow("is_encoder_decoder", (True,), True)
    act = c.allow("feed_forward_proj", ("relu", "gated-gelu"), "relu")
    d, h = c.integer("d_model"), c.integer("num_heads")
    buckets = c.integer("relative_attention_num_buckets")
    distance = c.get("relative_attention_max_distance", 128)
    if isinstance(distance, bool) or not isinstance(distance, int) or distance <= buckets // 4:
        raise SpecError(f"{c.where}: relative_attention_max_distance = {distance!r} is not supported for model_type "
                        f"'t5'; allowed: an integer > relative_attention_num_buckets / 4")
    layers = c.integer("num_layers")
    tied = bool(c.get("tie_word_embeddings", True))
    return dict(family="t5", kind="encoder-decoder", n_layers=layers, d_model=d, n_heads=h, d_head=c.get("d_kv", 64),
                d_ff=c.integer("d_ff"), vocab_size=c.integer("vocab_size"), max_positions=c.get("n_positions", 512),
                n_decoder_layers=c.get("num_decoder_layers", layers), norm="rmsnorm",
                norm_eps=float(c.get("layer_norm_epsilon", 1e-6)), activation="geglu_tanh" if act == "gated-gelu" else "relu",
                position="relative", relative_buckets=buckets, relative_max_distance=distance, bias=False,
                score_scale=1.0, tied_embeddings=tied, head_scale=d ** -0.5 if tied else 1.0)


FAMILIES = {"gpt2": _gpt2, "opt": _opt, "llama": _llama, "mistral": _llama, "qwen2": _llama,
            "mixtral": _mixtral, "qwen2_moe": _qwen2_moe, "phi": _phi, "phi3": _phi3, "gemma": _gemma,
            "gemma2": _gemma2, "bert": _bert, "t5": _t5}


def spec_from_config(cfg: dict, name: str, where: str = "config.json") -> ModelSpec:
    """The ModelSpec of a Hugging Face config (a dict as read from config.json)."""
    if not isinstance(cfg, dict):
        raise SpecError(f"{where}: a config must be a JSON object; got {type(cfg).__name__}")
    c = _Config(cfg, where)
    builder = FAMILIES.get(c.model_type)
    if builder is None:
        raise SpecError(f"{where}: model_type = {c.model_type!r} is not supported; allowed: "
                        f"{', '.join(FAMILIES)}")
    fields = builder(c)
    if fields["n_heads"] % (fields.get("n_kv_heads") or fields["n_heads"]):
        raise SpecError(f"{where}: num_attention_heads {fields['n_heads']} is not a multiple of "
                        f"num_key_value_heads {fields['n_kv_heads']}")
    return ModelSpec(name=name, source=f"Hugging Face config {where}", **fields)


def load_config(path: str | Path) -> dict:
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except OSError as err:
        raise SpecError(f"cannot read {path}: {err.strerror}") from None
    except json.JSONDecodeError as err:
        raise SpecError(f"{path}: not valid JSON ({err.msg}, line {err.lineno})") from None


def hub_cache() -> Path:
    """The local Hugging Face hub cache folder (the environment variables huggingface_hub reads)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "huggingface" / "hub"


def cached_snapshot(model_id: str) -> Path | None:
    """The snapshot folder of `ORG/NAME` in the local cache (the `refs/main` one if recorded)."""
    if model_id.count("/") != 1 or model_id.startswith((".", "/")):
        return None
    repo = hub_cache() / ("models--" + model_id.replace("/", "--"))
    ref = repo / "refs" / "main"
    if ref.is_file():
        snap = repo / "snapshots" / ref.read_text().strip()
        if (snap / "config.json").is_file():
            return snap
    found = sorted((p.parent for p in repo.glob("snapshots/*/config.json")), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def config_path(source: str | Path) -> Path | None:
    """config.json of a path or cached model id; None when `source` names neither."""
    path = Path(source).expanduser()
    if path.is_file():
        return path
    if path.is_dir():
        if (path / "config.json").is_file():
            return path / "config.json"
        raise SpecError(f"{source}: folder has no config.json")
    snap = cached_snapshot(str(source))
    return snap / "config.json" if snap else None


def resolve(source: str | Path) -> ModelSpec | None:
    """The ModelSpec of a config path, checkpoint folder or cached model id; None if none matches."""
    path = config_path(source)
    if path is None:
        return None
    name = str(source) if cached_snapshot(str(source)) and not Path(source).exists() else _name(path)
    return spec_from_config(load_config(path), name=name, where=str(path))


def _name(path: Path) -> str:
    if path.name != "config.json":
        return path.stem
    parent = path.parent
    if parent.parent.name == "snapshots" and parent.parent.parent.name.startswith("models--"):
        return parent.parent.parent.name[len("models--"):].replace("--", "/")
    return parent.name or "model"

"""Weights of released checkpoints mapped onto a lowered cascade's input tensors.

Given a Hugging-Face-style state dict (tensor name -> array; any framework's tensors converted
with `np.asarray`), `from_state_dict(cascade, state)` returns the cascade's weight inputs,
reshaped to the IR's head-structured layouts (WQ[D,G,J,E], WK[D,G,E], WO[G,J,F,D], …), plus the
RoPE tables COS/SIN computed from the model's config when the cascade reads them. Linear layers
stored as [out, in] (torch.nn.Linear) are transposed; GPT-2's Conv1D stores [in, out]. Query
head h maps to (g, j) = divmod(h, J), matching grouped-query attention's `repeat_kv`.

`open_checkpoint(source)` reads safetensors files lazily (each tensor memory-mapped by
`safetensors.safe_open` when first asked for): one file, a folder with `model.safetensors`, a
sharded folder (`model.safetensors.index.json`'s weight_map) or a model id in the local Hugging
Face cache. fp32, fp16 and bf16 (via ml_dtypes) tensors are read and widened to float64.
`load_checkpoint(cascade, source)` = both steps.

Layouts by family (the tensor names of the `transformers` modelling code): gpt2/gpt3, opt,
llama/mistral/qwen2 (LLaMA names; Qwen2 adds q/k/v biases), mixtral/qwen2_moe (LLaMA names with
per-expert tensors, see `_experts`), phi (Phi-1/1.5/2: `dense` output
projection, fc1/fc2, final_layernorm, LM head bias), phi3 (fused qkv_proj and gate_up_proj),
gemma (LLaMA names; RMSNorm weights stored as w - 1, the norm multiplies by 1 + w), gemma2 (as
gemma, with pre_feedforward_layernorm -> N2 and the post-attention / post-feedforward norms -> NA / NF),
bert, t5 (`_t5`: encoder, decoder with cross-attention, relative-bias tables; T5's bucket indices
computed from the config like the RoPE tables).
Tied embeddings: without `lm_head.weight` the head reads the token embedding.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import SpecError
from .hf_config import cached_snapshot
from .inputs import position_tables
from .ir import Cascade
from .models import ModelSpec

_PREFIXES = ("transformer.", "model.decoder.", "model.", "bert.", "decoder.")
_DTYPES = ("F64", "F32", "F16", "BF16")


def _strip_name(key: str) -> str:
    for p in _PREFIXES:
        if key.startswith(p):
            return key[len(p):]
    return key


class _Stripped(Mapping):
    """The state dict under prefix-free names, each tensor widened to float64 when read."""

    def __init__(self, state: Mapping) -> None:
        self.state = state
        self.names = {_strip_name(k): k for k in state.keys()}
        self.cache: dict[str, np.ndarray] = {}

    def __getitem__(self, key: str) -> np.ndarray:
        if key not in self.cache:
            self.cache[key] = np.asarray(self.state[self.names[key]], dtype=np.float64)
        return self.cache[key]

    def __iter__(self):
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)


@dataclass(frozen=True)
class _Dims:
    m: ModelSpec
    layers: int
    d: int
    g: int
    j: int
    e: int


def from_state_dict(cascade: Cascade, state: Mapping) -> dict[str, np.ndarray]:
    spec = cascade.meta.get("spec")
    if spec is None:
        raise SpecError(f"cascade {cascade.name} was not lowered from a model")
    m = ModelSpec(**spec)
    mapper = LAYOUTS.get(m.family)
    if mapper is None:
        raise SpecError(f"no checkpoint layout for family {m.family!r}; allowed: {', '.join(LAYOUTS)}")
    sizes = cascade.rank_sizes
    dims = _Dims(m, cascade.meta["layers"], sizes["D"], sizes["G"], sizes["J"], sizes["E"])
    weights: dict[str, np.ndarray] = {}
    try:
        mapper(_Stripped(state), weights, dims)
    except KeyError as missing:
        raise SpecError(f"state dict has no tensor {missing.args[0]!r} needed by the {m.family} layout") from None
    out = {k: v for k, v in weights.items() if k in cascade.tensors}
    return {**out, **position_tables(cascade, m)}


def load_checkpoint(cascade: Cascade, source) -> dict[str, np.ndarray]:
    """The cascade's weight inputs (and RoPE tables) read from a safetensors checkpoint."""
    return from_state_dict(cascade, open_checkpoint(source))


# ------------------------------------------------------------------ safetensors files
class SafetensorsCheckpoint(Mapping):
    """Tensor name -> numpy array over one or more safetensors files, read on demand."""

    def __init__(self, files: dict[str, Path]) -> None:
        self.files = files  # tensor name -> file
        self.handles: dict[Path, object] = {}

    def _handle(self, path: Path):
        if path not in self.handles:
            from safetensors import safe_open

            self.handles[path] = safe_open(str(path), framework="numpy")
        return self.handles[path]

    def __getitem__(self, name: str) -> np.ndarray:
        handle = self._handle(self.files[name])
        dtype = handle.get_slice(name).get_dtype()
        if dtype not in _DTYPES:
            raise SpecError(f"{self.files[name]}: tensor {name} has dtype {dtype}; allowed: {', '.join(_DTYPES)}")
        if dtype == "BF16":
            import ml_dtypes  # noqa: F401  (registers bfloat16 with numpy)
        return handle.get_tensor(name)

    def __iter__(self):
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)


def _file_names(path: Path) -> dict[str, Path]:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="numpy") as f:
            return {k: path for k in f.keys()}
    except Exception as err:  # safetensors raises its own error types for a bad header
        raise SpecError(f"{path}: not a readable safetensors file ({err})") from None


def open_checkpoint(source) -> SafetensorsCheckpoint:
    """A safetensors file, a checkpoint folder (single or sharded) or a cached model id."""
    path = Path(source).expanduser()
    if not path.exists():
        snap = cached_snapshot(str(source))
        if snap is None:
            raise SpecError(f"{source}: no such file or folder, and no such model in the local Hugging Face cache")
        path = snap
    if path.is_file():
        return SafetensorsCheckpoint(_file_names(path))
    index = path / "model.safetensors.index.json"
    if index.is_file():
        try:
            weight_map = json.loads(index.read_text())["weight_map"]
        except (json.JSONDecodeError, KeyError):
            raise SpecError(f"{index}: expected a JSON object with a 'weight_map'") from None
        return SafetensorsCheckpoint({k: path / v for k, v in weight_map.items()})
    files = sorted(path.glob("*.safetensors"))
    if not files:
        found = ", ".join(sorted(p.name for p in path.iterdir())[:8]) or "nothing"
        raise SpecError(f"{path}: no *.safetensors checkpoint (found {found}); only safetensors is read")
    names: dict[str, Path] = {}
    for f in files:
        names.update(_file_names(f))
    return SafetensorsCheckpoint(names)


# ------------------------------------------------------------------ layouts
def _gpt2(s, w, x: _Dims):
    d, g, j, e = x.d, x.g, x.j, x.e
    w["WTE"], w["WPE"] = s["wte.weight"], s["wpe.weight"]
    for i in range(x.layers):
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
    _lm_head(s, w, x.m)


def _lm_head(s, w, m: ModelSpec) -> None:
    if not m.tied_embeddings:
        w["WLM"] = s["lm_head.weight"].T
    if m.lm_head_bias:
        w["BLM"] = s["lm_head.bias"]


def _linear_qkvo(s, w, p, L, x: _Dims, names):
    d, g, j, e = x.d, x.g, x.j, x.e
    q, k, v, o = names
    w[L + "WQ"] = s[p + q + ".weight"].T.reshape(d, g, j, e)
    w[L + "WK"] = s[p + k + ".weight"].T.reshape(d, g, e)
    w[L + "WV"] = s[p + v + ".weight"].T.reshape(d, g, e)
    w[L + "WO"] = s[p + o + ".weight"].T.reshape(g, j, e, d)
    if x.m.has_bias("qkv"):
        w[L + "bQ"] = s[p + q + ".bias"].reshape(g, j, e)
        w[L + "bK"] = s[p + k + ".bias"].reshape(g, e)
        w[L + "bV"] = s[p + v + ".bias"].reshape(g, e)
    if x.m.has_bias("out"):
        w[L + "bO"] = s[p + o + ".bias"]


def _linear(s, w, theirs: str, ours: str, L: str, bias: bool) -> None:
    """torch Linear `theirs` ([out, in]) -> our W{ours} [in, out] (+ b{ours})."""
    w[L + "W" + ours] = s[theirs + ".weight"].T
    if bias:
        w[L + "b" + ours] = s[theirs + ".bias"]


def _norms(s, w, L: str, pairs, affine_bias: bool, plus_one: bool = False) -> None:
    for ours, theirs in pairs:
        w[L + ours + "G"] = s[theirs + "weight"] + (1.0 if plus_one else 0.0)
        if affine_bias:
            w[L + ours + "B"] = s[theirs + "bias"]


def _opt(s, w, x: _Dims):
    w["WTE"], w["WPE"] = s["embed_tokens.weight"], s["embed_positions.weight"]
    mlp_bias = x.m.has_bias("mlp")
    for i in range(x.layers):
        p, L = f"layers.{i}.", f"L{i}."
        _linear_qkvo(s, w, p, L, x, ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.out_proj"))
        _linear(s, w, p + "fc1", "1", L, mlp_bias)
        _linear(s, w, p + "fc2", "2", L, mlp_bias)
        _norms(s, w, L, (("N1.", p + "self_attn_layer_norm."), ("N2.", p + "final_layer_norm.")), True)
    _norms(s, w, "F.", (("N.", "final_layer_norm."),), True)
    _lm_head(s, w, x.m)


def _llama(s, w, x: _Dims):
    """LLaMA, Mistral, Qwen2 and Gemma (whose RMSNorm scales by 1 + weight)."""
    gemma = x.m.family in ("gemma", "gemma2")
    # Gemma-2: input / post-attention / pre-feedforward / post-feedforward norms
    names = (("N1.", "input_layernorm."), ("NA.", "post_attention_layernorm."), ("N2.", "pre_feedforward_layernorm."),
             ("NF.", "post_feedforward_layernorm.")) if x.m.sandwich_norms else \
        (("N1.", "input_layernorm."), ("N2.", "post_attention_layernorm."))
    w["WTE"] = s["embed_tokens.weight"]
    mlp_bias = x.m.has_bias("mlp")
    for i in range(x.layers):
        p, L = f"layers.{i}.", f"L{i}."
        _linear_qkvo(s, w, p, L, x, ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj"))
        if x.m.is_moe_layer(i):
            _experts(s, w, p, L, x.m)
        else:
            for ours, theirs in (("G", "gate_proj"), ("U", "up_proj"), ("D", "down_proj")):
                _linear(s, w, p + "mlp." + theirs, ours, L, mlp_bias)
        _norms(s, w, L, tuple((ours, p + theirs) for ours, theirs in names), False, gemma)
    _norms(s, w, "F.", (("N.", "norm."),), False, gemma)
    _lm_head(s, w, x.m)


# Expert tensors per family: the sparse block's module and the names of (gate, up, down).
_EXPERTS = {"mixtral": ("block_sparse_moe.", ("w1", "w3", "w2")),
            "qwen2_moe": ("mlp.", ("gate_proj", "up_proj", "down_proj"))}


def _experts(s, w, p: str, L: str, m: ModelSpec) -> None:
    """A sparse MLP: router `gate` [X, D] -> WR[D,X]; expert e's gate/up [CE, D] -> WEG/WEU[e] [D,CE],
    down [D, CE] -> WED[e] [CE,D]; Qwen2-MoE's shared expert -> WSEG/WSEU/WSED and its gate -> WSEGT[D]."""
    block, names = _EXPERTS[m.family]
    w[L + "WR"] = s[p + block + "gate.weight"].T
    for ours, theirs in zip("GUD", names):
        w[L + "WE" + ours] = np.stack([s[f"{p}{block}experts.{e}.{theirs}.weight"].T for e in range(m.n_experts)])
    if m.d_shared_expert:
        for ours, theirs in (("G", "gate_proj"), ("U", "up_proj"), ("D", "down_proj")):
            _linear(s, w, p + block + "shared_expert." + theirs, "SE" + ours, L, False)
        w[L + "WSEGT"] = s[p + block + "shared_expert_gate.weight"][0]


def _phi(s, w, x: _Dims):
    """Phi-1/1.5/2 (`transformers` PhiForCausalLM names)."""
    w["WTE"] = s["embed_tokens.weight"]
    for i in range(x.layers):
        p, L = f"layers.{i}.", f"L{i}."
        _linear_qkvo(s, w, p, L, x, ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.dense"))
        _linear(s, w, p + "mlp.fc1", "1", L, True)
        _linear(s, w, p + "mlp.fc2", "2", L, True)
        _norms(s, w, L, (("N1.", p + "input_layernorm."),), True)
    _norms(s, w, "F.", (("N.", "final_layernorm."),), True)
    _lm_head(s, w, x.m)


def _phi3(s, w, x: _Dims):
    """Phi-3: qkv_proj rows are [q (H·E) | k (G·E) | v (G·E)], gate_up_proj rows [gate | up]."""
    d, g, j, e = x.d, x.g, x.j, x.e
    w["WTE"] = s["embed_tokens.weight"]
    for i in range(x.layers):
        p, L = f"layers.{i}.", f"L{i}."
        qkv = s[p + "self_attn.qkv_proj.weight"].T
        w[L + "WQ"] = qkv[:, : g * j * e].reshape(d, g, j, e)
        w[L + "WK"] = qkv[:, g * j * e: (g * j + g) * e].reshape(d, g, e)
        w[L + "WV"] = qkv[:, (g * j + g) * e:].reshape(d, g, e)
        w[L + "WO"] = s[p + "self_attn.o_proj.weight"].T.reshape(g, j, e, d)
        gate_up = s[p + "mlp.gate_up_proj.weight"].T
        half = gate_up.shape[1] // 2
        w[L + "WG"], w[L + "WU"] = gate_up[:, :half], gate_up[:, half:]
        w[L + "WD"] = s[p + "mlp.down_proj.weight"].T
        _norms(s, w, L, (("N1.", p + "input_layernorm."), ("N2.", p + "post_attention_layernorm.")), False)
    _norms(s, w, "F.", (("N.", "norm."),), False)
    _lm_head(s, w, x.m)


def _bert(s, w, x: _Dims):
    w["WTE"] = s["embeddings.word_embeddings.weight"]
    w["WPE"] = s["embeddings.position_embeddings.weight"]
    w["WTT"] = s["embeddings.token_type_embeddings.weight"]
    _norms(s, w, "EMB.", (("N.", "embeddings.LayerNorm."),), True)
    for i in range(x.layers):
        p, L = f"encoder.layer.{i}.", f"L{i}."
        _linear_qkvo(s, w, p, L, x, ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"))
        _linear(s, w, p + "intermediate.dense", "1", L, True)
        _linear(s, w, p + "output.dense", "2", L, True)
        _norms(s, w, L, (("N1.", p + "attention.output.LayerNorm."), ("N2.", p + "output.LayerNorm.")), True)


def _t5_attention(s, w, p: str, L: str, ours: str, x: _Dims) -> None:
    """q/k/v/o of a T5 attention module `p` -> W{ours}Q/K/V/O (ours: "" self, "X" cross)."""
    d, g, j, e = x.d, x.g, x.j, x.e
    w[f"{L}W{ours}Q"] = s[p + "q.weight"].T.reshape(d, g, j, e)
    w[f"{L}W{ours}K"] = s[p + "k.weight"].T.reshape(d, g, e)
    w[f"{L}W{ours}V"] = s[p + "v.weight"].T.reshape(d, g, e)
    w[f"{L}W{ours}O"] = s[p + "o.weight"].T.reshape(g, j, e, d)


def _t5_mlp(s, w, p: str, L: str, m: ModelSpec) -> None:
    if m.gated:  # T5 v1.1: wi_0 is the GELU gate, wi_1 the linear branch
        for ours, theirs in (("G", "wi_0"), ("U", "wi_1"), ("D", "wo")):
            _linear(s, w, p + theirs, ours, L, False)
    else:
        _linear(s, w, p + "wi", "1", L, False)
        _linear(s, w, p + "wo", "2", L, False)


def _t5(s, w, x: _Dims):
    """T5ForConditionalGeneration: `shared` embedding, encoder.block.{i}.layer.{0 attention, 1 MLP},
    decoder.block.{i}.layer.{0 self, 1 EncDecAttention, 2 MLP} (stored as `block.{i}` once the
    `decoder.` prefix is stripped), relative_attention_bias [buckets, heads] in block 0 of each."""
    m = x.m
    w["WTE"] = s["shared.weight"]
    for stack, L0, pre in (("encoder.", "E", "ENC."), ("", "L", "DEC.")):
        w[pre + "REL"] = s[stack + "block.0.layer.0.SelfAttention.relative_attention_bias.weight"].reshape(-1, x.g, x.j)
        layers = x.layers if L0 == "E" else m.n_decoder_layers if x.layers == m.n_layers else min(x.layers, m.n_decoder_layers)
        for i in range(layers):
            p, L = f"{stack}block.{i}.layer.", f"{L0}{i}."
            _t5_attention(s, w, p + "0.SelfAttention.", L, "", x)
            _norms(s, w, L, (("N1.", p + "0.layer_norm."),), False)
            last = 1 if L0 == "E" else 2
            if L0 == "L":
                _t5_attention(s, w, p + "1.EncDecAttention.", L, "X", x)
                _norms(s, w, L, (("NX.", p + "1.layer_norm."),), False)
            _t5_mlp(s, w, f"{p}{last}.DenseReluDense.", L, m)
            _norms(s, w, L, (("N2.", f"{p}{last}.layer_norm."),), False)
    _norms(s, w, "ENC.F.", (("N.", "encoder.final_layer_norm."),), False)
    _norms(s, w, "F.", (("N.", "final_layer_norm."),), False)
    if not m.tied_embeddings:
        w["WLM"] = s["lm_head.weight"].T if "lm_head.weight" in s else s["shared.weight"].T


LAYOUTS = {"gpt2": _gpt2, "gpt3": _gpt2, "opt": _opt, "llama": _llama, "mistral": _llama, "qwen2": _llama,
           "mixtral": _llama, "qwen2_moe": _llama,
           "gemma": _llama, "gemma2": _llama, "phi": _phi, "phi3": _phi3, "bert": _bert, "t5": _t5}

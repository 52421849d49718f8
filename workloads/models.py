"""The model zoo: Transformer hyper-parameters, each preset citing its source.

`param_count()` derives the number of parameters from the hyper-parameters alone; the tests
compare it with the published count (`published_params`, exact where the released checkpoint
gives it, nominal where the paper only gives a rounded figure).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from .errors import SpecError


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str
    n_layers: int
    d_model: int
    n_heads: int
    d_head: int
    d_ff: int
    vocab_size: int
    max_positions: int
    n_kv_heads: int | None = None  # None: multi-head attention (= n_heads)
    kind: str = "decoder"  # decoder | encoder | encoder-decoder (T5) | attention (attention shapes only)
    norm: str = "layernorm"  # layernorm | rmsnorm
    norm_eps: float = 1e-5
    norm_position: str = "pre"  # pre | post (BERT)
    activation: str = "gelu_tanh"  # gelu | gelu_tanh | relu | swiglu | geglu | geglu_tanh (see GATED)
    position: str = "learned"  # learned | rope | relative (T5's bucketed bias) | none
    position_offset: int = 0  # OPT's learned positions start at index 2
    rope_theta: float = 10000.0
    bias: bool = True
    tied_embeddings: bool = True
    lm_head_bias: bool = False
    token_types: int = 0  # BERT's segment embeddings
    embed_norm: bool = False  # BERT: LayerNorm after the embeddings
    final_norm: bool = True
    pooler: bool = False
    parallel_block: bool = False  # Phi-2/GPT-J: attention and MLP read the same normed input
    rotary_dim: int | None = None  # partial rotary (Phi-2): first rotary_dim dims of each head
    # Bias per projection kind; None follows `bias` (Qwen2: qkv_bias only).
    qkv_bias: bool | None = None
    out_bias: bool | None = None
    mlp_bias: bool | None = None
    embed_scale: float = 1.0  # Gemma: token embeddings times sqrt(d_model)
    # RoPE frequency scaling: none | linear | llama3 (Llama 3.1 `rope_scaling`), see inputs.rope_tables
    rope_scaling: str = "none"
    rope_factor: float = 1.0
    rope_low_freq_factor: float = 1.0
    rope_high_freq_factor: float = 4.0
    rope_original_positions: int = 8192
    sliding_window: int | None = None  # Mistral: a query attends to the last `sliding_window` keys
    window_layers: tuple[int, ...] | None = None  # the layers under the window; None: every layer (Gemma-2: even ones)
    score_scale: float | None = None  # attention scores times this; None: 1/sqrt(d_head) (Gemma-2: query_pre_attn_scalar)
    attn_softcap: float | None = None  # Gemma-2: scores -> cap * tanh(scores / cap) before the mask
    final_softcap: float | None = None  # Gemma-2: logits -> cap * tanh(logits / cap)
    sandwich_norms: bool = False  # Gemma-2: RMSNorm after attention and after the MLP, before each residual add
    # Mixture of Experts (Mixtral, Qwen2-MoE; docs/workloads.md): n_experts gated (SwiGLU) experts
    # of width d_expert, experts_per_token of them per token; 0 experts = a dense MLP.
    n_experts: int = 0
    experts_per_token: int = 0
    d_expert: int = 0
    d_shared_expert: int = 0  # Qwen2-MoE: a shared expert behind a sigmoid gate (0: none)
    # topk_softmax (Mixtral: softmax over the k largest logits) | softmax_topk (Qwen2-MoE: softmax
    # over all experts, then the k largest probabilities, renormalized when norm_topk_prob)
    router: str = "topk_softmax"
    norm_topk_prob: bool = True
    moe_layers: tuple[int, ...] | None = None  # the sparse layers; None: every layer
    # Encoder-decoder (T5, docs/workloads.md): n_layers encoder blocks, n_decoder_layers decoder
    # blocks; relative position bias of relative_buckets buckets up to relative_max_distance.
    n_decoder_layers: int = 0
    relative_buckets: int = 0
    relative_max_distance: int = 128
    head_scale: float = 1.0  # T5 with tied embeddings: the decoder output times d_model^-0.5
    published_params: int | None = None
    params_exact: bool = True  # False: published figure is nominal (rounded)
    source: str = ""

    def __post_init__(self) -> None:
        if self.moe_layers is not None and not isinstance(self.moe_layers, tuple):
            object.__setattr__(self, "moe_layers", tuple(self.moe_layers))  # from a JSON list
        if self.window_layers is not None and not isinstance(self.window_layers, tuple):
            object.__setattr__(self, "window_layers", tuple(self.window_layers))

    def is_window_layer(self, layer: int) -> bool:
        """True when block `layer` attends within the sliding window."""
        return self.sliding_window is not None and (self.window_layers is None or layer in self.window_layers)

    def is_moe_layer(self, layer: int) -> bool:
        """True when block `layer` has a sparse Mixture-of-Experts MLP."""
        return self.n_experts > 0 and (self.moe_layers is None or layer in self.moe_layers)

    @property
    def kv_heads(self) -> int:
        return self.n_kv_heads or self.n_heads

    @property
    def causal(self) -> bool:
        return self.kind == "decoder"

    @property
    def gated(self) -> bool:
        """Gated MLP (three matrices: gate, up, down)."""
        return self.activation in GATED

    def has_bias(self, which: str) -> bool:
        """Bias of the `qkv`, `out` or `mlp` projections."""
        value = {"qkv": self.qkv_bias, "out": self.out_bias, "mlp": self.mlp_bias}[which]
        return self.bias if value is None else value

    def param_count(self) -> int:
        """Parameters implied by the hyper-parameters (embeddings, blocks, norms, head)."""
        if self.kind == "encoder-decoder":
            return self.encoder_decoder_params()
        d, h, e, f = self.d_model, self.n_heads, self.d_head, self.d_ff
        kv = self.kv_heads
        norm_params = 2 * d if self.norm == "layernorm" else d
        attn = d * h * e + 2 * d * kv * e + h * e * d
        if self.has_bias("qkv"):
            attn += h * e + 2 * kv * e
        if self.has_bias("out"):
            attn += d
        mlp = (3 if self.gated else 2) * d * f
        if self.has_bias("mlp"):
            mlp += (2 * f if self.gated else f) + d
        norms_per_block = (1 if self.parallel_block else 2) + (2 if self.sandwich_norms else 0)
        block = attn + mlp + norms_per_block * norm_params
        sparse = sum(self.is_moe_layer(i) for i in range(self.n_layers))
        total = self.n_layers * block + sparse * (self.moe_params() - mlp)
        total += self.vocab_size * d
        if self.position == "learned":
            total += (self.max_positions + self.position_offset) * d
        total += self.token_types * d
        if self.embed_norm:
            total += norm_params
        if self.final_norm:
            total += norm_params
        if self.pooler:
            total += d * d + d
        if not self.tied_embeddings:
            total += self.vocab_size * d + (self.vocab_size if self.lm_head_bias else 0)
        return total

    def encoder_decoder_params(self) -> int:
        """T5: encoder blocks (self-attention, MLP, 2 RMSNorms), decoder blocks (self- and
        cross-attention, MLP, 3 RMSNorms), one relative-bias table [buckets, heads] in each
        stack, two final norms, the shared embedding and the LM head unless tied."""
        d, inner = self.d_model, self.n_heads * self.d_head
        attn = 4 * d * inner
        mlp = (3 if self.gated else 2) * d * self.d_ff
        total = self.n_layers * (attn + mlp + 2 * d) + self.n_decoder_layers * (2 * attn + mlp + 3 * d)
        total += 2 * self.relative_buckets * self.n_heads + 2 * d + self.vocab_size * d
        return total + (0 if self.tied_embeddings else self.vocab_size * d)

    def active_param_count(self) -> int:
        """Parameters a token uses: `param_count()` with k of the experts of each sparse layer."""
        sparse = sum(self.is_moe_layer(i) for i in range(self.n_layers))
        return self.param_count() - sparse * (self.moe_params() - self.moe_params(active=True))

    def moe_params(self, active: bool = False) -> int:
        """Parameters of one sparse MLP: router, experts (only the k active ones with `active`),
        shared expert and its gate."""
        d = self.d_model
        experts = self.experts_per_token if active else self.n_experts
        shared = 3 * d * self.d_shared_expert + d if self.d_shared_expert else 0
        return d * self.n_experts + experts * 3 * d * self.d_expert + shared


# Gated MLPs: activation -> the unary applied to the gate (silu for SwiGLU, GELU for GeGLU).
GATED = {"swiglu": "silu", "geglu": "gelu", "geglu_tanh": "gelu_tanh"}

_GPT2 = "Radford et al. 2019, GPT-2; hyper-parameters and exact count from the released checkpoint (openai-community/gpt2*)"
_GPT3 = "Brown et al. 2020, GPT-3, Table 2.1 (n_layers, d_model, n_heads, d_head; n_ctx 2048; nominal n_params)"
_OPT = "Zhang et al. 2022, OPT, Table 1; exact count from the released checkpoint (facebook/opt-*)"
_LLAMA2 = "Touvron et al. 2023, Llama 2, Table 1 and released config (meta-llama/Llama-2-*-hf); exact checkpoint count"
_LLAMA3 = "Meta 2024, Llama 3 model card and released config (meta-llama/Meta-Llama-3-8B); exact checkpoint count"
_BERT = "Devlin et al. 2019, BERT, Sec. 3; exact count of the released checkpoint (google-bert/bert-*-uncased) with pooler"
_FUSEMAX = (
    "Nayak et al., FuseMax (MICRO 2024), Sec. 6 workloads following FLAT (Kao et al., ASPLOS 2023); "
    "shapes as in the FuseMax artifact's flat_validation.csv (batch 64, seq 1K-1M)"
)


def _gpt2(name: str, layers: int, d: int, heads: int, params: int) -> ModelSpec:
    return ModelSpec(
        name, "gpt2", layers, d, heads, d // heads, 4 * d, 50257, 1024,
        published_params=params, source=_GPT2,
    )


def _gpt3(name: str, layers: int, d: int, heads: int, d_head: int, params: int) -> ModelSpec:
    return ModelSpec(
        name, "gpt3", layers, d, heads, d_head, 4 * d, 50257, 2048,
        published_params=params, params_exact=False, source=_GPT3,
    )


def _llama(name: str, layers: int, d: int, heads: int, kv: int, ff: int, vocab: int, ctx: int,
           theta: float, params: int, source: str, exact: bool = True) -> ModelSpec:
    return ModelSpec(
        name, "llama", layers, d, heads, d // heads, ff, vocab, ctx, n_kv_heads=kv,
        norm="rmsnorm", norm_eps=1e-5 if "llama-3" in name else 1e-6 if name.startswith("yi") else 1e-5,
        activation="swiglu", position="rope", rope_theta=theta,
        bias=False, tied_embeddings=False, published_params=params, params_exact=exact, source=source,
    )


MODELS: dict[str, ModelSpec] = {
    m.name: m
    for m in [
        _gpt2("gpt2", 12, 768, 12, 124_439_808),
        _gpt2("gpt2-medium", 24, 1024, 16, 354_823_168),
        _gpt2("gpt2-large", 36, 1280, 20, 774_030_080),
        _gpt2("gpt2-xl", 48, 1600, 25, 1_557_611_200),
        _gpt3("gpt3-125m", 12, 768, 12, 64, 125_000_000),
        _gpt3("gpt3-350m", 24, 1024, 16, 64, 350_000_000),
        _gpt3("gpt3-760m", 24, 1536, 16, 96, 760_000_000),
        # Table 2.1 lists 24 heads of 128 for GPT-3 XL, which is 3072 != d_model 2048 and would
        # give 1.52 B parameters; 16 heads of 128 (= d_model) reproduces the published 1.3 B.
        _gpt3("gpt3-1.3b", 24, 2048, 16, 128, 1_300_000_000),
        ModelSpec("opt-1.3b", "opt", 24, 2048, 32, 64, 8192, 50272, 2048, position_offset=2,
                  activation="relu", published_params=1_315_758_080, source=_OPT),
        ModelSpec("opt-6.7b", "opt", 32, 4096, 32, 128, 16384, 50272, 2048, position_offset=2,
                  activation="relu", published_params=6_658_473_984, source=_OPT),
        _llama("llama-2-7b", 32, 4096, 32, 32, 11008, 32000, 4096, 10000.0, 6_738_415_616, _LLAMA2),
        _llama("llama-2-13b", 40, 5120, 40, 40, 13824, 32000, 4096, 10000.0, 13_015_864_320, _LLAMA2),
        _llama("llama-3-8b", 32, 4096, 32, 8, 14336, 128256, 8192, 500000.0, 8_030_261_248, _LLAMA3),
        _llama("yi-6b", 32, 4096, 32, 4, 11008, 64000, 4096, 5000000.0, 6_061_035_520,
               "01.AI 2024, Yi (arXiv:2403.04652) Table 1 and released config (01-ai/Yi-6B); exact checkpoint count"),
        ModelSpec("phi-2", "phi", 32, 2560, 32, 80, 10240, 51200, 2048, activation="gelu_tanh",
                  position="rope", rotary_dim=32, parallel_block=True, tied_embeddings=False,
                  lm_head_bias=True, published_params=2_779_683_840,
                  source="Microsoft 2023, Phi-2 model card and released config (microsoft/phi-2); exact checkpoint count"),
        ModelSpec("bert-base", "bert", 12, 768, 12, 64, 3072, 30522, 512, kind="encoder",
                  norm_eps=1e-12, norm_position="post", activation="gelu", token_types=2,
                  embed_norm=True, final_norm=False, pooler=True, published_params=109_482_240, source=_BERT),
        ModelSpec("bert-large", "bert", 24, 1024, 16, 64, 4096, 30522, 512, kind="encoder",
                  norm_eps=1e-12, norm_position="post", activation="gelu", token_types=2,
                  embed_norm=True, final_norm=False, pooler=True, published_params=335_141_888, source=_BERT),
        ModelSpec("fusemax-bert", "attention", 1, 768, 12, 64, 3072, 1, 1 << 20, kind="attention",
                  position="none", final_norm=False, source=_FUSEMAX),
        ModelSpec("fusemax-trxl", "attention", 1, 1024, 16, 64, 4096, 1, 1 << 20, kind="attention",
                  position="none", final_norm=False, source=_FUSEMAX),
        ModelSpec("fusemax-t5", "attention", 1, 512, 8, 64, 2048, 1, 1 << 20, kind="attention",
                  position="none", final_norm=False, source=_FUSEMAX),
        ModelSpec("fusemax-xlm", "attention", 1, 2048, 16, 128, 8192, 1, 1 << 20, kind="attention",
                  position="none", final_norm=False, source=_FUSEMAX),
    ]
}

ALIASES = {"gpt2-small": "gpt2", "gpt2-s": "gpt2", "llama2-7b": "llama-2-7b", "llama2-13b": "llama-2-13b",
           "llama3-8b": "llama-3-8b"}


def get_model(name: str | ModelSpec) -> ModelSpec:
    """A zoo name, or a Hugging Face model: a config.json path, a checkpoint folder, or a model
    id in the local Hugging Face cache (see `workloads.hf_config.resolve`; never the network)."""
    if isinstance(name, ModelSpec):
        return name
    if not isinstance(name, str):
        raise SpecError(f"model must be a name or a path; got {name!r}")
    key = ALIASES.get(name.lower(), name.lower())
    if key in MODELS:
        return MODELS[key]
    from .hf_config import resolve

    spec = resolve(name)
    if spec is None:
        raise SpecError(f"unknown model {name!r}; allowed: {', '.join(MODELS)}, a config.json path, "
                        f"a checkpoint folder or a model id in the local Hugging Face cache")
    return spec


def with_layers(model: ModelSpec, n_layers: int) -> ModelSpec:
    """The same model truncated (or extended) to `n_layers` blocks."""
    return replace(model, n_layers=n_layers)

"""Lowering of a Transformer model to an extended-Einsum cascade.

`lower(model, phase, batch, seq_len, ...)` builds the cascade of one forward step:
embeddings (token, learned position, segment), norms (LayerNorm, RMSNorm; pre or post),
Q/K/V projections with grouped-query heads, RoPE (full or partial), causal attention as a
3-, 2- or 1-pass cascade, the KV cache (a decode step reads the cache and appends to it),
output projection, MLP (GELU, ReLU or SwiGLU; sparse Mixture-of-Experts MLPs in `workloads.moe`),
residuals, final norm and LM head.

Phases: "prefill" runs `seq_len` query tokens after `kv_len` cached ones (default 0);
"decode" runs `new_tokens` (default 1) after `kv_len` cached ones, where `kv_len` defaults to
`seq_len - new_tokens`, so the step attends over `seq_len` positions in all. Encoder-decoder
models (T5, `workloads.encdec`): `seq_len` is the encoder tokens, the decoder runs `new_tokens`
after `kv_len` (prefill: 0; decode: default `seq_len - new_tokens`).

Tensor names: per layer `L{i}.…` (weights `L{i}.WQ`, `L{i}.WK`, `L{i}.WV`, `L{i}.WO`,
`L{i}.W1`/`L{i}.W2` or `L{i}.WG`/`L{i}.WU`/`L{i}.WD`, biases `L{i}.bQ`… (lower-case b), norm params
`L{i}.N1.G`/`.B`); the cache read by a step is `L{i}.Kpast`/`L{i}.Vpast`, the cache after it
`L{i}.Kcache`/`L{i}.Vcache`. Global: `TOK`, `WTE`, `WPE`, `TT`, `WTT`, `COS`, `SIN`, `WLM`,
`LOGITS`. Weight layouts keep the head structure as ranks: WQ[D,G,J,E], WK[D,G,E],
WO[G,J,F,D], where query head h = g*J + j.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from .attention import VARIANTS, add_attention
from .errors import SpecError
from .ir import Cascade, CascadeBuilder, gather, offset, scale, unary
from .models import GATED, ModelSpec, get_model
from .moe import add_moe
from .encdec import build_encoder_decoder
from .window import kept_past, restrict_to_window

PHASES = ("prefill", "decode")
LM_HEAD = ("all", "last", "none")


@dataclass(frozen=True)
class Dtypes:
    """Storage datatypes by tensor role."""

    weight: str = "fp16"
    activation: str = "fp16"
    kv: str = "fp16"


MAX_BATCH = 2**20  # sequences per lowering (docs/limits.md); op counts stay exact Python integers


def _positive(name: str, value: int) -> int:
    if not isinstance(value, int) or value < 1:
        raise SpecError(f"{name} must be a positive integer; got {value!r}")
    return value


def lower(
    model: str | ModelSpec,
    phase: str = "prefill",
    batch: int = 1,
    seq_len: int = 128,
    kv_len: int | None = None,
    attention: str = "3pass",
    dtypes: Dtypes | None = None,
    *,
    new_tokens: int = 1,
    layers: int | None = None,
    block: int = 64,
    lm_head: str = "all",
) -> Cascade:
    spec = get_model(model)
    if phase not in PHASES:
        raise SpecError(f"unknown phase {phase!r}; allowed: {', '.join(PHASES)}")
    if attention not in VARIANTS:
        raise SpecError(f"unknown attention variant {attention!r}; allowed: {', '.join(VARIANTS)}")
    if lm_head not in LM_HEAD:
        raise SpecError(f"unknown lm_head {lm_head!r}; allowed: {', '.join(LM_HEAD)}")
    if _positive("batch", batch) > MAX_BATCH:
        raise SpecError(f"batch {batch}: at most {MAX_BATCH:,} sequences")
    _positive("seq_len", seq_len)
    _positive("block", block)
    encoder_len = 0
    if spec.kind == "encoder-decoder":  # seq_len: encoder tokens; the decoder runs new_tokens (workloads.encdec)
        encoder_len, queries, past = seq_len, _positive("new_tokens", new_tokens), kv_len
        if phase == "prefill" and past not in (None, 0):
            raise SpecError(f"kv_len = {kv_len!r}: a T5 prefill starts the decoder at position 0 (allowed: 0)")
        past = (0 if phase == "prefill" else seq_len - queries) if past is None else past
    elif phase == "decode":
        if spec.kind != "decoder":
            raise SpecError(f"model {spec.name} is an {spec.kind} model; phase 'decode' needs a decoder")
        queries = _positive("new_tokens", new_tokens)
        past = seq_len - queries if kv_len is None else kv_len
    else:
        queries = seq_len
        past = 0 if kv_len is None else kv_len
    if not isinstance(past, int) or past < 0:
        raise SpecError(f"kv_len must be a non-negative integer; got {past!r}")
    n_layers = spec.n_layers if layers is None else _positive("layers", layers)
    if n_layers > spec.n_layers:
        raise SpecError(f"layers {n_layers}: {spec.name} has {spec.n_layers} layers")
    total = past + queries
    if spec.position == "learned" and total > spec.max_positions:
        raise SpecError(f"{spec.name} has {spec.max_positions} learned positions; {total} requested")
    low = _Lowering(spec, phase, batch, queries, past, attention, dtypes or Dtypes(), n_layers, block, lm_head)
    if encoder_len:
        return build_encoder_decoder(low, encoder_len)
    return low.build()


class _Lowering:
    def __init__(self, m: ModelSpec, phase, batch, queries, past, attention, dt: Dtypes, n_layers, block, lm_head):
        self.m, self.phase, self.past, self.attention = m, phase, past, attention
        # Cached positions a step reads: all of them, or the last window-1 under a sliding window.
        # (Gemma-2's global layers read all of them, so its local layers read all too, and mask.)
        self.kept = kept_past(m.sliding_window if m.window_layers is None else None, past)
        self.dt, self.n_layers, self.block, self.lm_head = dt, n_layers, block, lm_head
        self.b = CascadeBuilder(f"{m.name}-{phase}", dtype=dt.activation)
        self.meta = dict(model=m.name, phase=phase, batch=batch, queries=queries, kv_len=past,
                         seq_len=past + queries, attention=attention, block=block, layers=n_layers,
                         **({"kv_window": self.kept} if self.kept != past else {}),
                         dtypes=dict(weight=dt.weight, activation=dt.activation, kv=dt.kv),
                         spec=asdict(m))
        if m.n_heads % m.kv_heads:
            raise SpecError(f"model {m.name}: {m.n_heads} heads not divisible by {m.kv_heads} KV heads")
        b = self.b
        b.rank("B", batch)
        b.rank("P", queries)
        b.rank("M", self.kept + queries)
        b.rank("D", m.d_model)
        b.rank("G", m.kv_heads)
        b.rank("J", m.n_heads // m.kv_heads)
        b.rank("E", m.d_head)
        b.rank("F", m.d_head)
        b.rank("C", m.d_ff)
        if m.n_experts:
            b.rank("X", m.n_experts)
            b.rank("K", m.experts_per_token)
            b.rank("CE", m.d_expert)
            if m.d_shared_expert:
                b.rank("CS", m.d_shared_expert)

    def weight(self, name: str, ranks: str, shape=None, lookup: bool = False) -> str:
        return self.b.tensor(name, ranks, shape=shape, dtype=self.dt.weight, role="weight", lookup=lookup)

    # ------------------------------------------------------------------ pieces
    def norm(self, pre: str, x: str, layer: int | None) -> str:
        b, m = self.b, self.m
        tags = dict(group="norm", layer=layer)
        inv_d = scale(1.0 / m.d_model)
        gamma = self.weight(f"{pre}G", "D")
        if m.norm == "rmsnorm":
            b.einsum(f"{pre}MS", f"{pre}MS[B,P] = {x}[B,P,D] * {x}[B,P,D]", post=[inv_d, offset(m.norm_eps), unary("rsqrt")], **tags)
            b.einsum(f"{pre}XN", f"{pre}XN[B,P,D] = {x}[B,P,D] * {pre}MS[B,P]", **tags)
            b.einsum(f"{pre}Y", f"{pre}Y[B,P,D] = {pre}XN[B,P,D] * {gamma}[D]", **tags)
            return f"{pre}Y"
        beta = self.weight(f"{pre}B", "D")
        b.einsum(f"{pre}MU", f"{pre}MU[B,P] = {x}[B,P,D]", reduce_op="sum", post=[inv_d], **tags)
        b.einsum(f"{pre}XC", f"{pre}XC[B,P,D] = {x}[B,P,D] - {pre}MU[B,P]", **tags)
        b.einsum(f"{pre}VAR", f"{pre}VAR[B,P] = {pre}XC[B,P,D] * {pre}XC[B,P,D]", post=[inv_d, offset(m.norm_eps), unary("rsqrt")], **tags)
        b.einsum(f"{pre}XN", f"{pre}XN[B,P,D] = {pre}XC[B,P,D] * {pre}VAR[B,P]", **tags)
        b.einsum(f"{pre}XG", f"{pre}XG[B,P,D] = {pre}XN[B,P,D] * {gamma}[D]", **tags)
        b.einsum(f"{pre}Y", f"{pre}Y[B,P,D] = {pre}XG[B,P,D] + {beta}[D]", **tags)
        return f"{pre}Y"

    def linear(self, name: str, x: str, x_ranks: str, w_ranks: str, out_ranks: str, group: str, layer: int | None,
               bias_ranks: str | None = None, dtype: str | None = None, bias: str = "") -> str:
        """out = x · W (+ bias): for name `L0.Q`, weight `L0.WQ`, bias `L0.bQ`, output `L0.Q`.
        `bias` names the projection kind (qkv, out, mlp) whose bias flag applies."""
        b = self.b
        pre, short = name.rsplit(".", 1) if "." in name else ("", name)
        pre = f"{pre}." if pre else ""
        w = self.weight(f"{pre}W{short}", w_ranks)
        out = f"{pre}{short}"
        raw = f"{out}_mm" if bias and self.m.has_bias(bias) and bias_ranks else out
        b.einsum(raw, f"{raw}[{out_ranks}] = {x}[{x_ranks}] * {w}[{w_ranks}]", group=group, layer=layer, dtype=dtype)
        if raw != out:
            bias = self.weight(f"{pre}b{short}", bias_ranks)
            b.einsum(out, f"{out}[{out_ranks}] = {raw}[{out_ranks}] + {bias}[{bias_ranks}]", group=group, layer=layer, dtype=dtype)
        return out

    def rope(self, pre: str, x: str, heads: str, layer: int) -> str:
        """Rotate the first `rotary_dim` dims of each head (HF `rotate_half` convention)."""
        b, m = self.b, self.m
        rot = m.rotary_dim or m.d_head
        half = rot // 2
        b.rank("E1", 2)
        b.rank("E0", half)
        tags = dict(group="rope", layer=layer)
        pos = f"P+{self.past}"
        b.einsum(f"{pre}C", f"{pre}C[B,P,{heads},E1,E0] = {x}[B,P,{heads},E1*{half}+E0] * COS[{pos},E0]", **tags)
        b.einsum(f"{pre}S", f"{pre}S[B,P,{heads},E1,E0] = {x}[B,P,{heads},{half}-E1*{half}+E0] * SIN[{pos},E1,E0]", **tags)
        dims = [b.rank_sizes[h] for h in heads.split(",")]
        if rot == m.d_head:
            b.tensor(f"{pre}R", f"B,P,{heads},E", dtype=self.dt.kv if heads == "G" else None)
            b.einsum(f"{pre}R", f"{pre}R[B,P,{heads},E1*{half}+E0] = {pre}C[B,P,{heads},E1,E0] + {pre}S[B,P,{heads},E1,E0]", **tags)
            return f"{pre}R"
        b.rank("E2", m.d_head - rot)
        shape = (b.rank_sizes["B"], b.rank_sizes["P"], *dims)
        b.tensor(f"{pre}Rrot", f"B,P,{heads},E", shape=shape + (rot,))
        b.einsum(f"{pre}Rrot", f"{pre}Rrot[B,P,{heads},E1*{half}+E0] = {pre}C[B,P,{heads},E1,E0] + {pre}S[B,P,{heads},E1,E0]", **tags)
        b.einsum(f"{pre}Rpass", f"{pre}Rpass[B,P,{heads},E2] = {x}[B,P,{heads},E2+{rot}]", **tags)
        b.tensor(f"{pre}R", f"B,P,{heads},E")
        b.add(_append(f"{pre}R", f"{pre}Rrot", f"{pre}Rpass", f"B,P,{heads},E", "E", rot, "rope", layer))
        return f"{pre}R"

    def kv_cache(self, pre: str, new: str, dim: str, layer: int) -> str:
        if self.kept == 0:
            self.b.output(new)
            return new
        b = self.b
        shape = (b.rank_sizes["B"], self.kept, b.rank_sizes["G"], b.rank_sizes[dim])
        b.tensor(f"{pre}past", f"B,M,G,{dim}", shape=shape, dtype=self.dt.kv, role="kv_cache")
        b.tensor(f"{pre}cache", f"B,M,G,{dim}", dtype=self.dt.kv, role="kv_cache")
        b.add(_append(f"{pre}cache", f"{pre}past", new, f"B,M,G,{dim}", "M", self.kept, "kv_cache", layer))
        b.output(f"{pre}cache")
        return f"{pre}cache"

    def block_(self, i: int, x: str) -> str:
        b, m = self.b, self.m
        L = f"L{i}."
        y = self.norm(f"{L}N1.", x, i) if m.norm_position == "pre" else x
        q = self.linear(f"{L}Q", y, "B,P,D", "D,G,J,E", "B,P,G,J,E", "qkv", i, "G,J,E", bias="qkv")
        k = self.linear(f"{L}K", y, "B,P,D", "D,G,E", "B,P,G,E", "qkv", i, "G,E", dtype=self.dt.kv, bias="qkv")
        v = self.linear(f"{L}V", y, "B,P,D", "D,G,F", "B,P,G,F", "qkv", i, "G,F", dtype=self.dt.kv, bias="qkv")
        if m.position == "rope":
            q = self.rope(f"{L}Q", q, "G,J", i)
            k = self.rope(f"{L}K", k, "G", i)
        k = self.kv_cache(f"{L}K", k, "E", i)
        v = self.kv_cache(f"{L}V", v, "F", i)
        first = len(b.einsums)
        av = add_attention(b, L, variant=self.attention, q=q, k=k, v=v, causal=m.causal,
                           q_offset=self.kept, block=self.block, layer=i, scores=self.score_ops())
        if m.is_window_layer(i):
            restrict_to_window(b, first, m.sliding_window, self.kept)
        o = self.linear(f"{L}O", av, "B,P,G,J,F", "G,J,F,D", "B,P,D", "proj", i, "D", bias="out")
        if m.sandwich_norms:
            o = self.norm(f"{L}NA.", o, i)
        mlp_in = y if m.parallel_block else None
        if not m.parallel_block:
            b.einsum(f"{L}X1", f"{L}X1[B,P,D] = {x}[B,P,D] + {o}[B,P,D]", group="residual", layer=i)
            x1 = self.norm(f"{L}N1.", f"{L}X1", i) if m.norm_position == "post" else f"{L}X1"
            mlp_in = self.norm(f"{L}N2.", x1, i) if m.norm_position == "pre" else x1
        h = self.mlp(L, mlp_in, i)
        if m.sandwich_norms:
            h = self.norm(f"{L}NF.", h, i)
        if m.parallel_block:
            b.einsum(f"{L}X1", f"{L}X1[B,P,D] = {x}[B,P,D] + {o}[B,P,D]", group="residual", layer=i)
            x1 = f"{L}X1"
        b.einsum(f"{L}X2", f"{L}X2[B,P,D] = {x1}[B,P,D] + {h}[B,P,D]", group="residual", layer=i)
        return self.norm(f"{L}N2.", f"{L}X2", i) if m.norm_position == "post" else f"{L}X2"

    def score_ops(self) -> list | None:
        """The operators on raw attention scores: None (the default 1/sqrt(E)), or Gemma-2's
        scale 1/sqrt(query_pre_attn_scalar) followed by the soft-cap scale, tanh, scale."""
        m = self.m
        if m.score_scale is None and m.attn_softcap is None:
            return None
        ops = [scale(m.d_head ** -0.5 if m.score_scale is None else m.score_scale)]
        return ops + (softcap(m.attn_softcap) if m.attn_softcap is not None else [])

    def mlp(self, L: str, y: str, i: int) -> str:
        b, m = self.b, self.m
        if m.is_moe_layer(i):
            return add_moe(self, L, y, i)
        if m.gated:
            return self.gated_mlp(L, y, i)
        h = self.linear(f"{L}1", y, "B,P,D", "D,C", "B,P,C", "mlp", i, "C", bias="mlp")
        b.einsum(f"{L}HA", f"{L}HA[B,P,C] = {h}[B,P,C]", pre=[unary(m.activation)], group="mlp", layer=i)
        return self.linear(f"{L}2", f"{L}HA", "B,P,C", "C,D", "B,P,D", "mlp", i, "D", bias="mlp")

    def gated_mlp(self, L: str, y: str, i: int, prefix: str = "", rank: str = "C", group: str = "mlp") -> str:
        """Gate, up, activation, product, down: weights L{i}.W{prefix}G/U [D,rank], W{prefix}D [rank,D]."""
        b, m, p = self.b, self.m, f"{L}{prefix}"
        g = self.linear(f"{p}G", y, "B,P,D", f"D,{rank}", f"B,P,{rank}", group, i, rank, bias="mlp")
        u = self.linear(f"{p}U", y, "B,P,D", f"D,{rank}", f"B,P,{rank}", group, i, rank, bias="mlp")
        b.einsum(f"{p}HS", f"{p}HS[B,P,{rank}] = {g}[B,P,{rank}]", pre=[unary(GATED[m.activation])], group=group, layer=i)
        b.einsum(f"{p}HM", f"{p}HM[B,P,{rank}] = {p}HS[B,P,{rank}] * {u}[B,P,{rank}]", group=group, layer=i)
        return self.linear(f"{p}D", f"{p}HM", f"B,P,{rank}", f"{rank},D", "B,P,D", group, i, "D", bias="mlp")

    def embed(self) -> str:
        b, m = self.b, self.m
        if m.kind == "attention":
            return b.tensor("X", "B,P,D", role="input")
        b.rank("V", m.vocab_size)
        b.tensor("TOK", "B,P", dtype="int32", role="input")
        wte = self.weight("WTE", "V,D")
        b.add(gather("EMB.X", f"{wte}[V,D]", "TOK[B,P]", "B,P,D", "V", group="embedding"))
        x = "EMB.X"
        if m.embed_scale != 1.0:
            b.einsum("EMB.XS", "EMB.XS[B,P,D] = EMB.X[B,P,D]", post=[scale(m.embed_scale)], group="embedding")
            x = "EMB.XS"
        if m.position == "learned":
            rows = m.max_positions + m.position_offset
            self.weight("WPE", "T,D", shape=(rows, m.d_model), lookup=True)
            b.einsum("EMB.XP", f"EMB.XP[B,P,D] = {x}[B,P,D] + WPE[P+{self.past + m.position_offset},D]", group="embedding")
            x = "EMB.XP"
        if m.token_types:
            b.tensor("TT", "B,P", dtype="int32", role="input")
            self.weight("WTT", "Y,D", shape=(m.token_types, m.d_model))
            b.add(gather("EMB.XT0", "WTT[Y,D]", "TT[B,P]", "B,P,D", "Y", group="embedding"))
            b.einsum("EMB.XT", f"EMB.XT[B,P,D] = {x}[B,P,D] + EMB.XT0[B,P,D]", group="embedding")
            x = "EMB.XT"
        if m.position == "rope":
            n = self.past + b.rank_sizes["P"]
            half = (m.rotary_dim or m.d_head) // 2
            b.tensor("COS", "T,E0", shape=(n, half), role="input", lookup=True)
            b.tensor("SIN", "T,E1,E0", shape=(n, 2, half), role="input", lookup=True)
        if m.embed_norm:
            x = self.norm("EMB.N.", x, None)
        return x

    def head(self, x: str) -> None:
        b, m = self.b, self.m
        if m.final_norm:
            x = self.norm("F.N.", x, None)
        if m.kind not in ("decoder", "encoder-decoder") or self.lm_head == "none":
            b.output(x)
            return
        w = "WTE[V,D]" if m.tied_embeddings else f"{self.weight('WLM', 'D,V')}[D,V]"
        rows = "B,P" if self.lm_head == "all" else "B"
        src = f"{x}[B,P,D]" if self.lm_head == "all" else f"{x}[B,{b.rank_sizes['P'] - 1},D]"
        raw = "LOGITS_mm" if m.lm_head_bias else "LOGITS"
        ops = ([scale(m.head_scale)] if m.head_scale != 1.0 else []) + (softcap(m.final_softcap) if m.final_softcap else [])
        cap = {"post": ops} if ops else {}
        b.einsum(raw, f"{raw}[{rows},V] = {src} * {w}", group="lm_head", **({} if m.lm_head_bias else cap))
        if m.lm_head_bias:
            self.weight("BLM", "V")
            b.einsum("LOGITS", f"LOGITS[{rows},V] = {raw}[{rows},V] + BLM[V]", group="lm_head", **cap)
        b.output("LOGITS")

    def build(self) -> Cascade:
        x = self.embed()
        for i in range(self.n_layers):
            x = self.block_(i, x)
        self.head(x)
        return self.b.build(self.meta)


def softcap(cap: float) -> list:
    """Gemma-2's logit soft-capping cap * tanh(x / cap) as pointwise operators: scale, tanh, scale."""
    return [scale(1.0 / cap), unary("tanh"), scale(cap)]


def _append(out: str, cache: str, new: str, ranks: str, along: str, at: int, group: str, layer: int | None):
    from .ir import Einsum, parse_access

    return Einsum(name=out, output=parse_access(f"{out}[{ranks}]"),
                  inputs=(parse_access(f"{cache}[{ranks}]"), parse_access(f"{new}[{ranks}]")),
                  kind="append", along=along, at=at, group=group, layer=layer)

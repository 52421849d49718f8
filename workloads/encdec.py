"""Encoder-decoder models (T5, Raffel et al. 2020; T5 v1.1 / flan-t5) as one extended-Einsum cascade.

Phase mapping (docs/workloads.md): `seq_len` is the number of encoder tokens S in both phases;
the decoder runs `new_tokens` tokens (P) after `kv_len` cached decoder tokens.
- prefill: the encoder over the S prompt tokens `ETOK`, then the decoder over its first
  `new_tokens` tokens `TOK` (kv_len 0); it outputs the decoder's self-attention cache
  `L{i}.K`/`L{i}.V` and the cross-attention cache `L{i}.XK`/`L{i}.XV` (the encoder output
  projected once per decoder block) and the logits.
- decode: one decoder step of `new_tokens` tokens after `kv_len` (default seq_len - new_tokens)
  cached ones: self-attention over the cache `L{i}.Kpast`/`L{i}.Vpast` plus the new tokens,
  cross-attention over the cached `L{i}.XK`/`L{i}.XV` (inputs; no encoder work).

Ranks: the decoder keeps the decoder-only names (P queries, M self-attention keys, M0/M1 its
blocks); the encoder's positions are S (queries) and SK (keys, blocks SK0/SK1), the
cross-attention keys S (blocks S0/S1). The encoder and each cross-attention are built with the
decoder-only pieces (norms, projections, `attention.add_attention` over P and M) in a scratch
builder, then merged with their ranks renamed.

Relative position bias: per stack a table `ENC.REL`/`DEC.REL` [U buckets, G, J] (weights of
block 0, shared by every block of the stack) looked up (a `gather`) by the bucket indices
`ENC.BKT`/`DEC.BKT` [keys, queries] (inputs, `inputs.relative_buckets`) into `ENC.PB`/`DEC.PB`
[G,J,keys,queries], added to the unscaled scores. Encoder tensors are `E{i}.…`, `ENC.…`; decoder
blocks `L{i}.…` with cross-attention weights `L{i}.WXQ/WXK/WXV/WXO` and norms N1 (self), NX
(cross), N2 (MLP).
"""
from __future__ import annotations

import copy
from dataclasses import replace

from .attention import add_attention
from .errors import SpecError
from .ir import Affine, Cascade, CascadeBuilder, Einsum, gather

ENCODER_RANKS = {"P": "S", "M": "SK", "M0": "SK0", "M1": "SK1"}
CROSS_RANKS = {"M": "S", "M0": "S0", "M1": "S1"}


def build_encoder_decoder(low, encoder_len: int) -> Cascade:
    """The cascade of a T5 step; `low` is the decoder lowering (`lower._Lowering`)."""
    b, m = low.b, low.m
    b.rank("S", encoder_len)
    b.rank("U", m.relative_buckets)
    b.rank("V", m.vocab_size)
    low.meta["encoder_len"] = encoder_len
    low.meta["decoder_layers"] = decoder_layers(low)
    enc = encoder(low, encoder_len) if low.phase == "prefill" else None
    b.tensor("TOK", "B,P", dtype="int32", role="input")
    b.add(gather("EMB.X", f"{low.weight('WTE', 'V,D')}[V,D]", "TOK[B,P]", "B,P,D", "V", group="embedding"))
    bias = position_bias(low, "DEC.")
    x = "EMB.X"
    for i in range(low.meta["decoder_layers"]):
        x = decoder_block(low, i, x, enc, bias)
    low.head(x)
    return b.build(low.meta)


def decoder_layers(low) -> int:
    """All decoder blocks, or as many as `layers` asked of the encoder (both stacks truncated)."""
    m = low.m
    return m.n_decoder_layers if low.n_layers == m.n_layers else min(low.n_layers, m.n_decoder_layers)


def position_bias(low, pre: str) -> str:
    """{pre}PB[G,J,M,P] = {pre}REL[{pre}BKT[M,P], G, J]: the bias of every (key, query) pair."""
    b = low.b
    table = low.weight(f"{pre}REL", "U,G,J")
    b.tensor(f"{pre}BKT", "M,P", dtype="int32", role="input")
    b.add(gather(f"{pre}PB", f"{table}[U,G,J]", f"{pre}BKT[M,P]", "G,J,M,P", "U", group="position"))
    return f"{pre}PB"


def scratch(low, queries: int, keys: int):
    """A copy of the lowering writing to an empty builder with ranks P = queries, M = keys."""
    sub = copy.copy(low)
    sub.b = CascadeBuilder(low.b.name, dtype=low.b.dtype)
    for r, n in low.b.rank_sizes.items():
        if r not in ("P", "M", "M0", "M1"):
            sub.b.rank(r, n)
    sub.b.rank("P", queries)
    sub.b.rank("M", keys)
    return sub


def _affine(a: Affine, names: dict) -> Affine:
    return Affine(tuple(sorted((names.get(r, r), c) for r, c in a.terms)), a.const)


def _access(acc, names: dict):
    return replace(acc, index=tuple(_affine(x, names) for x in acc.index))


def _unary(u, names: dict):
    return u if u.kind != "mask" else replace(u, index=_affine(u.index, names), bound=_affine(u.bound, names))


def rename(e: Einsum, names: dict) -> Einsum:
    """The Einsum with its ranks renamed (accesses, masks, the gathered/appended rank)."""
    return replace(e, output=_access(e.output, names), inputs=tuple(_access(a, names) for a in e.inputs),
                   pre=tuple(_unary(u, names) for u in e.pre), post=tuple(_unary(u, names) for u in e.post),
                   along=names.get(e.along, e.along) if e.along else e.along)


def merge(b: CascadeBuilder, sb: CascadeBuilder, names: dict) -> None:
    """Append the scratch builder's ranks, tensors, Einsums and outputs to `b`, ranks renamed."""
    for r, n in sb.rank_sizes.items():
        b.rank(names.get(r, r), n)
    for t in sb.tensors.values():
        spec = replace(t, ranks=tuple(names.get(r, r) for r in t.ranks))
        if b.tensors.get(t.name, spec) != spec:
            raise SpecError(f"tensor {t.name} declared twice with different specs")
        b.tensors[t.name] = spec
    for e in sb.einsums:
        b.einsums.append(rename(e, names))
    b.output(*sb.outputs)


def encoder(low, n: int) -> str:
    """The encoder over ETOK[B,S]; returns its output ENC.F.N.Y[B,S,D]."""
    sub = scratch(low, n, n)
    sb = sub.b
    sb.tensor("ETOK", "B,P", dtype="int32", role="input")
    sb.add(gather("ENC.X", f"{sub.weight('WTE', 'V,D')}[V,D]", "ETOK[B,P]", "B,P,D", "V", group="embedding"))
    bias = position_bias(sub, "ENC.")
    x = "ENC.X"
    for i in range(low.n_layers):
        x = encoder_block(sub, i, x, bias)
    y = sub.norm("ENC.F.N.", x, None)
    merge(low.b, sb, ENCODER_RANKS)
    return y


def self_attention(low, L: str, i: int, y: str, bias: str, causal: bool) -> str:
    """Q/K/V, unscaled biased attention (decoder: through the KV cache), output projection."""
    q = low.linear(f"{L}Q", y, "B,P,D", "D,G,J,E", "B,P,G,J,E", "qkv", i)
    k = low.linear(f"{L}K", y, "B,P,D", "D,G,E", "B,P,G,E", "qkv", i, dtype=low.dt.kv)
    v = low.linear(f"{L}V", y, "B,P,D", "D,G,F", "B,P,G,F", "qkv", i, dtype=low.dt.kv)
    if causal:
        k, v = low.kv_cache(f"{L}K", k, "E", i), low.kv_cache(f"{L}V", v, "F", i)
    av = add_attention(low.b, L, variant=low.attention, q=q, k=k, v=v, causal=causal,
                       q_offset=low.kept if causal else 0, block=low.block, layer=i, scores=[], bias=bias)
    return low.linear(f"{L}O", av, "B,P,G,J,F", "G,J,F,D", "B,P,D", "proj", i)


def encoder_block(sub, i: int, x: str, bias: str) -> str:
    b, L = sub.b, f"E{i}."
    o = self_attention(sub, L, i, sub.norm(f"{L}N1.", x, i), bias, causal=False)
    b.einsum(f"{L}X1", f"{L}X1[B,P,D] = {x}[B,P,D] + {o}[B,P,D]", group="residual", layer=i)
    h = sub.mlp(L, sub.norm(f"{L}N2.", f"{L}X1", i), i)
    b.einsum(f"{L}X2", f"{L}X2[B,P,D] = {L}X1[B,P,D] + {h}[B,P,D]", group="residual", layer=i)
    return f"{L}X2"


def cross_attention(low, i: int, x: str, enc: str | None) -> str:
    """Queries from the decoder, keys/values from the encoder output (prefill: projected here and
    output as the cross cache L{i}.XK/XV; decode: read from that cache)."""
    b, L = low.b, f"L{i}."
    q = low.linear(f"{L}XQ", low.norm(f"{L}NX.", x, i), "B,P,D", "D,G,J,E", "B,P,G,J,E", "qkv", i)
    for name, dim in (("XK", "E"), ("XV", "F")):
        if enc is None:
            b.tensor(f"{L}{name}", f"B,S,G,{dim}", dtype=low.dt.kv, role="kv_cache")
        else:
            low.linear(f"{L}{name}", enc, "B,S,D", f"D,G,{dim}", f"B,S,G,{dim}", "qkv", i, dtype=low.dt.kv)
            b.output(f"{L}{name}")
    sub = scratch(low, b.rank_sizes["P"], b.rank_sizes["S"])
    av = add_attention(sub.b, f"{L}X", variant=low.attention, q=q, k=f"{L}XK", v=f"{L}XV", causal=False,
                       block=low.block, layer=i, scores=[])
    merge(b, sub.b, CROSS_RANKS)
    return low.linear(f"{L}XO", av, "B,P,G,J,F", "G,J,F,D", "B,P,D", "proj", i)


def decoder_block(low, i: int, x: str, enc: str | None, bias: str) -> str:
    b, L = low.b, f"L{i}."
    o = self_attention(low, L, i, low.norm(f"{L}N1.", x, i), bias, causal=True)
    b.einsum(f"{L}X1", f"{L}X1[B,P,D] = {x}[B,P,D] + {o}[B,P,D]", group="residual", layer=i)
    xo = cross_attention(low, i, f"{L}X1", enc)
    b.einsum(f"{L}XC", f"{L}XC[B,P,D] = {L}X1[B,P,D] + {xo}[B,P,D]", group="residual", layer=i)
    h = low.mlp(L, low.norm(f"{L}N2.", f"{L}XC", i), i)
    b.einsum(f"{L}X2", f"{L}X2[B,P,D] = {L}XC[B,P,D] + {h}[B,P,D]", group="residual", layer=i)
    return f"{L}X2"

"""What each Einsum of a decode cascade is to PIM-GPT, read from its ranks and its tensors' roles.

Nothing here reads the cascade's `meta` or relies on two sizes happening to be equal:

* a `kv_append` is an `append` Einsum whose output is a KV cache (`role == "kv_cache"`); the rank
  it appends along is the cache's token rank. It runs on the channel buses (unit `link`).
* a `weight` GEMV is a product reduced by a sum (`map mul`, `reduce sum`) one of whose inputs is a
  weight (`role == "weight"`): its rows are the output ranks the weight carries, its length the
  reduced ranks, and the other output ranks (batch, new tokens) count its input vectors.
* a product reduced by a sum that reads a KV cache is attention on PIM: `score` when the cache's
  token rank stays in the output (q . K over the reduced head dimension), `context` when the token
  rank is the reduced one (p . V; its rows per head are the cache ranks that reach the output and
  that the probabilities lack, the value head dimension).
* everything else is `vector` work on the ASIC (norms -- a sum of squares reads one tensor twice --,
  softmax, GELU, bias adds, residuals, embeddings, RoPE); it scales with the kv length when it
  iterates over a cache's token rank.

A product of two different tensors that are neither a weight nor a cache has no PIM-GPT mapping
and raises `SpecError` naming the Einsum (e.g. attention with no KV cache, or a 2-/1-pass softmax
whose scores read a re-partitioned copy of the cache).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from workloads.dtypes import bits
from workloads.errors import SpecError

KINDS = ("weight", "score", "context", "kv_append", "vector")
UNIT_OF = {"weight": "pim", "score": "pim", "context": "pim", "kv_append": "link", "vector": "asic"}


@dataclass(frozen=True)
class Placement:
    """One Einsum as PIM-GPT runs it.

    `out_rows`/`in_len`: a weight GEMV's rows and length; a score's head dimension is `in_len`; a
    context's value head dimension is `out_rows` and its length the kv length. `streams`: input
    vectors of a weight GEMV, or (batch x new tokens x query heads) of a score/context. `kv_rank`:
    the cache token rank the Einsum iterates over ("" if none)."""

    einsum: str
    kind: str
    group: str = ""
    layer: int | None = None
    macs: int = 0
    out_rows: int = 0
    in_len: int = 0
    streams: int = 0
    vector_ops: float = 0.0
    link_bytes: float = 0.0
    kv_rank: str = ""

    @property
    def unit(self) -> str:
        return UNIT_OF[self.kind]


def kv_token_ranks(cascade) -> dict[str, str]:
    """KV-cache tensor written by an append -> the rank it grows along (its token rank)."""
    return {e.output.tensor: e.along for e in cascade.einsums
            if e.kind == "append" and cascade.tensors[e.output.tensor].role == "kv_cache"}


def _size(cascade, ranks) -> int:
    return math.prod(cascade.rank_sizes[r] for r in ranks)


def _check_word(cascade, e, word_bits: int) -> None:
    for acc in e.inputs:
        spec = cascade.tensors[acc.tensor]
        if bits(spec.dtype) != word_bits:
            raise SpecError(f"Einsum {e.name}: {spec.name} is {spec.dtype}; the PIM MAC units take "
                            f"{word_bits}-bit operands (allowed: fp16, bf16)")


def _weight_gemv(cascade, e, weight, common: dict) -> Placement:
    out_elems = _size(cascade, e.output.ranks)
    rows = _size(cascade, [r for r in e.output.ranks if r in weight.ranks])
    return Placement(kind="weight", out_rows=rows, in_len=_size(cascade, e.reduced_ranks),
                     streams=out_elems // rows, **common)


def _attention(cascade, e, cache, other, token: str, common: dict) -> Placement:
    out_elems = _size(cascade, e.output.ranks)
    if token in e.output.ranks:
        return Placement(kind="score", in_len=_size(cascade, e.reduced_ranks),
                         streams=out_elems // cascade.rank_sizes[token], kv_rank=token, **common)
    if token in e.reduced_ranks:
        d = _size(cascade, [r for r in cache.ranks if r in e.output.ranks and r not in other.ranks])
        return Placement(kind="context", out_rows=d, in_len=cascade.rank_sizes[token],
                         streams=out_elems // d, kv_rank=token, **common)
    raise SpecError(f"Einsum {e.name}: reads the KV cache {cache.tensor} but neither keeps nor "
                    f"reduces its token rank {token}; PIM-GPT maps q.K and p.V only")


def _product(cascade, e, stats, tokens: dict, word_bits: int, common: dict) -> Placement:
    """A sum-reduced product: a weight GEMV, attention over the cache, or a norm's sum of squares."""
    roles = [cascade.tensors[a.tensor].role for a in e.inputs]
    if "weight" in roles:
        _check_word(cascade, e, word_bits)
        return _weight_gemv(cascade, e, e.inputs[roles.index("weight")], common)
    if "kv_cache" in roles:
        i = roles.index("kv_cache")
        cache, other = e.inputs[i], e.inputs[1 - i]
        if cache.tensor not in tokens:
            raise SpecError(f"Einsum {e.name}: reads the KV cache {cache.tensor}, which no append "
                            f"writes, so its token rank is unknown; PIM-GPT needs a decode step")
        _check_word(cascade, e, word_bits)
        return _attention(cascade, e, cache, other, tokens[cache.tensor], common)
    if len(e.inputs) == 2 and e.inputs[0].tensor == e.inputs[1].tensor:
        return _vector(e, stats, tokens, common)
    names = " and ".join(a.tensor for a in e.inputs)
    raise SpecError(f"Einsum {e.name}: a product of {names}, neither a weight nor a KV cache; PIM-GPT "
                    f"maps weight GEMVs and 3-pass attention over a KV cache only")


def _vector(e, stats, tokens: dict, common: dict) -> Placement:
    ops = max(stats.total_ops - 2 * stats.macs, 0) if stats.macs else stats.total_ops
    kv = next((r for r in e.ranks if r in set(tokens.values())), "")
    return Placement(kind="vector", vector_ops=float(ops), kv_rank=kv, **common)


def classify(cascade, word_bits: int = 16) -> tuple[Placement, ...]:
    """The placement of every Einsum of `cascade`, in cascade order."""
    tokens = kv_token_ranks(cascade)
    out = []
    for e, s in zip(cascade.einsums, cascade.stats):
        common = dict(einsum=e.name, group=e.group, layer=e.layer, macs=int(s.macs))
        if e.kind == "append" and e.output.tensor in tokens:
            out.append(Placement(kind="kv_append", link_bytes=float(s.total_written), **common))
        elif e.kind == "einsum" and e.map_op == "mul" and e.reduce_op == "sum" and s.macs:
            out.append(_product(cascade, e, s, tokens, word_bits, common))
        else:
            out.append(_vector(e, s, tokens, common))
    return tuple(out)

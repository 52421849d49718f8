"""Mixture-of-Experts MLPs (Mixtral, Qwen2-MoE) as extended Einsums.

Per sparse layer i (prefix `L{i}.`), with X experts, K = experts_per_token selected ones, CE the
expert width and Y the normed input [B,P,D]:

    R[B,P,X]   = Y[B,P,D] * WR[D,X]                          router logits (D·X MACs per token)
    TV[B,P,K]  = topk_X R[B,P,X]    TI[B,P,K] = argtopk_X R   the K selected logits, their indices
    GW[B,P,K]  = softmax over K of TV                          Mixtral (router topk_softmax)
    (Qwen2-MoE, softmax_topk: RP = softmax over X of R; TV/TI = topk/argtopk of RP; GW = TV,
     divided by its sum over K when norm_topk_prob)
    EWG[B,P,K,D,CE] = WEG[X,D,CE] gathered by TI             a `gather`: each token reads the
    EWU, EWD likewise                                          rows of its K experts only
    EG[B,P,K,CE] = Y[B,P,D] * EWG[B,P,K,D,CE]   EU likewise   (K·D·CE MACs per token each)
    EA = silu(EG) · EU;  EAW[B,P,K,CE] = EA · GW[B,P,K]       the gate weights scale the hidden
    EO[B,P,D] = EAW[B,P,K,CE] * EWD[B,P,K,CE,D]                down projection, summing the K experts
    (Qwen2-MoE: SED = the shared expert, a SwiGLU MLP of width CS with weights WSEG/WSEU/WSED;
     SEGT[B,P] = sigmoid(Y · WSEGT[D]); SEO = SED · SEGT; MOE = EO + SEO)

Softmax and sigmoid are the map/reduce/unary cascades of FuseMax: max, exp(x - max), sum,
reciprocal, multiply; sigmoid(x) = reciprocal(offset 1(exp(neg x))). So a token's MACs are
D·X + 3·K·D·CE (+ 3·D·CS + D): k experts, never all X.
"""
from __future__ import annotations

from .ir import gather, offset, unary
from .models import GATED


def add_moe(low, L: str, y: str, i: int) -> str:
    """The sparse MLP of layer i on the normed input `y`; returns the output tensor [B,P,D]."""
    b, m = low.b, low.m
    tags = dict(group="moe", layer=i)
    wr = low.weight(f"{L}WR", "D,X")
    b.einsum(f"{L}R", f"{L}R[B,P,X] = {y}[B,P,D] * {wr}[D,X]", **tags)
    gw, ti = _route(b, L, f"{L}R", m.router, m.norm_topk_prob, tags)
    for name, ranks in (("G", "D,CE"), ("U", "D,CE"), ("D", "CE,D")):
        table = low.weight(f"{L}WE{name}", f"X,{ranks}")
        b.add(gather(f"{L}EW{name}", f"{table}[X,{ranks}]", f"{ti}[B,P,K]", f"B,P,K,{ranks}", "X", **tags),
              dtype=low.dt.weight)
    b.einsum(f"{L}EG", f"{L}EG[B,P,K,CE] = {y}[B,P,D] * {L}EWG[B,P,K,D,CE]", **tags)
    b.einsum(f"{L}EU", f"{L}EU[B,P,K,CE] = {y}[B,P,D] * {L}EWU[B,P,K,D,CE]", **tags)
    b.einsum(f"{L}EGA", f"{L}EGA[B,P,K,CE] = {L}EG[B,P,K,CE]", pre=[unary(GATED[m.activation])], **tags)
    b.einsum(f"{L}EA", f"{L}EA[B,P,K,CE] = {L}EGA[B,P,K,CE] * {L}EU[B,P,K,CE]", **tags)
    b.einsum(f"{L}EAW", f"{L}EAW[B,P,K,CE] = {L}EA[B,P,K,CE] * {gw}[B,P,K]", **tags)
    b.einsum(f"{L}EO", f"{L}EO[B,P,D] = {L}EAW[B,P,K,CE] * {L}EWD[B,P,K,CE,D]", **tags)
    if not m.d_shared_expert:
        return f"{L}EO"
    so = low.gated_mlp(L, y, i, prefix="SE", rank="CS", group="moe")
    gate = low.weight(f"{L}WSEGT", "D")
    b.einsum(f"{L}SEGT", f"{L}SEGT[B,P] = {y}[B,P,D] * {gate}[D]",
             post=[unary("neg"), unary("exp"), offset(1.0), unary("reciprocal")], **tags)
    b.einsum(f"{L}SEO", f"{L}SEO[B,P,D] = {so}[B,P,D] * {L}SEGT[B,P]", **tags)
    b.einsum(f"{L}MOE", f"{L}MOE[B,P,D] = {L}EO[B,P,D] + {L}SEO[B,P,D]", **tags)
    return f"{L}MOE"


def _softmax(b, out: str, x: str, rank: str, tags: dict) -> str:
    """out[B,P,rank] = softmax over `rank` of x[B,P,rank] (max, exp(x - max), 1/sum, multiply)."""
    b.einsum(f"{out}MX", f"{out}MX[B,P] = {x}[B,P,{rank}]", reduce_op="max", **tags)
    b.einsum(f"{out}EX", f"{out}EX[B,P,{rank}] = {x}[B,P,{rank}] - {out}MX[B,P]", pre=[unary("exp")], **tags)
    b.einsum(f"{out}RS", f"{out}RS[B,P] = {out}EX[B,P,{rank}]", reduce_op="sum", post=[unary("reciprocal")], **tags)
    b.einsum(out, f"{out}[B,P,{rank}] = {out}EX[B,P,{rank}] * {out}RS[B,P]", **tags)
    return out


def _route(b, L: str, logits: str, router: str, norm_topk: bool, tags: dict) -> tuple[str, str]:
    """(gate weights GW[B,P,K], expert indices TI[B,P,K]) from the router logits."""
    scores = logits if router == "topk_softmax" else _softmax(b, f"{L}RP", logits, "X", tags)
    b.einsum(f"{L}TV", f"{L}TV[B,P,K] = {scores}[B,P,X]", reduce_op="topk", **tags)
    b.tensor(f"{L}TI", "B,P,K", dtype="int32")
    b.einsum(f"{L}TI", f"{L}TI[B,P,K] = {scores}[B,P,X]", reduce_op="argtopk", **tags)
    if router == "topk_softmax":
        return _softmax(b, f"{L}GW", f"{L}TV", "K", tags), f"{L}TI"
    if not norm_topk:
        return f"{L}TV", f"{L}TI"
    b.einsum(f"{L}TS", f"{L}TS[B,P] = {L}TV[B,P,K]", reduce_op="sum", post=[unary("reciprocal")], **tags)
    b.einsum(f"{L}GW", f"{L}GW[B,P,K] = {L}TV[B,P,K] * {L}TS[B,P]", **tags)
    return f"{L}GW", f"{L}TI"

"""Every matrix Einsum of a cascade searched on one PE array.

The matrix Einsums are those of `mappers.bitserial.gemm.extract_gemms` (QKV, projections, MLP,
LM head, the attention matmuls QK/AV), each seen as `batch` products (m × k)·(k × n) with the
static operand (weights, or the K/V cache) on the n side; their ranks are merged into B, M, K, N
(a nest over the merged ranks is a nest over the originals with the merged ranks' loops
adjacent). Equal shapes are searched once (the search is cached).
"""
from __future__ import annotations

from mappers.bitserial.gemm import extract_gemms
from mappers.mapspace.search import MAX_EVALS, SearchResult, search
from sim.pe_array.nest import Problem, gemm
from sim.pe_array.spec import PEArraySpec


def problems(cascade, input_bytes: float, weight_bytes: float, output_bytes: float,
             kv_bytes: float | None = None) -> list[Problem]:
    """The matrix Einsums of `cascade` as problems (element sizes as the architecture stores them)."""
    out = []
    for g in extract_gemms(cascade):
        wb = kv_bytes if (g.group == "attention" and kv_bytes is not None) else weight_bytes
        out.append(gemm(g.batch, g.m_tokens, g.k_reduce, g.n_out, input_bytes, wb, output_bytes, name=g.name))
    return out


def unnamed(problem: Problem) -> Problem:
    """The problem without its name, so equal shapes share one cached search."""
    return Problem("", problem.ranks, problem.tensors)


def map_cascade(cascade, spec: PEArraySpec, objective: str = "latency", method: str = "auto",
                max_evals: int = MAX_EVALS, seed: int = 0, element_bytes: tuple = (2.0, 2.0, 2.0)) -> dict[str, SearchResult]:
    """Einsum name -> its best nest on `spec`."""
    return {p.name: search(unnamed(p), spec, objective, method, max_evals, seed)
            for p in problems(cascade, *element_bytes)}

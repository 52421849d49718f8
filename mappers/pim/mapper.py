"""PIM-GPT's mapping of a decode cascade: matrix-vector Einsums to PIM banks, vector Einsums to the
ASIC, KV appends to the channel buses (`mappers.pim.classify` says which is which, from ranks and
tensor roles; `mappers.pim.layout` where the operands go).

`map(cascade, system, strategy, mode)` returns the contract's `Mapping`: per Einsum its unit
(`pim`, `asic` or `link`), its step at the cascade's kv length as plan (`PimRuns` or `AsicStep`)
and the bytes it moves over the channel buses (GB writes and MAC results in 32 B bursts, or the
appended K/V); `Mapping.plan` is the whole `PimPlan`, the program `sim.pim.simulate` runs.
"""
from __future__ import annotations

from sim.contract import EinsumMapping, Mapping
from sim.pim.spec import PimSystem
from sim.pim.stream import BURST_BYTES, AsicStep, step_counts
from workloads.errors import SpecError

from .classify import classify, kv_token_ranks
from .plan import PimPlan

STRATEGIES = ("pim-gpt",)
MODES = ("cycle",)


def _kv_len(cascade) -> int:
    """The cache length the cascade attends over: the size of its caches' token rank."""
    sizes = {cascade.rank_sizes[r] for r in kv_token_ranks(cascade).values()}
    if len(sizes) > 1:
        raise SpecError(f"cascade {cascade.name}: KV caches of different lengths {sorted(sizes)}; "
                        f"PIM-GPT decodes one sequence length")
    return sizes.pop() if sizes else 1


def map_decode(cascade, system: PimSystem | None = None, tokens: int = 1) -> PimPlan:
    """Place every Einsum of a lowered decode cascade on PIM, the ASIC or the link.

    `tokens` > 1 makes the plan a decode of that many tokens ending at the cascade's kv length."""
    system = system or PimSystem()
    word_bits = 8 * system.word_bytes
    placements = cascade.memoized(("pim.classify", word_bits), lambda: classify(cascade, word_bits=word_bits))
    kv_len = _kv_len(cascade)
    if not 1 <= tokens <= kv_len:
        raise SpecError(f"tokens: {tokens}; a decode ending at kv length {kv_len} has 1..{kv_len} tokens")
    queries = next((p.streams for p in placements if p.kind == "weight"), 1)
    return PimPlan(placements, system, kv_len, tokens=tokens, queries=queries)


def _entry(p, step) -> EinsumMapping:
    if isinstance(step, AsicStep):
        return EinsumMapping(einsum=p.einsum, unit=p.unit, plan=step, offchip_bytes=p.link_bytes)
    counts = step_counts(step)
    bus = (counts.get("WR_GB", 0) + counts.get("RD_MAC", 0)) * BURST_BYTES
    return EinsumMapping(einsum=p.einsum, unit=p.unit, plan=step, offchip_bytes=float(bus))


def map(cascade, system: PimSystem, strategy: str = "pim-gpt", mode: str = "cycle") -> Mapping:  # noqa: A001
    """The contract's Mapping of a decode cascade onto `system` (see the module docstring)."""
    if strategy not in STRATEGIES:
        raise SpecError(f"pim mapping {strategy!r} is not known; allowed: {', '.join(STRATEGIES)}")
    if mode not in MODES:
        raise SpecError(f"pim mode {mode!r} is not known; allowed: {', '.join(MODES)}")
    plan = map_decode(cascade, system, tokens=system.decode_tokens)
    steps = plan.steps(plan.kv_len, runs=True)
    einsums = tuple(_entry(p, s) for p, s in zip(plan.placements, steps))
    return Mapping(family="pim", strategy=strategy, cascade=cascade, einsums=einsums, mode=mode, plan=plan)

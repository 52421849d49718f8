"""A mapped PIM-GPT decode step: the placement of every Einsum and the command steps it becomes.

`PimPlan.steps(kv_len)` turns the placements into one step per Einsum, in cascade order, for a
token attending over `kv_len` cached tokens: a `PimStep` (or, with `runs`, `PimRuns`) for weight
GEMVs, scores and contexts (tiles from `mappers.pim.layout`), an `AsicStep` of category `asic` for
vector work (ceil(ops / lanes) + pipeline ASIC cycles, converted to DRAM cycles; attention's
vector ops scale linearly with the kv length) and one of category `transfer` for a KV append (its
bytes at the rate of all channel buses, 32 B per nBL per channel).

A plan is also the decode program `sim.pim.simulate` runs (`sim.pim.program.DecodeProgram`):
`tokens` decode tokens back to back, token i attending over `kv_len - tokens + 1 + i` cached
tokens, so one token (the default) attends over the cascade's whole cache.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import pandas as pd

from mappers.pim.classify import Placement
from mappers.pim.decode import DecodeSteps
from mappers.pim.layout import (as_tiles, attention_runs, canonical_kv, context_layout, gemv_layout, gemv_runs,
                                score_layout)
from sim.pim.spec import PimSystem
from sim.pim.stream import AsicStep, PimRuns, PimStep, step_counts

_ATTENTION_LAYOUT = {"score": score_layout, "context": context_layout}


def _renamed(step, name: str):
    """`step` under another Einsum's name (PIM steps keep the same shared tiles/runs object)."""
    if step.name == name:
        return step
    if isinstance(step, AsicStep):
        return AsicStep(name, step.cycles, step.category)
    return PimRuns(name, step.runs) if isinstance(step, PimRuns) else PimStep(name, step.tiles)


@dataclass(frozen=True)
class PimPlan:
    """Placements of a decode cascade on `system`; `kv_len` is its cache length (token rank)."""

    placements: tuple[Placement, ...]
    system: PimSystem
    kv_len: int
    tokens: int = 1
    queries: int = 1

    @functools.cached_property
    def table(self) -> pd.DataFrame:
        """One row per Einsum: its placement (unit, kind, shape) and its cascade group and layer."""
        return pd.DataFrame([{"einsum": p.einsum, "unit": p.unit, "kind": p.kind, "group": p.group,
                              "layer": p.layer, "macs": p.macs, "out_rows": p.out_rows,
                              "in_len": p.in_len, "streams": p.streams, "vector_ops": p.vector_ops,
                              "link_bytes": p.link_bytes, "kv_rank": p.kv_rank}
                             for p in self.placements])

    @property
    def layers(self) -> int:
        return len({p.layer for p in self.placements if p.layer is not None})

    @property
    def transfer_bytes(self) -> float:
        """Bytes moved over the channel buses per token outside the MAC streams (KV append)."""
        return float(sum(p.link_bytes for p in self.placements))

    @property
    def kv_dependent(self) -> tuple[bool, ...]:
        """Per step, whether it changes with the kv length (score, context, attention ASIC)."""
        return tuple(p.kind in _ATTENTION_LAYOUT or (p.kind == "vector" and bool(p.kv_rank))
                     for p in self.placements)

    @functools.cached_property
    def _clocks(self) -> tuple[float, float]:
        """DRAM cycles per ASIC cycle; bytes per DRAM cycle over all channel buses."""
        return (self.system.dram_cycles_per_asic_cycle,
                self.system.channels * 32 / self.system.standard.timing("nBL"))

    def asic_cycles(self, p: Placement, kv_len: int) -> int:
        """DRAM cycles of a vector Einsum on the ASIC at kv length `kv_len`."""
        ops = p.vector_ops
        if p.kv_rank:
            ops = ops * kv_len / max(1, self.kv_len)
        return math.ceil((math.ceil(ops / self.system.asic_lanes) + self.system.asic_pipeline_cycles)
                         * self._clocks[0])

    def steps(self, kv_len: int, *, runs: bool = False, only: tuple[int, ...] | None = None) -> list:
        """PIM and ASIC steps of one decode token attending over `kv_len` cached tokens.

        PIM steps are `PimStep` (tiles with row addresses) or, with `runs`, `PimRuns` (the same
        tiles as runs of identical signatures, one shared runs object per distinct layout). `only`
        restricts the output to those steps."""
        shared: dict[tuple, object] = {}
        chosen = self.placements if only is None else [self.placements[i] for i in only]
        return [self.step(p, kv_len, runs=runs, shared=shared) for p in chosen]

    @staticmethod
    def shape_key(p: Placement) -> tuple:
        """What a placement's step depends on besides the kv length (equal keys, equal steps up
        to the name)."""
        if p.kind == "weight":
            return ("weight", p.out_rows, p.in_len, p.streams)
        if p.kind in _ATTENTION_LAYOUT:
            return (p.kind, p.streams, p.in_len if p.kind == "score" else p.out_rows)
        if p.kind == "kv_append":
            return ("transfer", p.link_bytes)
        return ("asic", p.vector_ops, bool(p.kv_rank))

    def step(self, p: Placement, kv_len: int, *, runs: bool = False, shared: dict | None = None):
        """The step of placement `p` at `kv_len` (see `steps`); `shared` memoizes the work of
        equal `shape_key`s within one kv length."""
        key = self.shape_key(p)
        if shared is not None and key in shared:
            return _renamed(shared[key], p.einsum)
        system = self.system
        if p.kind == "weight":
            step = (PimRuns(p.einsum, gemv_runs(p.out_rows, p.in_len, system, p.streams)) if runs else
                    PimStep(p.einsum, as_tiles(gemv_layout(p.out_rows, p.in_len, system, vectors=p.streams))))
        elif p.kind in _ATTENTION_LAYOUT:
            step = (PimRuns(p.einsum, attention_runs(p.kind, *key[1:], kv_len, system)) if runs else
                    PimStep(p.einsum, as_tiles(_ATTENTION_LAYOUT[p.kind](*key[1:], kv_len, system))))
        elif p.kind == "kv_append":
            step = AsicStep(p.einsum, math.ceil(p.link_bytes / self._clocks[1]), "transfer")
        else:
            step = AsicStep(p.einsum, self.asic_cycles(p, kv_len), "asic")
        if shared is not None:
            shared[key] = step
        return step

    def token_kv(self, token: int) -> int:
        """The kv length token `token` (0-based) of the decode attends over."""
        return self.kv_len - self.tokens + 1 + token

    @functools.cached_property
    def _decode(self) -> DecodeSteps:
        return DecodeSteps(self, runs=True)

    def token_steps(self, token: int) -> list:
        """One step per Einsum (cascade order) of decode token `token`, as `PimRuns`/`AsicStep`."""
        return self._decode(self.token_kv(token))

    def token_segments(self, token: int) -> tuple[int, list]:
        """Decode token `token` as (idle cycles before its first PIM step, [(position, PimRuns,
        idle cycles after it)]): its steps with each stretch of ASIC/transfer steps summed."""
        return self._decode.segments(self.token_kv(token))

    def work_totals(self) -> tuple[list[int], list[int], list[dict[str, int]]]:
        """Per step, summed over the program's tokens: ASIC cycles, transfer cycles, and the
        commands of PIM steps (REFs aside). Closed form: a kv-dependent step is built once per
        distinct layout (`layout.canonical_kv`) or ASIC length and weighted by its tokens."""
        kvs = [self.token_kv(t) for t in range(self.tokens)]
        memo: dict[tuple, tuple] = {}
        asic, transfer, counts = [], [], []
        for p, dependent in zip(self.placements, self.kv_dependent):
            key = self.shape_key(p)
            if key not in memo:
                memo[key] = self._summed(p, kvs if dependent else [self.kv_len] * len(kvs))
            a, tr, c = memo[key]
            asic.append(a)
            transfer.append(tr)
            counts.append(c)
        return asic, transfer, counts

    def _summed(self, p: Placement, kvs: list[int]) -> tuple[int, int, dict[str, int]]:
        """(ASIC cycles, transfer cycles, PIM command counts) of placement `p` summed over `kvs`."""
        if p.kind == "kv_append" or (p.kind == "vector" and not p.kv_rank):
            step = self.step(p, kvs[0], runs=True)
            total = step.cycles * len(kvs)
            return (0, total, {}) if step.category == "transfer" else (total, 0, {})
        if p.kind == "vector":
            return sum(self.asic_cycles(p, kv) for kv in kvs), 0, {}
        weights: dict[int, int] = {}
        for kv in kvs:
            k = canonical_kv(p.kind, kv, self.system) if p.kind in _ATTENTION_LAYOUT else kv
            weights[k] = weights.get(k, 0) + 1
        out: dict[str, int] = {}
        for kv, w in weights.items():
            for name, c in step_counts(self.step(p, kv, runs=True)).items():
                out[name] = out.get(name, 0) + w * c
        return 0, 0, out

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
from mappers.pim.layout import as_runs, as_tiles, context_layout, gemv_layout, score_layout
from sim.pim.spec import PimSystem
from sim.pim.stream import AsicStep, PimRuns, PimStep

_ATTENTION_LAYOUT = {"score": score_layout, "context": context_layout}


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
        tiles as runs of identical signatures). `only` restricts the output to those steps."""
        system = self.system
        pack = as_runs if runs else as_tiles
        kind = PimRuns if runs else PimStep
        shared: dict[tuple, object] = {}
        steps: list = []
        chosen = self.placements if only is None else [self.placements[i] for i in only]
        for p in chosen:
            if p.kind == "weight":
                steps.append(kind(p.einsum, pack(gemv_layout(p.out_rows, p.in_len, system,
                                                             vectors=p.streams))))
            elif p.kind in _ATTENTION_LAYOUT:
                dim = p.in_len if p.kind == "score" else p.out_rows
                key = (p.kind, p.streams, dim)
                if key not in shared:
                    shared[key] = pack(_ATTENTION_LAYOUT[p.kind](p.streams, dim, kv_len, system))
                steps.append(kind(p.einsum, shared[key]))
            elif p.kind == "kv_append":
                steps.append(AsicStep(p.einsum, math.ceil(p.link_bytes / self._clocks[1]), "transfer"))
            else:
                key = ("asic", p.vector_ops, bool(p.kv_rank))
                if key not in shared:
                    shared[key] = self.asic_cycles(p, kv_len)
                steps.append(AsicStep(p.einsum, shared[key], "asic"))
        return steps

    def token_kv(self, token: int) -> int:
        """The kv length token `token` (0-based) of the decode attends over."""
        return self.kv_len - self.tokens + 1 + token

    @functools.cached_property
    def _decode(self) -> DecodeSteps:
        return DecodeSteps(self, runs=True)

    def token_steps(self, token: int) -> list:
        """One step per Einsum (cascade order) of decode token `token`, as `PimRuns`/`AsicStep`."""
        return self._decode(self.token_kv(token))

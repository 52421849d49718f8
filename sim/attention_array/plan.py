"""What the array simulator accepts from a mapper: the chosen plan of each attention layer.

The mapper (``mappers.attention.array``) picks the loop nests and tiles of a design and counts
their exact off-chip traffic; the simulator needs only the numbers below, so it never imports the
mapper. ``AttentionPlan`` is one attention layer (all heads, whole batch) under one design;
``PaperPlan`` is the same layer under the FuseMax artifact's analytical accounting (paper mode,
which has no tiles of its own); ``ArrayPlan`` is the plan of a whole cascade — one plan per
Transformer layer, keyed by the layer index — that rides in ``sim.contract.Mapping.plan``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class EndToEnd:
    """The attention layer plus the layer's other Einsums (``linear_*``, added by
    ``sim.attention_array.simulate``): shared by `ArrayResult` and `PaperResult`, which
    define ``cycles``, ``energy_pj``, ``linear_cycles`` and ``linear_energy_pj``."""

    @property
    def end_to_end_cycles(self) -> float:
        return self.cycles + self.linear_cycles

    @property
    def end_to_end_energy_pj(self) -> float:
        return self.energy_pj + self.linear_energy_pj


@dataclass(frozen=True)
class AttentionShape:
    """One attention layer's shape, as read from the cascade's QK and AV Einsums.

    ``masked_scores``: the cascade applies a causal mask to the scores (its compare-and-select is
    work per score); ``causal``: the mapping may skip fully masked tiles (the two differ only when a
    caller asks for a decoder's bidirectional twin)."""

    batch: int
    heads: int
    kv_heads: int
    head_dim: int
    n_q: int
    n_kv: int
    causal: bool = False
    masked_scores: bool = False

    @property
    def instances(self) -> int:
        """Independent (batch entry, query head) problems."""
        return self.batch * self.heads


@dataclass(frozen=True)
class AttentionPlan:
    """One design's mapping of an attention layer: tiles, the work they imply and the exact
    off-chip traffic (counted by the mapper from its loop nests).

    ``tiles`` and ``pairs`` are per (batch entry, head) instance: the (q, kv) tiles and the
    (query, key) pairs the design computes (fewer than all under a causal mask for designs that
    skip masked tiles). ``pass_bytes`` is the traffic of each loop nest (pass) in order, all
    instances; ``spill_bytes`` the three stages of spilled FLAT (K sweep, softmax read-back,
    V sweep), all instances. ``mapping`` is the mapper's own object (loop nests), kept for reports.
    """

    design: str
    shape: AttentionShape
    bytes_per_element: int
    q_tile: int
    kv_tile: int
    tiles: int
    pairs: int
    traffic_bytes: int
    pass_bytes: tuple[tuple[str, int], ...]
    footprint_bytes: int
    lower_bound_bytes: float
    softmax_rows: int = 0
    spill_bytes: tuple[int, int, int] | None = None
    mapping: Any = field(default=None, compare=False, repr=False)

    @property
    def spilled(self) -> bool:
        """Scores go off chip (unfused's multi-pass form, or spilled FLAT)."""
        return self.spill_bytes is not None or len(self.pass_bytes) > 1


@dataclass(frozen=True)
class PaperPlan:
    """Paper mode: the layer shape; the artifact's accounting fixes its own tiles."""

    design: str
    shape: AttentionShape


@dataclass(frozen=True)
class ArrayPlan:
    """The plan of a whole cascade: per Transformer layer index, its attention plan.

    ``weight_reads``: how often the linear layers' weights stream from off chip — once per batch
    entry when the entries run one after another (prefill), once when the batch shares them
    (a decode step)."""

    design: str
    mode: str
    layers: dict[int, AttentionPlan | PaperPlan]
    weight_reads: int = 1

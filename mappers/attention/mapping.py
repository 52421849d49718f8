"""A mapping of one attention layer onto DRAM + one on-chip buffer: loop nests plus buffer footprint."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from mappers.attention.layer import AttentionLayer
from mappers.attention.loopnest import LoopNest, TrafficCount, count_traffic
from workloads.errors import SpecError


@dataclass(frozen=True)
class AttentionMapping:
    """One design (``unfused``, ``flat``, ``flashattention1``, ``flashattention2``, ``fusemax``) with
    its tile sizes, the loop nests it runs (in order) and its on-chip footprint.

    ``pass_footprints`` gives, per nest, the bytes each tensor keeps in the buffer while that nest
    runs; passes run one after another and reuse the buffer, so the footprint is the largest pass.
    Construction rejects a footprint larger than ``buffer_bytes`` with ``SpecError``.
    ``pack_heads``: the nests pack the query heads of a GQA group on the q rank (``q_tile`` then
    counts packed rows; see ``loopnest.LoopNest.q_heads``).
    """

    design: str
    layer: AttentionLayer
    buffer_bytes: int
    q_tile: int
    kv_tile: int
    skip_masked: bool
    nests: tuple[LoopNest, ...]
    pass_footprints: tuple[tuple[tuple[str, int], ...], ...]
    kv_keep: int = 1
    serpentine: bool = False
    softmax_rows: int = 0
    pack_heads: bool = False

    def __post_init__(self) -> None:
        if len(self.pass_footprints) != len(self.nests):
            raise SpecError(f"{self.design}: one footprint per nest is needed")
        if self.footprint_bytes > self.buffer_bytes:
            raise SpecError(
                f"{self.design} with q_tile={self.q_tile}, kv_tile={self.kv_tile} needs "
                f"{self.footprint_bytes} B on chip ({self.footprint_breakdown()}), "
                f"more than the {self.buffer_bytes} B buffer")

    @property
    def footprint_bytes(self) -> int:
        """Peak on-chip bytes over all passes."""
        return max(sum(b for _, b in fp) for fp in self.pass_footprints)

    def footprint_breakdown(self) -> dict[str, int]:
        """Per-tensor bytes of the pass with the largest footprint."""
        peak = max(self.pass_footprints, key=lambda fp: sum(b for _, b in fp))
        return dict(peak)

    @cached_property
    def traffic(self) -> TrafficCount:
        """Exact off-chip traffic, counted by walking the loop nests."""
        return count_traffic(self.nests, self.layer, skip_masked=self.skip_masked)

    def describe(self) -> str:
        """The loop nests as indented pseudo-code."""
        from mappers.attention.loopnest import Access, Compute, Loop

        lines: list[str] = []

        def emit(body, depth):
            pad = "  " * depth
            for node in body:
                if isinstance(node, Loop):
                    order = " (every second sweep reversed)" if node.serpentine else ""
                    lines.append(f"{pad}for {node.rank}-tile of {node.tile} rows{order}:")
                    emit(node.body, depth + 1)
                elif isinstance(node, Access):
                    held = f" (last {node.keep} tiles kept)" if node.keep > 1 else ""
                    lines.append(f"{pad}{node.kind} {node.tensor} tile{held}")
                elif isinstance(node, Compute):
                    lines.append(f"{pad}compute {node.label} tile")

        for nest in self.nests:
            packed = (f" (query rows of {nest.q_heads} heads of a K/V group packed)"
                      if nest.q_heads > 1 else "")
            lines.append(f"pass {nest.name}{packed}:")
            emit(nest.body, 1)
        return "\n".join(lines)

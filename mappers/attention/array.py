"""Mappings of attention layers onto the FuseMax-style array (``sim.attention_array``), and of whole
cascades: ``map_cascade(cascade, arch, strategy, mode) -> sim.contract.Mapping``.

Tile rules per design (``choose_mapping``), following the FuseMax artifact's mappings:
* FuseMax and FlashAttention-2 (Dao 2023, Alg. 1: outer loop over Q blocks, inner over K/V
  blocks): K/V tile = the array's columns, the largest query tile the buffer holds (from the
  array's rows up); under a causal mask ``causal_mappings`` adds the array-rows query tile (the
  granularity at which fully masked tiles are skipped) and the simulation keeps the faster.
* FLAT: score rows on chip with the largest query block up to the array's rows that fits, and —
  when a full block does not fit — scores spilled with ``FLAT_SPILL_ROW_BLOCK``-row query blocks
  (``flat_mappings``, artifact data/pregenerated/flat_validation.csv); the faster simulated one.
* Unfused with spilled scores: K/V tiles of the array's columns, the largest query tile that fits
  and the row-block softmax (``search.softmax_row_block``: the artifact's unfused, 8 B per score).
* Otherwise (and for any design when those do not fit) the traffic-optimal tiling of ``search``.
FLAT and unfused compute whole score rows, so a causal layer is planned as its bidirectional twin
(its I/O lower bound stays the causal layer's).

A plan (``sim.attention_array.plan.AttentionPlan``) carries what the simulator needs: tiles, the
(q, kv) tiles and pairs computed, the exact off-chip bytes (closed form, or the loop-nest counter
for spilled FLAT and per pass) and the I/O lower bound of ``bound``.
"""
from __future__ import annotations

import math
from dataclasses import replace

from mappers.attention.bound import traffic_bound
from mappers.attention.closed_form import active_tiles, closed_form_traffic
from mappers.attention.designs import build
from mappers.attention.designs import flat as flat_mapping
from mappers.attention.layer import AttentionLayer
from mappers.attention.loopnest import count_traffic
from mappers.attention.mapping import AttentionMapping
from mappers.attention.search import search_design, softmax_row_block
from sim.attention_array.arch import FLAT_SPILL_ROW_BLOCK, ArraySpec, EnergyTable
from sim.attention_array.attention import simulate_attention
from sim.attention_array.dataflows import SKIPS_MASKED_TILES, dataflow
from sim.attention_array.plan import AttentionPlan, AttentionShape
from workloads.errors import SpecError


def layer_of(shape: AttentionShape, bytes_per_element: int) -> AttentionLayer:
    """The mapper's layer spec of a cascade's attention shape."""
    return AttentionLayer(n_q=shape.n_q, n_kv=shape.n_kv, head_dim=shape.head_dim, batch=shape.batch,
                          heads=shape.heads, kv_heads=shape.kv_heads, bytes_per_element=bytes_per_element,
                          causal=shape.causal)


def largest_q_tile(fits, lo: int, hi: int) -> int | None:
    """The largest query tile in [lo, hi] for which ``fits`` holds (``fits`` monotone), or None."""
    if lo < 1 or not fits(lo):
        return None
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid - 1)
    return lo


def fits(design: str, layer: AttentionLayer, buffer_bytes: int, q_tile: int, kv_tile: int, **kw) -> bool:
    """Whether ``design`` at these tiles fits the buffer (``designs.build`` without ``SpecError``)."""
    try:
        if design == "flat":
            flat_mapping(layer, buffer_bytes, q_tile, kv_tile, **kw)
        else:
            build(design, layer, buffer_bytes, q_tile, kv_tile, **kw)
    except SpecError:
        return False
    return True


def design_fits(design: str, layer: AttentionLayer, buffer_bytes: int, q_tile: int, kv_tile: int) -> bool:
    return fits(design, layer, buffer_bytes, q_tile, kv_tile)


def flat_mappings(layer: AttentionLayer, arch: ArraySpec) -> list[AttentionMapping]:
    """FLAT's two mappings: score rows on chip (largest query block up to the array's rows that
    fits) and, when a full block does not fit, scores spilled with 1024-row blocks. K/V tiles are
    the array's columns."""
    bc = min(arch.cols_2d, layer.n_kv)
    full = min(arch.rows_2d, layer.n_q)
    out = []
    br = largest_q_tile(lambda t: fits("flat", layer, arch.buffer_bytes, t, bc), 1, full)
    if br is not None:
        out.append(flat_mapping(layer, arch.buffer_bytes, br, bc))
    spill_rows = min(FLAT_SPILL_ROW_BLOCK, layer.n_q)
    if br != full and fits("flat", layer, arch.buffer_bytes, spill_rows, bc, spill=True):
        out.append(flat_mapping(layer, arch.buffer_bytes, spill_rows, bc, spill=True))
    return out


def flat_is_spilled(mapping: AttentionMapping) -> bool:
    return mapping.design == "flat" and mapping.nests[0].name == "fused_spill"


def mapping_traffic_bytes(mapping: AttentionMapping) -> int:
    """Exact off-chip bytes: the loop-nest counter for spilled FLAT, else the closed form (proven
    equal to the counter by ``tests/mappers/attention/test_attn_closed_form.py``)."""
    if flat_is_spilled(mapping):
        return mapping.traffic.total_bytes
    return closed_form_traffic(mapping.design, mapping.layer, mapping.q_tile, mapping.kv_tile,
                               mapping.skip_masked, mapping.buffer_bytes, mapping.kv_keep,
                               mapping.serpentine, mapping.softmax_rows, mapping.pack_heads).total_bytes


def _flat_bound_cycles(mapping: AttentionMapping, arch: ArraySpec) -> float:
    """Selection proxy between FLAT's mappings: the busiest resource (off-chip bytes, 2D work on
    the rows a query block occupies, 4 softmax steps per score on the 1D array)."""
    layer = mapping.layer
    pairs = layer.n_q * layer.n_kv * layer.instances
    rows = min(mapping.q_tile, arch.rows_2d) * min(mapping.kv_tile, arch.cols_2d)
    return max(mapping_traffic_bytes(mapping) / arch.offchip_bytes_per_cycle,
               2 * layer.head_dim * pairs / rows, 4 * pairs / arch.width_1d)


def _unfused_row_block(layer: AttentionLayer, arch: ArraySpec) -> AttentionMapping | None:
    rows = softmax_row_block(layer, arch.buffer_bytes, True)
    if not rows:
        return None
    bc = min(arch.cols_2d, layer.n_kv)
    br = largest_q_tile(lambda t: fits("unfused", layer, arch.buffer_bytes, t, bc, softmax_rows=rows), 1, layer.n_q)
    return None if br is None else build("unfused", layer, arch.buffer_bytes, br, bc, softmax_rows=rows)


def choose_mapping(design: str, layer: AttentionLayer, arch: ArraySpec) -> AttentionMapping:
    """The design's mapping by the rules of the module docstring."""
    if layer.causal and design not in SKIPS_MASKED_TILES:
        raise SpecError(f"{design} computes whole score rows: map its bidirectional twin")
    chosen = None
    if design in ("fusemax", "flashattention2"):
        bc = min(arch.cols_2d, layer.n_kv)
        br = largest_q_tile(lambda t: design_fits(design, layer, arch.buffer_bytes, t, bc),
                            min(arch.rows_2d, layer.n_q), layer.n_q)
        chosen = None if br is None else build(design, layer, arch.buffer_bytes, br, bc)
    elif design == "flat":
        options = flat_mappings(layer, arch)
        chosen = min(options, key=lambda m: _flat_bound_cycles(m, arch)) if options else None
    elif design == "unfused":
        chosen = _unfused_row_block(layer, arch)
    if chosen is not None:
        return chosen
    found = search_design(design, layer, arch.buffer_bytes, pack_heads=False)
    if found is None:
        raise SpecError(f"no tiling of {design} fits a {arch.buffer_bytes} B buffer")
    return found.mapping


def causal_mappings(design: str, layer: AttentionLayer, arch: ArraySpec) -> list[AttentionMapping]:
    """Under a causal mask, FlashAttention-2 and FuseMax have two candidate query tiles: the
    largest that fits (fewest K/V re-reads) and the array's rows (finer masked-tile skipping)."""
    out = [choose_mapping(design, layer, arch)]
    if design in SKIPS_MASKED_TILES:
        rows, bc = min(arch.rows_2d, layer.n_q), min(arch.cols_2d, layer.n_kv)
        if out[0].q_tile != rows and design_fits(design, layer, arch.buffer_bytes, rows, bc):
            out.append(build(design, layer, arch.buffer_bytes, rows, bc))
    return out


def _spill_bytes(mapping: AttentionMapping) -> tuple[int, int, int] | None:
    """Spilled FLAT's off-chip bytes per step: K sweep (Q, K in, S out), softmax (S in, P out),
    V sweep (P, V in, O out)."""
    if not flat_is_spilled(mapping):
        return None
    rd, wr = mapping.traffic.read_bytes, mapping.traffic.write_bytes
    return (rd.get("Q", 0) + rd.get("K", 0) + wr.get("S", 0), rd.get("S", 0) + wr.get("P", 0),
            rd.get("P", 0) + rd.get("V", 0) + wr.get("O", 0))


def plan_of(mapping: AttentionMapping, arch: ArraySpec, masked_scores: bool,
            bound_layer: AttentionLayer | None = None) -> AttentionPlan:
    """The simulator's plan of ``mapping``: tiles, work and exact traffic (see the module docstring)."""
    layer, design = mapping.layer, mapping.design
    br, bc, inst = mapping.q_tile, mapping.kv_tile, layer.instances
    if design in SKIPS_MASKED_TILES:
        tiles = active_tiles(layer, br, bc, mapping.skip_masked)
        pairs = closed_form_traffic(design, layer, br, bc, mapping.skip_masked, mapping.buffer_bytes).computed_pairs // inst
    else:
        tiles, pairs = math.ceil(layer.n_q / br) * math.ceil(layer.n_kv / bc), layer.n_q * layer.n_kv
    total = mapping_traffic_bytes(mapping)
    passes = (tuple((n.name, count_traffic((n,), layer, skip_masked=mapping.skip_masked).total_bytes)
                    for n in mapping.nests) if len(mapping.nests) > 1 else ((mapping.nests[0].name, total),))
    bound = bound_layer or layer
    shape = AttentionShape(layer.batch, layer.heads, layer.n_kv_heads, layer.head_dim, layer.n_q, layer.n_kv,
                           bound.causal, masked_scores)
    return AttentionPlan(design, shape, layer.bytes_per_element, br, bc, tiles, pairs, total, passes,
                         mapping.footprint_bytes, traffic_bound(bound, arch.buffer_bytes).lower_bound_bytes,
                         mapping.softmax_rows, _spill_bytes(mapping), mapping)


def best_plan(design: str, layer: AttentionLayer, arch: ArraySpec, masked_scores: bool, *,
              mapping: AttentionMapping | None = None, energy: EnergyTable | None = None) -> AttentionPlan:
    """The plan of ``design`` for ``layer``: ``mapping`` if given, else the candidates of the tile
    rules, the one the simulator finds fastest (first on a tie)."""
    dataflow(design)
    if layer.causal and design not in SKIPS_MASKED_TILES:
        twin = replace(layer, causal=False)
        return plan_of(mapping or best_plan(design, twin, arch, masked_scores, energy=energy).mapping,
                       arch, masked_scores, bound_layer=layer)
    if mapping is not None:
        options = [mapping]
    elif layer.causal:
        options = causal_mappings(design, layer, arch)
    elif design == "flat":
        options = flat_mappings(layer, arch) or [choose_mapping(design, layer, arch)]
    else:
        options = [choose_mapping(design, layer, arch)]
    plans = [plan_of(m, arch, masked_scores) for m in options]
    if len(plans) == 1:
        return plans[0]
    return min(plans, key=lambda p: simulate_attention(p, arch, energy).cycles)

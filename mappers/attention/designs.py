"""The attention mappings: unfused 3-pass, FLAT, FlashAttention-1/-2 and FuseMax, as loop nests.

Each builder returns an :class:`AttentionMapping` whose loop nests say which tile of which tensor
is moved at which loop level, and whose footprint lists what the on-chip buffer holds. Sources:

* unfused 3-pass softmax (max pass, exp-sum pass, normalize pass; S and P materialized off chip
  when the whole score matrix does not fit on chip): the 3-pass cascade of Nayak et al., "FuseMax:
  Leveraging Extended Einsums to Optimize Attention Accelerator Design", MICRO 2024, Sec. 3.
* FLAT: Kao et al., "FLAT: An Optimized Dataflow for Mitigating Attention Bottlenecks", ASPLOS 2023
  — row-granularity fusion: a block of query rows, the full K and V streamed for it, the
  n_kv-wide score rows kept on chip (footprint grows with n_kv).
* FlashAttention-1: Dao et al., NeurIPS 2022, Alg. 1 — outer loop over K/V blocks (Bc rows),
  inner over Q blocks (Br rows); O, ℓ, m are read and written off chip at every outer step.
* FlashAttention-2: Dao, ICLR 2024, Alg. 1 — outer loop over Q blocks, inner over K/V blocks;
  O, ℓ, m stay on chip for the whole inner loop.
* FuseMax: Nayak et al., MICRO 2024 — 1-pass cascade, a tile of Q resident, K/V streamed through a
  double-buffered global buffer, the score tile and the running max/sum living in the PE array
  (register level), so the buffer footprint does not depend on the sequence length.
"""
from __future__ import annotations

from mappers.attention.layer import AttentionLayer
from mappers.attention.loopnest import Access, Compute, Loop, LoopNest
from mappers.attention.mapping import AttentionMapping
from workloads.errors import SpecError

DESIGNS = ("unfused", "flat", "flashattention1", "flashattention2", "fusemax")


def _check_tiles(layer: AttentionLayer, q_tile: int, kv_tile: int,
                 pack_heads: bool = False) -> tuple[int, int]:
    for name, value in (("q_tile", q_tile), ("kv_tile", kv_tile)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise SpecError(f"{name} must be a positive integer, got {value!r}")
    if not isinstance(pack_heads, bool):
        raise SpecError(f"pack_heads must be a bool, got {pack_heads!r}")
    return min(q_tile, q_rows(layer, pack_heads)), min(kv_tile, layer.n_kv)


def q_rows(layer: AttentionLayer, pack_heads: bool) -> int:
    """Extent of the q rank of one nest instance: n_q, or the rows of a whole GQA group when the
    group's query heads are packed."""
    return layer.group_size * layer.n_q if pack_heads else layer.n_q


def _q_heads(layer: AttentionLayer, pack_heads: bool) -> int:
    return layer.group_size if pack_heads else 1


def _sizes(layer: AttentionLayer) -> tuple[int, int, int]:
    return layer.head_dim, layer.bytes_per_element, layer.stat_bytes_per_element


def _q_outer_nest(br: int, bc: int, keep: int = 1, serpentine: bool = False,
                  q_heads: int = 1) -> LoopNest:
    """Q blocks outer, K/V blocks streamed inner, O written once per Q block (FA2 and FuseMax).
    ``serpentine``: every second K/V sweep runs backwards; ``keep``: K and V keep their last
    ``keep`` tiles, so a reversed sweep starts on tiles already on chip; ``q_heads``: query
    blocks are drawn from the packed rows of that many heads of one GQA group."""
    return LoopNest("fused", (
        Loop("q", br, (
            Access("Q", "read"),
            Loop("kv", bc, (Access("K", "read", keep), Access("V", "read", keep), Compute()),
                 serpentine),
            Access("O", "write"),
        )),
    ), q_heads)


def _check_order(layer: AttentionLayer, keep: int, serpentine: bool, skip_masked: bool) -> None:
    if not isinstance(keep, int) or isinstance(keep, bool) or keep < 1:
        raise SpecError(f"kv_keep must be a positive integer, got {keep!r}")
    if (keep > 1 or serpentine) and layer.causal and skip_masked:
        raise SpecError("kv_keep > 1 and serpentine sweeps need whole K/V sweeps "
                        "(no causal tile skipping)")


def flashattention2(layer: AttentionLayer, buffer_bytes: int, q_tile: int, kv_tile: int,
                    *, skip_masked: bool = True, kv_keep: int = 1,
                    serpentine: bool = False, pack_heads: bool = False) -> AttentionMapping:
    """FlashAttention-2: for each Q block, stream K/V blocks; O, ℓ, m on chip until the block ends.
    ``kv_keep``/``serpentine``: the K/V tail kept for a reversed next sweep (loop-order variant);
    ``pack_heads``: Q blocks hold rows of all query heads of a GQA group (one K/V sweep each)."""
    br, bc = _check_tiles(layer, q_tile, kv_tile, pack_heads)
    _check_order(layer, kv_keep, serpentine, skip_masked)
    d, b, sb = _sizes(layer)
    nest = _q_outer_nest(br, bc, kv_keep, serpentine, _q_heads(layer, pack_heads))
    fp = (("Q", br * d * b), ("O", br * d * b), ("m", br * sb), ("l", br * sb),
          ("K", kv_keep * bc * d * b), ("V", kv_keep * bc * d * b), ("S", br * bc * b))
    return AttentionMapping("flashattention2", layer, buffer_bytes, br, bc, skip_masked,
                            (nest,), (fp,), kv_keep, serpentine, pack_heads=pack_heads)


def flashattention1(layer: AttentionLayer, buffer_bytes: int, q_tile: int, kv_tile: int,
                    *, skip_masked: bool = True, pack_heads: bool = False) -> AttentionMapping:
    """FlashAttention-1: for each K/V block, visit every Q block, updating O, ℓ, m off chip.
    ``pack_heads``: the Q blocks run over the rows of all query heads of a GQA group, so each
    K/V block is loaded once per group instead of once per query head."""
    br, bc = _check_tiles(layer, q_tile, kv_tile, pack_heads)
    d, b, sb = _sizes(layer)
    nest = LoopNest("fused", (
        Loop("kv", bc, (
            Access("K", "read"),
            Access("V", "read"),
            Loop("q", br, (Access("Q", "read"), Access("O", "update"), Access("m", "update"),
                           Access("l", "update"), Compute())),
        )),
    ), _q_heads(layer, pack_heads))
    fp = (("K", bc * d * b), ("V", bc * d * b), ("Q", br * d * b), ("O", br * d * b),
          ("m", br * sb), ("l", br * sb), ("S", br * bc * b))
    return AttentionMapping("flashattention1", layer, buffer_bytes, br, bc, skip_masked,
                            (nest,), (fp,), pack_heads=pack_heads)


def fusemax(layer: AttentionLayer, buffer_bytes: int, q_tile: int, kv_tile: int,
            *, skip_masked: bool = True, kv_keep: int = 1,
            serpentine: bool = False, pack_heads: bool = False) -> AttentionMapping:
    """FuseMax: Q tile and O/ℓ/m accumulators resident, K/V streamed double-buffered, scores in the
    PEs; ``kv_keep`` tiles kept plus one being prefetched; ``pack_heads`` as in FlashAttention-2."""
    br, bc = _check_tiles(layer, q_tile, kv_tile, pack_heads)
    _check_order(layer, kv_keep, serpentine, skip_masked)
    d, b, sb = _sizes(layer)
    nest = _q_outer_nest(br, bc, kv_keep, serpentine, _q_heads(layer, pack_heads))
    fp = (("Q", br * d * b), ("O", br * d * b), ("m", br * sb), ("l", br * sb),
          ("K", (kv_keep + 1) * bc * d * b), ("V", (kv_keep + 1) * bc * d * b))
    return AttentionMapping("fusemax", layer, buffer_bytes, br, bc, skip_masked, (nest,), (fp,),
                            kv_keep, serpentine, pack_heads=pack_heads)


def flat(layer: AttentionLayer, buffer_bytes: int, q_tile: int, kv_tile: int,
         *, skip_masked: bool = True, spill: bool = False) -> AttentionMapping:
    """FLAT: per Q block, a K sweep builds the full score rows on chip, then a V sweep forms O.

    ``spill=True`` is FLAT's fallback when a block's score rows do not fit (the FuseMax artifact's
    FLAT configurations at 256K and 1M tokens, ``data/pregenerated/flat_validation.csv``: ``QK_loc``
    and ``A_loc`` off chip): the K sweep writes each score tile S off chip (the row maximum is taken
    on the way out), a second sweep reads S back and writes the exponentials P (the row sums
    accumulate on chip), and the V sweep reads P (divided by the row sum as it is read) with V.
    The footprint then holds one score and one probability tile instead of whole score rows.
    """
    br, bc = _check_tiles(layer, q_tile, kv_tile)
    d, b, sb = _sizes(layer)
    if spill:
        nest = LoopNest("fused_spill", (
            Loop("q", br, (
                Access("Q", "read"),
                Loop("kv", bc, (Access("K", "read"), Compute(), Access("S", "write"))),
                Loop("kv", bc, (Access("S", "read"), Access("P", "write"))),
                Loop("kv", bc, (Access("P", "read"), Access("V", "read"))),
                Access("O", "write"),
            )),
        ))
        fp = (("Q", br * d * b), ("O", br * d * b), ("m", br * sb), ("l", br * sb),
              ("S", br * bc * b), ("P", br * bc * b), ("K", bc * d * b), ("V", bc * d * b))
        return AttentionMapping("flat", layer, buffer_bytes, br, bc, skip_masked, (nest,), (fp,))
    nest = LoopNest("fused", (
        Loop("q", br, (
            Access("Q", "read"),
            Loop("kv", bc, (Access("K", "read"), Compute())),
            Loop("kv", bc, (Access("V", "read"),)),
            Access("O", "write"),
        )),
    ))
    fp = (("Q", br * d * b), ("O", br * d * b), ("m", br * sb), ("l", br * sb),
          ("S", br * layer.n_kv * b), ("K", bc * d * b), ("V", bc * d * b))
    return AttentionMapping("flat", layer, buffer_bytes, br, bc, skip_masked, (nest,), (fp,))


def unfused_on_chip_bytes(layer: AttentionLayer) -> int:
    """Bytes to hold one head's Q, K, V, O, S and statistics on chip at once."""
    d, b, sb = _sizes(layer)
    return (2 * layer.n_q + 2 * layer.n_kv) * d * b + layer.n_q * layer.n_kv * b + 2 * layer.n_q * sb


def unfused(layer: AttentionLayer, buffer_bytes: int, q_tile: int, kv_tile: int,
            *, skip_masked: bool = True, spill: bool | None = None,
            softmax_rows: int = 0) -> AttentionMapping:
    """Unfused 3-pass cascade, one Einsum per pass.

    If one head's whole working set fits, it runs on chip (read Q, K, V, write O once). Otherwise
    S = Q·Kᵀ is written off chip, read by the max pass, by the exp-sum pass and by the normalize
    pass (which writes P), and P is read back with V for O = P·V. ``spill`` forces the choice
    (None: spill exactly when the on-chip working set exceeds the buffer).

    ``softmax_rows`` > 0: the three softmax passes become one pass over blocks of that many whole
    score rows held on chip (max, sum and normalization of a row block from one read of S, one
    write of P) — the unfused baseline of the FuseMax artifact (``src/accel/unfused.py`` with
    ``StableSoftmax`` given the buffer: 8 B per score off chip at 2 B per element). Needs whole
    rows (no causal tile skipping).
    """
    br, bc = _check_tiles(layer, q_tile, kv_tile)
    if spill is None:
        spill = unfused_on_chip_bytes(layer) > buffer_bytes
    if softmax_rows:
        if not isinstance(softmax_rows, int) or softmax_rows < 0 or not spill or (
                layer.causal and skip_masked):
            raise SpecError("softmax_rows needs a positive row count, spilled scores and whole "
                            f"rows (no causal tile skipping), got {softmax_rows!r}")
        return _unfused_row_blocks(layer, buffer_bytes, br, bc, skip_masked, min(softmax_rows, layer.n_q))
    if not spill:
        return _unfused_on_chip(layer, buffer_bytes, skip_masked)
    return _unfused_spilled(layer, buffer_bytes, br, bc, skip_masked)


def _qk_nest(br: int, bc: int) -> LoopNest:
    """S = Q·Kᵀ tile by tile, each score tile written off chip."""
    return LoopNest("qk", (Loop("q", br, (Access("Q", "read"), Loop("kv", bc, (
        Access("K", "read"), Access("S", "write"), Compute())))),))


def _pv_nest(br: int, bc: int) -> LoopNest:
    """O = P·V with P read back off chip tile by tile."""
    return LoopNest("pv", (Loop("q", br, (Loop("kv", bc, (Access("P", "read"), Access("V", "read"))),
                                          Access("O", "write"))),))


def _unfused_row_blocks(layer: AttentionLayer, buffer_bytes: int, br: int, bc: int, skip_masked: bool,
                        rows: int) -> AttentionMapping:
    """Spilled scores, the three softmax passes as one pass over blocks of ``rows`` score rows."""
    d, b, sb = _sizes(layer)
    nests = (
        _qk_nest(br, bc),
        LoopNest("softmax", (Loop("q", rows, (Access("S", "read"), Access("P", "write"))),)),
        _pv_nest(br, bc),
    )
    fps = (
        (("Q", br * d * b), ("K", bc * d * b), ("S", br * bc * b)),
        (("S", rows * layer.n_kv * b), ("P", rows * layer.n_kv * b), ("m", rows * sb),
         ("l", rows * sb)),
        (("P", br * bc * b), ("V", bc * d * b), ("O", br * d * b)),
    )
    return AttentionMapping("unfused", layer, buffer_bytes, br, bc, skip_masked, nests, fps,
                            softmax_rows=rows)


def _unfused_on_chip(layer: AttentionLayer, buffer_bytes: int, skip_masked: bool) -> AttentionMapping:
    """One head's whole working set on chip: Q, K, V read and O written once."""
    d, b, sb = _sizes(layer)
    nest = LoopNest("on_chip", (Access("Q", "read"), Access("K", "read"), Access("V", "read"),
                                Compute(), Access("O", "write")))
    fp = (("Q", layer.n_q * d * b), ("K", layer.n_kv * d * b), ("V", layer.n_kv * d * b),
          ("O", layer.n_q * d * b), ("S", layer.n_q * layer.n_kv * b),
          ("m", layer.n_q * sb), ("l", layer.n_q * sb))
    return AttentionMapping("unfused", layer, buffer_bytes, layer.n_q, layer.n_kv,
                            skip_masked, (nest,), (fp,))


def _unfused_spilled(layer: AttentionLayer, buffer_bytes: int, br: int, bc: int,
                     skip_masked: bool) -> AttentionMapping:
    """S written off chip, read by the max, exp-sum and normalize passes (the last writes P)."""
    d, b, sb = _sizes(layer)
    nests = (
        _qk_nest(br, bc),
        LoopNest("max", (Loop("q", br, (Loop("kv", bc, (Access("S", "read"),)),
                                        Access("m", "write"))),)),
        LoopNest("sum", (Loop("q", br, (Access("m", "read"), Loop("kv", bc, (Access("S", "read"),)),
                                        Access("l", "write"))),)),
        LoopNest("normalize", (Loop("q", br, (Access("m", "read"), Access("l", "read"), Loop(
            "kv", bc, (Access("S", "read"), Access("P", "write"))))),)),
        _pv_nest(br, bc),
    )
    fps = (
        (("Q", br * d * b), ("K", bc * d * b), ("S", br * bc * b)),
        (("S", br * bc * b), ("m", br * sb)),
        (("m", br * sb), ("S", br * bc * b), ("l", br * sb)),
        (("m", br * sb), ("l", br * sb), ("S", br * bc * b), ("P", br * bc * b)),
        (("P", br * bc * b), ("V", bc * d * b), ("O", br * d * b)),
    )
    return AttentionMapping("unfused", layer, buffer_bytes, br, bc, skip_masked, nests, fps)


BUILDERS = {
    "unfused": unfused,
    "flat": flat,
    "flashattention1": flashattention1,
    "flashattention2": flashattention2,
    "fusemax": fusemax,
}


ORDER_VARIANTS = ("flashattention2", "fusemax")
PACKING_DESIGNS = ("flashattention1", "flashattention2", "fusemax")


def build(design: str, layer: AttentionLayer, buffer_bytes: int, q_tile: int, kv_tile: int,
          *, skip_masked: bool = True, kv_keep: int = 1, serpentine: bool = False,
          softmax_rows: int = 0, pack_heads: bool = False) -> AttentionMapping:
    """Build the named design; ``SpecError`` for an unknown design or a tiling that does not fit.
    ``kv_keep``/``serpentine`` apply to the Q-outer 1-pass designs (``ORDER_VARIANTS``),
    ``softmax_rows`` to unfused, ``pack_heads`` (GQA head packing; ``q_tile`` then counts packed
    rows of the group) to ``PACKING_DESIGNS``."""
    if design not in BUILDERS:
        raise SpecError(f"unknown attention design {design!r}; choose one of {', '.join(DESIGNS)}")
    if pack_heads and design not in PACKING_DESIGNS:
        raise SpecError(f"pack_heads applies to {', '.join(PACKING_DESIGNS)}, not {design}")
    if design in ORDER_VARIANTS:
        if softmax_rows:
            raise SpecError(f"softmax_rows applies to unfused, not {design}")
        return BUILDERS[design](layer, buffer_bytes, q_tile, kv_tile, skip_masked=skip_masked,
                                kv_keep=kv_keep, serpentine=serpentine, pack_heads=pack_heads)
    if kv_keep != 1 or serpentine:
        raise SpecError(f"kv_keep and serpentine apply to {', '.join(ORDER_VARIANTS)}, not {design}")
    if design == "unfused":
        return unfused(layer, buffer_bytes, q_tile, kv_tile, skip_masked=skip_masked,
                       softmax_rows=softmax_rows)
    if softmax_rows:
        raise SpecError(f"softmax_rows applies to unfused, not {design}")
    if pack_heads:
        return flashattention1(layer, buffer_bytes, q_tile, kv_tile, skip_masked=skip_masked,
                               pack_heads=True)
    return BUILDERS[design](layer, buffer_bytes, q_tile, kv_tile, skip_masked=skip_masked)

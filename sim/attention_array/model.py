"""Cycle-level model of one attention layer (and, end to end, one Transformer layer) on a
FuseMax-style accelerator: a 2D PE array, a 1D PE array, a global buffer and off-chip memory.

What is modeled
* Work per tile comes from the attention cascade of ``workloads.lower`` (3-pass cascade for
  ``unfused`` and ``flat``, 1-pass cascade for ``flashattention2`` and ``fusemax``): each Einsum's
  operation count divided by the (query, key) pairs gives its operations per pair, so a tile of
  ``p`` pairs costs ``rate × p`` operations on the array the design binds that Einsum to.
* Binding (``BINDINGS``): unfused/FLAT/FA2 run the matrix Einsums (QK, AV / SLNV) on the 2D array
  and all softmax Einsums on the 1D array; FuseMax (Nayak et al., MICRO 2024, Sec. 5–6) runs QK,
  the local max, exp, local sum, SLNV and the running-output correction (SPNV, RNV) on the 2D array
  and only the per-row running statistics (RM, PRM, SPD, RD) and the final division on the 1D array.
* A job (a (q, kv) tile — also of unfused's QK and PV passes — or for FLAT and the softmax passes
  a block of query rows) occupies: off-chip memory
  (its share of the mapping's exact off-chip traffic), the 2D array (``ceil(ops / usable PEs)``; a
  job with fewer than ``rows`` query rows leaves rows idle) and the 1D array
  (``ceil(ops / width)``); an array operation lasts at least its share of the job's global-buffer
  bytes at 512 B per cycle. ``pipeline.simulate`` schedules the jobs.
* Issue slots: FuseMax's exp takes 7 PE cycles (6 MACs + 1 add); unfused/FLAT/FA2's 1D array is
  FLAT's pipelined softmax unit (one step per output element of each element-wise Einsum).
  ``ArrayResult.ops_2d``/``ops_1d`` are these PE cycles of work.
* FLAT (default ``arch.FLAT``, the iso-area 32 MiB buffer): score rows on chip in full query
  blocks, or scores spilled in 1024-row blocks (``flat_mappings``), the faster simulated one kept.
* Heads and batch entries run one after another (the pipeline drains between them).
* Energy: operation, buffer, register-file and DRAM actions × ``energy.yaml``. Register files:
  two reads and one write per array operation (assumption). Leakage is not modeled.
* Causal masks (decoder prefill): FlashAttention-2 and FuseMax skip fully masked (q, kv) tiles
  (``SKIPS_MASKED_TILES``: the loop bound of FlashAttention-2, Dao 2023, Sec. 3.1.1; FuseMax runs
  the same tiled 1-pass loop nest — the paper's workloads are bidirectional, so the skip is this
  model's assumption); a partially masked tile costs a full tile. FLAT and unfused compute whole
  score rows and mask them, so they cost exactly their bidirectional twin. Per-row work (the final
  division) is scaled with the computed pairs (≤ 1/head_dim of the per-pair work).
* Decode (``simulate_decode``): ``new_tokens`` query rows against the KV cache; no tile is fully
  masked (the last query row sees every key), so the causal decode step costs exactly its
  unmasked twin, which is what is simulated: one query tile, the 2D array's rows mostly idle,
  K and V read once per head.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache

from mappers.attention import AttentionLayer, build, count_traffic, search_design, traffic_bound
from mappers.attention.closed_form import active_tiles, closed_form_traffic
from mappers.attention.designs import flat as flat_mapping
from mappers.attention.mapping import AttentionMapping
from mappers.attention.search import softmax_row_block
from sim.attention_array.arch import (FLAT_SPILL_ROW_BLOCK, FUSEMAX, PRESETS, ArraySpec, EnergyTable,
                                      load_energy_table)
from sim.attention_array.pipeline import Op, simulate_uniform
from workloads import lower
from workloads.errors import SpecError
from workloads.models import get_model

DESIGNS = ("unfused", "flat", "flashattention2", "fusemax")
CASCADE = {"unfused": "3pass", "flat": "3pass", "flashattention2": "1pass", "fusemax": "1pass"}
MATRIX = ("QK", "AV", "SLNV")
BINDINGS = {
    "unfused": {"2d": ("QK", "AV"), "1d": ("GM", "SN", "SD", "A")},
    "flat": {"2d": ("QK", "AV"), "1d": ("GM", "SN", "SD", "A")},
    "flashattention2": {"2d": ("QK", "SLNV"),
                        "1d": ("LM", "RM", "SLN", "SLD", "PRM", "SPD", "RD", "SPNV", "RNV", "AV")},
    "fusemax": {"2d": ("QK", "LM", "SLN", "SLD", "SLNV", "SPNV", "RNV"),
                "1d": ("RM", "PRM", "SPD", "RD", "AV")},
}
UNFUSED_PASSES = {"qk": ("QK",), "max": ("GM",), "sum": ("SN", "SD"), "normalize": ("A",),
                  "softmax": ("GM", "SN", "SD", "A"), "pv": ("AV",)}
ENERGY_KIND = {"mac": "mac", "mul": "mac", "add": "add", "sub": "add", "max": "max", "exp": "exp",
               "div": "div", "rsqrt": "div", "gelu_tanh": "exp", "gelu": "exp",
               # a causal mask is an index compare and a select: the ERT's comparator + mux
               "mask": "max", "relu": "max",
               # SiLU = x·sigmoid(x): costed as one exp (the ERT has no sigmoid unit)
               "silu": "exp", "sqrt": "div", "reciprocal": "div", "neg": "add",
               "scale": "mac", "offset": "add"}
# FuseMax computes exp on its MAC PEs as 6 MACs + 1 add: 7 PE cycles, on both arrays
# (FuseMax artifact src/accel/proposal.py compute_cost of SLN and PRM); the subtraction of the
# running maximum is that add.
FUSEMAX_EXP_CYCLES = 7
# Designs whose 1D array is FLAT's softmax unit: one pipelined step per output element of each
# element-wise Einsum (sub feeding exp is one step; exp and divide are pipelined), artifact
# src/accel/stable_softmax.py compute_cost and "Multi-cycle operations (exp, div) can be pipelined";
# its exp unit costs ``exp_pipelined`` energy.
PIPELINED_1D = ("unfused", "flat", "flashattention2")
SKIPS_MASKED_TILES = ("flashattention2", "fusemax")
WINDOW_JOBS = 2
# Spilled FLAT keeps three query blocks in flight (K sweep, softmax read-back, V sweep); its
# per-block footprint (Q, O, statistics, one score and one probability tile) is under 1/3 of the
# buffer for every grid point (checked in ``simulate_attention``).
SPILL_WINDOW_JOBS = 3


@dataclass(frozen=True)
class CascadeRates:
    """Operations per (query, key) pair of each attention Einsum, by kind (``mac`` for a MAC)."""

    per_pair: dict[str, dict[str, float]]
    linear_macs: int
    linear_bytes: float
    other_ops: dict[str, int]


def _kinds(stats) -> dict[str, float]:
    ops = dict(stats.ops)
    if stats.macs:
        ops["mul"] = ops.get("mul", 0) - stats.macs
        ops["add"] = max(0, ops.get("add", 0) - stats.macs)
        ops["mac"] = stats.macs
    return {k: v for k, v in ops.items() if v > 0}


@lru_cache(maxsize=256)
def cascade_rates(model: str, seq_len: int, attention: str, block: int) -> CascadeRates:
    """Per-pair rates of one layer's attention Einsums, plus its linear layers' MACs and bytes."""
    spec = get_model(model)
    cascade = lower(spec, "prefill", 1, seq_len, attention=attention, layers=1,
                    block=min(block, seq_len), lm_head="none")
    pairs = spec.n_heads * seq_len * seq_len
    per_pair = {einsum.name.split(".", 1)[-1]: {k: v / pairs for k, v in _kinds(stats).items()}
                for einsum, stats in zip(cascade.einsums, cascade.stats) if einsum.group == "attention"}
    return CascadeRates(per_pair, *_non_attention_work(cascade))


def _non_attention_work(cascade) -> tuple[int, float, dict[str, int]]:
    """MACs and compulsory bytes of the cascade's matrix Einsums outside attention, and the
    operations by kind of its other (element-wise) Einsums."""
    macs, nbytes, other = 0, 0.0, {}
    for einsum, stats in zip(cascade.einsums, cascade.stats):
        if einsum.group == "attention":
            continue
        if stats.macs:
            macs += stats.macs
            nbytes += stats.total_read + stats.total_written
        else:
            for k, v in _kinds(stats).items():
                other[k] = other.get(k, 0) + v
    return macs, nbytes, other


def _linear_cost(macs: float, nbytes: float, other: dict[str, float], arch: ArraySpec,
                 energy: EnergyTable) -> tuple[int, float]:
    """Cycles and pJ of the layer's work outside attention: matrix Einsums on the 2D array at
    max(MACs / PEs, bytes / off-chip bandwidth), element-wise operations on the 1D array."""
    other_ops = sum(other.values())
    cycles = (max(math.ceil(macs / arch.pes_2d), math.ceil(nbytes / arch.offchip_bytes_per_cycle))
              + math.ceil(other_ops / arch.width_1d))
    actions = {"mac": macs, "dram_access": nbytes / energy.bytes_per_action["dram_access"],
               "rf_read": 2 * (macs + other_ops), "rf_write": macs + other_ops}
    for kind, n in other.items():
        key = ENERGY_KIND[kind]
        actions[key] = actions.get(key, 0.0) + n
    return cycles, sum(energy.energy_pj(actions).values())


@dataclass(frozen=True)
class StageRow:
    """One pass (stage) of a design: cycles and the utilization of each array during it."""

    stage: str
    cycles: int
    util_2d: float
    util_1d: float
    offchip_bytes: int


@dataclass(frozen=True)
class ArrayResult:
    """Simulated attention layer (all heads, whole batch) on one design."""

    design: str
    layer: AttentionLayer
    arch: ArraySpec
    mapping: AttentionMapping
    cycles: int
    ops_2d: float
    ops_1d: float
    stages: tuple[StageRow, ...]
    actions: dict[str, float]
    energy_pj_by_action: dict[str, float]
    lower_bound_bytes: float
    linear_cycles: int = 0
    linear_energy_pj: float = 0.0
    extra: dict = field(default_factory=dict)

    @property
    def energy_pj(self) -> float:
        return sum(self.energy_pj_by_action.values())

    @property
    def util_2d(self) -> float:
        return self.ops_2d / (self.arch.pes_2d * self.cycles)

    @property
    def util_1d(self) -> float:
        return self.ops_1d / (self.arch.width_1d * self.cycles)

    @property
    def traffic_bytes(self) -> int:
        """Exact off-chip bytes (closed form, proven equal to the loop-nest counter)."""
        return self.extra["traffic_bytes"]

    @property
    def seconds(self) -> float:
        return self.cycles / self.arch.clock_hz

    @property
    def end_to_end_cycles(self) -> int:
        return self.cycles + self.linear_cycles

    @property
    def end_to_end_energy_pj(self) -> float:
        return self.energy_pj + self.linear_energy_pj


def _largest_q_tile(fits, lo: int, hi: int) -> int | None:
    if lo < 1 or not fits(lo):
        return None
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if fits(mid) else (lo, mid - 1)
    return lo


def flat_mappings(layer: AttentionLayer, arch: ArraySpec) -> list[AttentionMapping]:
    """FLAT's two mappings (FuseMax artifact, data/pregenerated/flat_validation.csv): score rows on
    chip with the largest query block up to the array's rows that fits, and — when a full block
    does not fit — scores spilled off chip with ``FLAT_SPILL_ROW_BLOCK``-row query blocks. K/V tiles
    are the array's columns."""
    bc = min(arch.cols_2d, layer.n_kv)
    full = min(arch.rows_2d, layer.n_q)

    def fits(br: int, spill: bool = False) -> bool:
        try:
            flat_mapping(layer, arch.buffer_bytes, br, bc, spill=spill)
        except SpecError:
            return False
        return True
    out = []
    br = _largest_q_tile(fits, 1, full) if fits(1) else None
    if br is not None:
        out.append(flat_mapping(layer, arch.buffer_bytes, br, bc))
    spill_rows = min(FLAT_SPILL_ROW_BLOCK, layer.n_q)
    if br != full and fits(spill_rows, True):
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


def choose_mapping(design: str, layer: AttentionLayer, arch: ArraySpec | None = None
                   ) -> AttentionMapping:
    """FuseMax and FlashAttention-2 (Dao 2023, Alg. 1: outer loop over Q blocks, inner over K/V
    blocks): kv tile = array columns, the largest query tile the buffer holds (processed ``rows``
    query rows at a time); under a causal mask ``causal_mappings`` adds the array-rows query tile. FLAT: full query blocks with score rows on chip, else the faster (by
    ``_flat_bound_cycles``) of the largest block that fits and score spilling (``flat_mappings``).
    Unfused with spilled scores: K/V tiles of the array's columns, the largest query tile that
    fits, and the row-block softmax (``mappers.attention.search.softmax_row_block``: the
    artifact's unfused, 8 B per score). Otherwise (and for any design when those do not fit) the
    traffic-optimal tiling of ``mappers.attention.search``."""
    if design not in DESIGNS:
        raise SpecError(f"unknown design {design!r}; choose one of {', '.join(DESIGNS)}")
    arch = arch or PRESETS[design]
    if layer.causal and design not in SKIPS_MASKED_TILES:
        raise SpecError(f"{design} computes whole score rows: simulate its bidirectional twin")
    if design in ("fusemax", "flashattention2"):
        bc = min(arch.cols_2d, layer.n_kv)
        rows = min(arch.rows_2d, layer.n_q)
        br = _largest_q_tile(lambda t: design_fits(design, layer, arch.buffer_bytes, t, bc),
                             rows, layer.n_q)
        if br is not None:
            return build(design, layer, arch.buffer_bytes, br, bc)
    if design == "flat":
        options = flat_mappings(layer, arch)
        if options:
            return min(options, key=lambda m: _flat_bound_cycles(m, arch))
    if design == "unfused":
        rows = softmax_row_block(layer, arch.buffer_bytes, True)
        if rows:
            bc = min(arch.cols_2d, layer.n_kv)

            def fits(t: int) -> bool:
                try:
                    build(design, layer, arch.buffer_bytes, t, bc, softmax_rows=rows)
                except SpecError:
                    return False
                return True
            br = _largest_q_tile(fits, 1, layer.n_q)
            if br is not None:
                return build(design, layer, arch.buffer_bytes, br, bc, softmax_rows=rows)
    found = search_design(design, layer, arch.buffer_bytes, pack_heads=False)
    if found is None:
        raise SpecError(f"no tiling of {design} fits a {arch.buffer_bytes} B buffer")
    return found.mapping


def causal_mappings(design: str, layer: AttentionLayer, arch: ArraySpec) -> list[AttentionMapping]:
    """Under a causal mask, FlashAttention-2 and FuseMax have two candidate query tiles: the
    largest that fits (fewest K/V re-reads) and the array's rows (the granularity at which fully
    masked tiles are skipped, more K/V re-reads); the simulation keeps the faster."""
    out = [choose_mapping(design, layer, arch)]
    if design in SKIPS_MASKED_TILES:
        rows, bc = min(arch.rows_2d, layer.n_q), min(arch.cols_2d, layer.n_kv)
        if out[0].q_tile != rows and design_fits(design, layer, arch.buffer_bytes, rows, bc):
            out.append(build(design, layer, arch.buffer_bytes, rows, bc))
    return out


def design_fits(design: str, layer: AttentionLayer, buffer_bytes: int, q_tile: int,
                kv_tile: int) -> bool:
    try:
        build(design, layer, buffer_bytes, q_tile, kv_tile)
    except SpecError:
        return False
    return True


def fusemax_fits(layer: AttentionLayer, buffer_bytes: int, q_tile: int, kv_tile: int) -> bool:
    return design_fits("fusemax", layer, buffer_bytes, q_tile, kv_tile)


def _ops(rates: CascadeRates, names, pairs: float) -> dict[str, float]:
    out: dict[str, float] = {}
    for name in names:
        for kind, rate in rates.per_pair.get(name, {}).items():
            out[kind] = out.get(kind, 0.0) + rate * pairs
    return out


def einsum_slots(design: str, array: str, kinds: dict[str, float]) -> float:
    """PE cycles (issue slots) of one Einsum's operations ``kinds`` on ``array``: FuseMax's exp
    takes ``FUSEMAX_EXP_CYCLES`` (its subtraction included); FLAT's pipelined 1D softmax unit
    (``PIPELINED_1D``) issues one step per output element; otherwise one cycle per operation."""
    if design == "fusemax" and "exp" in kinds:
        rest = sum(v for k, v in kinds.items() if k not in ("sub", "exp"))
        return rest + FUSEMAX_EXP_CYCLES * kinds["exp"]
    if array == "1d" and design in PIPELINED_1D and kinds:
        return max(kinds.values())
    return sum(kinds.values())


def _slots(design: str, array: str, rates: CascadeRates, names, pairs: float) -> float:
    return sum(einsum_slots(design, array, {k: v * pairs for k, v in rates.per_pair.get(n, {}).items()})
               for n in names)


def _energy_actions(design: str, rates: CascadeRates, names, pairs: float) -> dict[str, float]:
    """Energy actions of Einsums: FuseMax's exp is the ``exp`` action (6 MACs + 1 add, its
    subtraction included); the pipelined softmax unit's is ``exp_pipelined``."""
    out: dict[str, float] = {}
    for name in names:
        kinds = rates.per_pair.get(name, {})
        for kind, rate in kinds.items():
            if design == "fusemax" and kind == "sub" and "exp" in kinds:
                continue
            key = ENERGY_KIND[kind]
            if key == "exp" and design in PIPELINED_1D:
                key = "exp_pipelined"
            out[key] = out.get(key, 0.0) + rate * pairs
    return out


def simulate_attention(design: str, layer: AttentionLayer, arch: ArraySpec | None = None, *,
                       model: str, energy: EnergyTable | None = None,
                       mapping: AttentionMapping | None = None) -> ArrayResult:
    """Simulate one attention layer; ``model`` names the preset whose cascade gives op counts.
    ``arch`` defaults to the design's iso-area preset (``arch.PRESETS``: FLAT gets 32 MiB)."""
    arch = arch or PRESETS.get(design, FUSEMAX)
    energy = energy or load_energy_table()
    if layer.causal and design not in SKIPS_MASKED_TILES:
        twin = simulate_attention(design, replace(layer, causal=False), arch, model=model,
                                  energy=energy, mapping=mapping)
        return replace(twin, layer=layer,
                       lower_bound_bytes=traffic_bound(layer, arch.buffer_bytes).lower_bound_bytes)
    if mapping is None and layer.causal:
        options = causal_mappings(design, layer, arch)
        if len(options) > 1:
            return min((simulate_attention(design, layer, arch, model=model, energy=energy,
                                           mapping=m) for m in options),
                       key=lambda r: r.cycles)
    if mapping is None and design == "flat" and not layer.causal:
        options = flat_mappings(layer, arch)
        if len(options) > 1:
            return min((simulate_attention(design, layer, arch, model=model, energy=energy,
                                           mapping=m) for m in options),
                       key=lambda r: r.cycles)
    mapping = mapping or choose_mapping(design, layer, arch)
    br, bc = mapping.q_tile, mapping.kv_tile
    rates = cascade_rates(model, layer.n_q if layer.n_q == layer.n_kv else layer.n_kv,
                          CASCADE[design], bc)
    bind = BINDINGS[design]
    inst = layer.instances
    b = layer.bytes_per_element
    bw = arch.offchip_bytes_per_cycle
    nq = math.ceil(layer.n_q / br)
    nk = math.ceil(layer.n_kv / bc)
    tiles = active_tiles(layer, br, bc, mapping.skip_masked) if design in SKIPS_MASKED_TILES else nq * nk
    pairs_total = (closed_form_traffic(design, layer, br, bc, mapping.skip_masked,
                                       mapping.buffer_bytes).computed_pairs // inst
                   if design in SKIPS_MASKED_TILES else layer.n_q * layer.n_kv)
    usable = lambda rows, cols: min(rows, arch.rows_2d) * min(cols, arch.cols_2d)  # noqa: E731

    def cyc(n: float, per_cycle: float) -> int:
        return math.ceil(n / per_cycle - 1e-9) if n > 0 else 0

    def slots(array: str, names) -> float:
        return _slots(design, array, rates, names, pairs_total)

    stages: list[StageRow] = []
    total_cycles = 0
    glb_bytes_total = 0.0
    total_traffic = mapping_traffic_bytes(mapping)
    per_pass = ([count_traffic((nest,), layer, skip_masked=mapping.skip_masked).total_bytes
                 for nest in mapping.nests] if len(mapping.nests) > 1 else [total_traffic])

    def run(stage, jobs, dram_bytes, glb_bytes, slots2d, slots1d, rows, cols, order,
            dram_split=None):
        nonlocal total_cycles, glb_bytes_total
        d_c = cyc(dram_bytes / jobs, bw)
        gbw = arch.buffer_bytes_per_cycle
        share = glb_bytes / jobs / (len(slots2d) + (1 if slots1d else 0))
        c2 = [max(cyc(o / jobs, usable(rows, cols)), cyc(share, gbw)) for o in slots2d]
        c1 = max(cyc(slots1d / jobs, arch.width_1d), cyc(share, gbw)) if slots1d else 0

        d_parts = [cyc(x / jobs, bw) for x in dram_split] if dram_split else []

        def spill_stage(j, n):
            """Step j of spilled FLAT's three-deep software pipeline: the K sweep of block j, the
            softmax read-back of block j − 1 and the V sweep of block j − 2."""
            out = []
            if j < n:
                out += [Op(j, "dram", d_parts[0]), Op(j, "2d", c2[0])]
            if 0 <= j - 1 < n:
                out += [Op(j - 1, "dram", d_parts[1]), Op(j - 1, "1d", c1)]
            if 0 <= j - 2 < n:
                out += [Op(j - 2, "dram", d_parts[2]), Op(j - 2, "2d", c2[1])]
            return out

        def make(n):
            seq = []
            for j in range(n):
                body = [Op(j, "dram", d_c)]
                if order == "fused_2d_then_1d":
                    body += [Op(j, "2d", c2[0]), Op(j, "1d", c1)]
                    seq += body
                elif order == "softpipe":
                    seq += body + [Op(j, "2d", c2[0])]
                    if j > 0:
                        seq += [Op(j - 1, "1d", c1), Op(j - 1, "2d", c2[1])]
                    if j == n - 1:
                        seq += [Op(j, "1d", c1), Op(j, "2d", c2[1])]
                elif order == "softpipe_spill":
                    seq += spill_stage(j, n)
                elif order == "1d":
                    seq += body + [Op(j, "1d", c1)]
                else:
                    seq += body + [Op(j, "2d", c2[0])]
            if order == "softpipe_spill":
                for j in range(n, n + 2):
                    seq += spill_stage(j, n)
            return seq
        res = simulate_uniform(make, jobs, SPILL_WINDOW_JOBS if order == "softpipe_spill"
                               else WINDOW_JOBS)
        cycles = res.cycles * inst
        o2 = sum(slots2d) * inst
        o1 = slots1d * inst
        stages.append(StageRow(stage, cycles, o2 / (arch.pes_2d * cycles) if cycles else 0.0,
                               o1 / (arch.width_1d * cycles) if cycles else 0.0,
                               int(dram_bytes * inst)))
        total_cycles += cycles
        glb_bytes_total += glb_bytes * inst

    spilled = design == "unfused" and len(mapping.nests) > 1
    score_glb = 4 * b * pairs_total
    if design == "unfused" and spilled:
        for nest, nbytes in zip(mapping.nests, per_pass):
            names = UNFUSED_PASSES[nest.name]
            on2d = names[0] in MATRIX
            dram = nbytes / inst
            # matrix passes stream (q, kv) tiles; softmax passes walk query-row blocks
            if on2d:
                jobs, cols = nq * nk, bc
            elif mapping.softmax_rows:
                jobs, cols = math.ceil(layer.n_q / mapping.softmax_rows), layer.n_kv
            else:
                jobs, cols = nq, layer.n_kv
            run(nest.name, jobs, dram, 2 * dram, [slots("2d", names)] if on2d else [],
                0.0 if on2d else slots("1d", names), br, cols, "2d" if on2d else "1d")
    elif design in ("unfused", "flat"):
        dram = per_pass[0] / inst
        operands = 2 * dram + score_glb
        if flat_is_spilled(mapping):
            if SPILL_WINDOW_JOBS * mapping.footprint_bytes > arch.buffer_bytes:
                raise SpecError("spilled FLAT: three query blocks do not fit the buffer")
            rd, wr = mapping.traffic.read_bytes, mapping.traffic.write_bytes
            split = [(rd.get("Q", 0) + rd.get("K", 0) + wr.get("S", 0)) / inst,
                     (rd.get("S", 0) + wr.get("P", 0)) / inst,
                     (rd.get("P", 0) + rd.get("V", 0) + wr.get("O", 0)) / inst]
            run("fused_spill", nq, dram, operands, [slots("2d", ("QK",)), slots("2d", ("AV",))],
                slots("1d", bind["1d"]), br, layer.n_kv, "softpipe_spill", split)
        else:
            run("fused" if design == "flat" else "on_chip", nq if design == "flat" else 1, dram,
                operands, [slots("2d", ("QK",)), slots("2d", ("AV",))], slots("1d", bind["1d"]),
                br, layer.n_kv, "softpipe")
    elif design == "flashattention2":
        dram = per_pass[0] / inst
        run("fused", tiles, dram, 2 * dram + score_glb,
            [slots("2d", ("QK",)), slots("2d", ("SLNV",))], slots("1d", bind["1d"]), br, bc,
            "softpipe")
    else:
        dram = per_pass[0] / inst
        run("fused", tiles, dram, 2 * dram, [slots("2d", bind["2d"])], slots("1d", bind["1d"]),
            br, bc, "fused_2d_then_1d")

    actions: dict[str, float] = {}
    for key, n in _energy_actions(design, rates, bind["2d"] + bind["1d"], pairs_total).items():
        actions[key] = actions.get(key, 0.0) + n * inst
    n_ops = sum(_ops(rates, bind["2d"] + bind["1d"], pairs_total).values())
    traffic = total_traffic
    actions["rf_read"] = 2 * n_ops * inst
    actions["rf_write"] = n_ops * inst
    actions["dram_access"] = traffic / energy.bytes_per_action["dram_access"]
    actions["glb_read"] = glb_bytes_total / 2 / energy.bytes_per_action["glb_read"]
    actions["glb_write"] = glb_bytes_total / 2 / energy.bytes_per_action["glb_write"]
    bound = traffic_bound(layer, arch.buffer_bytes).lower_bound_bytes
    return ArrayResult(design, layer, arch, mapping, total_cycles,
                       slots("2d", bind["2d"]) * inst, slots("1d", bind["1d"]) * inst,
                       tuple(stages), actions, energy.energy_pj(actions), bound,
                       extra={"traffic_bytes": total_traffic})


def layer_for(model: str, seq_len: int, batch: int = 64, bytes_per_element: int = 2
              ) -> AttentionLayer:
    """The attention layer of a model preset (FuseMax's workloads use batch 64)."""
    spec = get_model(model)
    return AttentionLayer(n_q=seq_len, n_kv=seq_len, head_dim=spec.d_head, batch=batch,
                          heads=spec.n_heads, kv_heads=spec.n_kv_heads,
                          bytes_per_element=bytes_per_element)


def simulate_model(design: str, model: str, seq_len: int, *, batch: int = 64,
                   arch: ArraySpec | None = None, energy: EnergyTable | None = None,
                   causal: bool = False) -> ArrayResult:
    """Attention plus end to end: the linear layers (QKV, output projection, FFN; MACs from the
    lowered cascade) run on the 2D array at max(MACs / PEs, compulsory bytes / bandwidth) cycles,
    the remaining element-wise work (norms, residuals, activation) on the 1D array; the same for
    every design. ``arch`` defaults to the design's iso-area preset (``arch.PRESETS``). ``causal``:
    a decoder's prefill (see the module docstring for which designs skip masked tiles)."""
    arch = arch or PRESETS.get(design, FUSEMAX)
    energy = energy or load_energy_table()
    layer = replace(layer_for(model, seq_len, batch, arch.bytes_per_element), causal=causal)
    res = simulate_attention(design, layer, arch, model=model, energy=energy)
    rates = cascade_rates(model, seq_len, CASCADE[design], res.mapping.kv_tile)
    lin_cycles, lin_energy = _linear_cost(rates.linear_macs * batch, rates.linear_bytes * batch,
                                          {k: v * batch for k, v in rates.other_ops.items()}, arch, energy)
    return ArrayResult(res.design, res.layer, res.arch, res.mapping, res.cycles, res.ops_2d,
                       res.ops_1d, res.stages, res.actions, res.energy_pj_by_action,
                       res.lower_bound_bytes, lin_cycles, lin_energy, res.extra)


def simulate_decode(design: str, model: str, kv_len: int, *, new_tokens: int = 1, batch: int = 1,
                    arch: ArraySpec | None = None, energy: EnergyTable | None = None
                    ) -> ArrayResult:
    """One decode step: ``new_tokens`` query rows per sequence attend over ``kv_len`` cached plus
    the new keys, and the step's linear layers (MACs and bytes of the lowered decode cascade,
    weights read once for the whole batch) run at max(MACs / PEs, bytes / bandwidth) on the 2D
    array, element-wise work on the 1D array."""
    arch = arch or PRESETS.get(design, FUSEMAX)
    energy = energy or load_energy_table()
    spec = get_model(model)
    if spec.kind != "decoder":
        raise SpecError(f"model {spec.name} is an {spec.kind} model; decode needs a decoder")
    layer = AttentionLayer(n_q=new_tokens, n_kv=kv_len + new_tokens, head_dim=spec.d_head,
                           batch=batch, heads=spec.n_heads, kv_heads=spec.n_kv_heads,
                           bytes_per_element=arch.bytes_per_element)
    res = simulate_attention(design, layer, arch, model=model, energy=energy)
    cascade = lower(spec, "decode", batch, kv_len + new_tokens, kv_len=kv_len,
                    attention=CASCADE[design], new_tokens=new_tokens, layers=1, lm_head="none")
    lin_cycles, lin_energy = _linear_cost(*_non_attention_work(cascade), arch, energy)
    return replace(res, linear_cycles=lin_cycles, linear_energy_pj=lin_energy)

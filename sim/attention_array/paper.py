"""Paper-mode accounting of FuseMax, FLAT and unfused attention: the analytical rules of the FuseMax artifact
(Nayak et al., MICRO 2024; repo FPSG-UIUC/micro24-fusemax-artifact), kept separate from the
cycle-level model in ``model.py``.

What is modeled (artifact file for each rule)
* Latency per Einsum = elements × (sum of its compute-cost multipliers) / PEs of the array it is
  bound to, at 940 MHz (``src/accel/cascade.py`` ``collect_latency``; ``proposal.py``
  ``eval_per_einsum`` multiplies by ``sum(compute_cost)``). FuseMax's exp costs 6 MACs + 1 add, i.e.
  7 PE cycles, on the 2D array (SLN) and on the 1D array (PRM) (``proposal.py`` ``compute_cost``).
* FuseMax: 2D array runs QK, LM, SLN, SLD, SLNV over (query, key) pairs; the 1D array runs RM, PRM,
  SPD, RD, SPNV, RNV once per query row and 256-key block (SPNV and RNV once per value column too)
  and the final division AV once per output element. Compute latency follows the artifact's
  waterfall: ``max(QK+LM, RD+RNV+AV) + RM + max(SLN+SLD, PRM+SPD) + max(SLNV, SPNV)``; latency
  ``max(compute, memory)`` (``proposal.py`` ``eval``).
* FuseMax traffic: Q read and O written once; K and V re-read once per group of ``P1`` 256-row
  query blocks, ``P1`` the largest divisor of ``N/256`` not above what a 16 MB buffer holds
  (``proposal.py`` ``__init__``).
* FLAT: QK and AV on the 2D array (E MACs per pair each); the 1D array runs the four softmax
  Einsums M, SN, SD, A at one element per PE per cycle each — exp and divide are pipelined, so SN
  costs one cycle (``stable_softmax.py`` ``eval_components``); latency ``max(memory, 2D, 1D)``
  (``flat.py`` ``eval``). FLAT's buffer is 32 MB (``flat.py``, cloud), FuseMax's 16 MB
  (``proposal.py``): the artifact's iso-area comparison.
* FLAT traffic: while the score rows of one 256-row query block fit FLAT's buffer, Q, K and V are
  each read once per 256-element tile of the other sequence and O written once (the artifact's
  output-stationary, on-chip-score configurations, ``data/pregenerated/flat_validation.csv``);
  beyond that, scores and probabilities are written to and read back from DRAM (2 B each way) and K,
  V are re-read per 1024-row query block (the CSV's weight-stationary ``P1 = 1024`` rows).
  The partial spilling the artifact uses at exactly the boundary (128K) is not modeled.
* Energy = actions × the artifact's ERT (compute with the same cost multipliers, FLAT's pipelined
  exp unit at 94.6475 pJ from ``yamls/area_energy/outputs-1d-flat/ERT_summary_verbose.yaml``,
  DRAM per 8 B, global buffer per 512-B row for the off-chip tensors' staging). Register files and
  leakage are not modeled.
* Unfused (``unfused.py``, ``attn-unfused.csv``): three Einsum groups run one after another,
  each ``max(memory, compute)`` (``Unfused.eval``: ``qk_lat + av_lat + ss_lat``): QK on the 2D
  array (E MACs per pair) reading Q, K and writing the scores; the softmax (``StableSoftmax``,
  unfused, with the 32 MB buffer: a score row fits, so S is read once and A written once) on the
  1D array at FLAT's four steps per score; AV on the 2D array reading A and V and writing O. Off
  chip: 2 B per score each way for S and for A plus Q, K, V, O once — 8 B per score, which
  equals ``attn-unfused.csv`` at every point. Energy as FLAT's (same softmax unit) plus the traffic.
* End to end (one layer): attention plus the linear layers at MACs / 2D PEs cycles, or the
  compulsory weight and activation traffic at 400 GiB/s if slower, as the artifact's
  ``end2end-*.csv`` latencies are (``paper_linear``). The MACs and bytes are the cascade's (its
  non-attention Einsums that read a weight: QKV, output projection, FFN or SwiGLU MLP), so GQA and
  gated MLPs count what they compute; for the artifact's encoders this is its 4d² + 2d·ff per token.
* Shapes come from the cascade (``plan.AttentionShape``); paper mode ignores the causal mask (the
  artifact models bidirectional attention only).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from sim.attention_array.arch import (FLAT_BUFFER_BYTES, FLAT_SPILL_ROW_BLOCK, FUSEMAX, ArraySpec,
                                      EnergyTable, load_energy_table)
from sim.attention_array.plan import AttentionShape, EndToEnd
from workloads.errors import SpecError

# Pipelined exponential unit of FLAT's 1D array (outputs-1d-flat/ERT_summary_verbose.yaml).
FLAT_EXP_PJ = 94.6475
# FuseMax's exp as 6 MACs + 1 add (src/accel/proposal.py compute_cost of SLN and PRM).
FUSEMAX_EXP_COST = {"mac": 6, "add": 1}


@dataclass(frozen=True)
class PaperResult(EndToEnd):
    """Latency, energy and traffic of one attention layer (all heads, whole batch) in paper mode."""

    design: str
    seq_len: int
    batch: int
    cycles: float
    cycles_2d: float
    cycles_1d: float
    memory_cycles: float
    traffic_bytes: float
    energy_pj: float
    per_einsum_cycles: dict
    linear_cycles: float = 0.0
    linear_energy_pj: float = 0.0
    clock_hz: float = FUSEMAX.clock_hz

    @property
    def seconds(self) -> float:
        return self.cycles / self.clock_hz

    @property
    def util_2d(self) -> float:
        return self.cycles_2d / self.cycles

    @property
    def util_1d(self) -> float:
        return self.cycles_1d / self.cycles


@dataclass(frozen=True)
class PaperCost:
    """What one design's accounting returns: cycles per Einsum, compute cycles (its waterfall),
    2D and 1D busy cycles, off-chip bytes and compute energy (pJ, traffic not included)."""

    per_einsum: dict
    compute: float
    cycles_2d: float
    cycles_1d: float
    traffic: float
    energy_pj: float
    memory_overlaps: bool = True


def _divisors_desc(n: int) -> list[int]:
    small = [i for i in range(1, math.isqrt(n) + 1) if n % i == 0]
    return sorted(set(small + [n // i for i in small]), reverse=True)


def fusemax_row_blocks(seq_len: int, e: int, f: int, arch: ArraySpec) -> int:
    """P1: 256-row query blocks resident at once (K/V re-read N / (P1 × 256) times)."""
    kv_tile_bytes = arch.cols_2d * (e + f) * arch.bytes_per_element
    per_row = (e + 1 + 1 + f) * arch.bytes_per_element
    fit = (arch.buffer_bytes - kv_tile_bytes) // (per_row * arch.rows_2d)
    blocks = max(1, seq_len // arch.rows_2d)
    limit = min(fit, blocks)
    if limit < 1:
        raise SpecError(f"paper mode: a {arch.buffer_bytes} B buffer holds no 256-row query block")
    return next(d for d in _divisors_desc(blocks) if d <= limit)


def fusemax_paper(shape: AttentionShape, arch: ArraySpec, pj: dict, flat_buffer_bytes: int) -> PaperCost:
    """FuseMax (``proposal.py``): the waterfall of its 2D and 1D Einsums; K/V re-read per P1 blocks."""
    e = f = shape.head_dim
    inst, n = shape.instances, shape.n_q
    pairs = inst * n * n
    pes, width = arch.pes_2d, arch.width_1d
    rows_blocks = pairs / arch.cols_2d
    c = {"QK": e * pairs / pes, "LM": pairs / pes, "SLN": 7 * pairs / pes, "SLD": pairs / pes,
         "SLNV": f * pairs / pes, "RM": rows_blocks / width, "PRM": 7 * rows_blocks / width,
         "SPD": rows_blocks / width, "RD": rows_blocks / width,
         "SPNV": f * rows_blocks / width, "RNV": f * rows_blocks / width,
         "AV": inst * n * f / width}
    comp = (max(c["QK"] + c["LM"], c["RD"] + c["RNV"] + c["AV"]) + c["RM"]
            + max(c["SLN"] + c["SLD"], c["PRM"] + c["SPD"]) + max(c["SLNV"], c["SPNV"]))
    two_d = sum(c[k] for k in ("QK", "LM", "SLN", "SLD", "SLNV"))
    one_d = sum(c[k] for k in ("RM", "PRM", "SPD", "RD", "SPNV", "RNV", "AV"))
    passes = n // (fusemax_row_blocks(n, e, f, arch) * arch.rows_2d)
    traffic = inst * n * arch.bytes_per_element * (e + f + passes * (e + f))
    macs = pairs * (e + f + 6) + rows_blocks * (6 + 1 + f)
    adds = pairs * 2 + rows_blocks * (1 + 1 + f)
    e_pj = (macs * pj["mac"] + adds * pj["add"] + pairs * pj["max"] + rows_blocks * pj["max"]
            + inst * n * f * pj["div"])
    return PaperCost(c, comp, two_d, one_d, traffic, e_pj)


def _softmax_3pass(shape: AttentionShape, arch: ArraySpec, pj: dict) -> tuple[dict, float, float, float]:
    """QK and AV on the 2D array, M, SN, SD, A one step per score on the 1D array; compute energy
    with FLAT's pipelined exp unit."""
    e = f = shape.head_dim
    pairs = shape.instances * shape.n_q * shape.n_q
    pes, width = arch.pes_2d, arch.width_1d
    c = {"QK": e * pairs / pes, "AV": f * pairs / pes, "M": pairs / width,
         "SN": pairs / width, "SD": pairs / width, "A": pairs / width}
    e_pj = (pairs * (e + f) * pj["mac"] + pairs * 2 * pj["add"] + pairs * pj["max"]
            + pairs * FLAT_EXP_PJ + pairs * pj["div"])
    return c, c["QK"] + c["AV"], c["M"] + c["SN"] + c["SD"] + c["A"], e_pj


def unfused_paper(shape: AttentionShape, arch: ArraySpec, pj: dict, flat_buffer_bytes: int) -> PaperCost:
    """Unfused (``unfused.py``): QK, softmax and AV one after another, each max(memory, compute)."""
    c, two_d, one_d, e_pj = _softmax_3pass(shape, arch, pj)
    e = f = shape.head_dim
    inst, n, b = shape.instances, shape.n_q, arch.bytes_per_element
    pairs, bw = inst * n * n, arch.offchip_bytes_per_cycle
    qk_bytes = inst * n * b * 2 * e + pairs * b
    ss_bytes = pairs * 2 * b
    av_bytes = inst * n * b * 2 * f + pairs * b
    comp = max(c["QK"], qk_bytes / bw) + max(one_d, ss_bytes / bw) + max(c["AV"], av_bytes / bw)
    return PaperCost(c, comp, two_d, one_d, qk_bytes + ss_bytes + av_bytes, e_pj, memory_overlaps=False)


def flat_paper(shape: AttentionShape, arch: ArraySpec, pj: dict, flat_buffer_bytes: int) -> PaperCost:
    """FLAT (``flat.py``): max(2D, 1D); scores on chip while a 256-row block's rows fit, else spilled."""
    c, two_d, one_d, e_pj = _softmax_3pass(shape, arch, pj)
    e = f = shape.head_dim
    inst, n, b = shape.instances, shape.n_q, arch.bytes_per_element
    if arch.rows_2d * n * b <= flat_buffer_bytes:
        traffic = inst * b * (n * (e + e + f) * (n / arch.rows_2d) + n * f)
    else:
        traffic = (inst * b * (n * e + n * f + n * (e + f) * n / FLAT_SPILL_ROW_BLOCK)
                   + inst * n * n * 4 * b)
    return PaperCost(c, max(two_d, one_d), two_d, one_d, traffic, e_pj)


def check_paper(design: str, seq_len: int, arch: ArraySpec) -> None:
    """Reject a design without paper accounting, or a sequence length the artifact cannot tile."""
    from sim.attention_array.dataflows import PAPER_DESIGNS
    if design not in PAPER_DESIGNS:
        raise SpecError(f"paper mode models {', '.join(PAPER_DESIGNS)}, not {design!r}")
    if seq_len < arch.cols_2d or seq_len % arch.cols_2d:
        raise SpecError(f"paper mode needs a sequence length that is a multiple of "
                        f"{arch.cols_2d}, got {seq_len}")


def paper_attention(design: str, shape: AttentionShape, arch: ArraySpec = FUSEMAX,
                    energy: EnergyTable | None = None,
                    flat_buffer_bytes: int = FLAT_BUFFER_BYTES) -> PaperResult:
    """One attention layer of ``shape`` (query length = key length) under the artifact's accounting."""
    from sim.attention_array.dataflows import dataflow
    check_paper(design, shape.n_q, arch)
    energy = energy or load_energy_table()
    pj = energy.per_action_pj
    cost = dataflow(design).paper(shape, arch, pj, flat_buffer_bytes)
    dram_pj_per_byte = pj["dram_access"] / energy.bytes_per_action["dram_access"]
    glb_pj_per_byte = (pj["glb_read"] + pj["glb_write"]) / 2 / energy.bytes_per_action["glb_read"]
    memory = cost.traffic / arch.offchip_bytes_per_cycle
    e_pj = cost.energy_pj + cost.traffic * (dram_pj_per_byte + glb_pj_per_byte)
    cycles = max(cost.compute, memory) if cost.memory_overlaps else cost.compute
    return PaperResult(design, shape.n_q, shape.batch, cycles, cost.cycles_2d, cost.cycles_1d, memory,
                       cost.traffic, e_pj, cost.per_einsum, clock_hz=arch.clock_hz)


def paper_linear(macs: float, nbytes: float, arch: ArraySpec, energy: EnergyTable) -> tuple[float, float]:
    """Cycles and pJ of linear layers in paper mode: max(MACs / 2D PEs, bytes / off-chip bandwidth);
    MAC energy plus DRAM energy of the bytes."""
    cycles = max(macs / arch.pes_2d, nbytes / arch.offchip_bytes_per_cycle)
    pj = energy.per_action_pj
    return cycles, macs * pj["mac"] + nbytes * pj["dram_access"] / energy.bytes_per_action["dram_access"]

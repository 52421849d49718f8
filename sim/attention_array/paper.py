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
* End to end (one layer): attention plus the linear layers (QKV, output projection, FFN) at
  MACs / 2D PEs cycles, or the compulsory weight and activation traffic at 400 GiB/s if slower,
  as the artifact's ``end2end-*.csv`` latencies are.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from sim.attention_array.arch import (FLAT_BUFFER_BYTES, FLAT_SPILL_ROW_BLOCK, FUSEMAX, ArraySpec,
                                      EnergyTable, load_energy_table)
from workloads.errors import SpecError
from workloads.models import get_model

PAPER_DESIGNS = ("unfused", "flat", "fusemax")
# Pipelined exponential unit of FLAT's 1D array (outputs-1d-flat/ERT_summary_verbose.yaml).
FLAT_EXP_PJ = 94.6475
# FuseMax's exp as 6 MACs + 1 add (src/accel/proposal.py compute_cost of SLN and PRM).
FUSEMAX_EXP_COST = {"mac": 6, "add": 1}


@dataclass(frozen=True)
class PaperResult:
    """Latency, energy and traffic of one attention layer (all heads, whole batch) in paper mode."""

    design: str
    model: str
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

    @property
    def end_to_end_cycles(self) -> float:
        return self.cycles + self.linear_cycles

    @property
    def end_to_end_energy_pj(self) -> float:
        return self.energy_pj + self.linear_energy_pj


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


def _check(design: str, seq_len: int, arch: ArraySpec) -> None:
    if design not in PAPER_DESIGNS:
        raise SpecError(f"paper mode models {', '.join(PAPER_DESIGNS)}, not {design!r}")
    if seq_len < arch.cols_2d or seq_len % arch.cols_2d:
        raise SpecError(f"paper mode needs a sequence length that is a multiple of "
                        f"{arch.cols_2d}, got {seq_len}")


def paper_attention(design: str, model: str, seq_len: int, *, batch: int = 64,
                    arch: ArraySpec = FUSEMAX, energy: EnergyTable | None = None,
                    flat_buffer_bytes: int = FLAT_BUFFER_BYTES) -> PaperResult:
    """One attention layer of ``model`` at ``seq_len`` under the artifact's accounting."""
    _check(design, seq_len, arch)
    energy = energy or load_energy_table()
    spec = get_model(model)
    e = f = spec.d_head
    inst = batch * spec.n_heads
    n = seq_len
    pairs = inst * n * n
    b = arch.bytes_per_element
    pes, width = arch.pes_2d, arch.width_1d
    bw = arch.offchip_bytes_per_cycle
    pj = energy.per_action_pj
    dram_pj_per_byte = pj["dram_access"] / energy.bytes_per_action["dram_access"]
    glb_pj_per_byte = (pj["glb_read"] + pj["glb_write"]) / 2 / energy.bytes_per_action["glb_read"]
    if design == "fusemax":
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
        p1 = fusemax_row_blocks(n, e, f, arch)
        passes = n // (p1 * arch.rows_2d)
        traffic = inst * n * b * (e + f + passes * (e + f))
        macs = pairs * (e + f + 6) + rows_blocks * (6 + 1 + f)
        adds = pairs * 2 + rows_blocks * (1 + 1 + f)
        e_pj = (macs * pj["mac"] + adds * pj["add"] + pairs * pj["max"] + rows_blocks * pj["max"]
                + inst * n * f * pj["div"])
    elif design == "unfused":
        c = {"QK": e * pairs / pes, "AV": f * pairs / pes, "M": pairs / width,
             "SN": pairs / width, "SD": pairs / width, "A": pairs / width}
        two_d = c["QK"] + c["AV"]
        one_d = c["M"] + c["SN"] + c["SD"] + c["A"]
        qk_bytes = inst * n * b * 2 * e + pairs * b
        ss_bytes = pairs * 2 * b
        av_bytes = inst * n * b * 2 * f + pairs * b
        comp = (max(c["QK"], qk_bytes / bw) + max(one_d, ss_bytes / bw)
                + max(c["AV"], av_bytes / bw))
        traffic = qk_bytes + ss_bytes + av_bytes
        e_pj = (pairs * (e + f) * pj["mac"] + pairs * 2 * pj["add"] + pairs * pj["max"]
                + pairs * FLAT_EXP_PJ + pairs * pj["div"])
    else:
        c = {"QK": e * pairs / pes, "AV": f * pairs / pes, "M": pairs / width,
             "SN": pairs / width, "SD": pairs / width, "A": pairs / width}
        two_d = c["QK"] + c["AV"]
        one_d = c["M"] + c["SN"] + c["SD"] + c["A"]
        comp = max(two_d, one_d)
        if arch.rows_2d * n * b <= flat_buffer_bytes:
            tile = arch.rows_2d
            traffic = inst * b * (n * (e + e + f) * (n / tile) + n * f)
            score_dram = 0.0
        else:
            score_dram = pairs * 4 * b
            traffic = (inst * b * (n * e + n * f + n * (e + f) * n / FLAT_SPILL_ROW_BLOCK)
                       + score_dram)
        e_pj = (pairs * (e + f) * pj["mac"] + pairs * 2 * pj["add"] + pairs * pj["max"]
                + pairs * FLAT_EXP_PJ + pairs * pj["div"])
    memory = traffic / bw
    e_pj += traffic * (dram_pj_per_byte + glb_pj_per_byte)
    cycles = comp if design == "unfused" else max(comp, memory)
    return PaperResult(design, model, n, batch, cycles, two_d, one_d, memory, traffic,
                       e_pj, c, clock_hz=arch.clock_hz)


def paper_model(design: str, model: str, seq_len: int, *, batch: int = 64,
                arch: ArraySpec = FUSEMAX, energy: EnergyTable | None = None) -> PaperResult:
    """Attention plus the layer's linear layers (QKV, output projection, FFN), paper mode."""
    energy = energy or load_energy_table()
    res = paper_attention(design, model, seq_len, batch=batch, arch=arch, energy=energy)
    spec = get_model(model)
    tokens = batch * seq_len
    d, ff = spec.d_model, spec.d_ff
    macs = tokens * (4 * d * d + 2 * d * ff)
    nbytes = arch.bytes_per_element * (4 * d * d + 2 * d * ff + tokens * (6 * d + 2 * ff))
    cycles = max(macs / arch.pes_2d, nbytes / arch.offchip_bytes_per_cycle)
    pj = energy.per_action_pj
    lin_e = macs * pj["mac"] + nbytes * pj["dram_access"] / energy.bytes_per_action["dram_access"]
    return PaperResult(res.design, res.model, res.seq_len, res.batch, res.cycles, res.cycles_2d,
                       res.cycles_1d, res.memory_cycles, res.traffic_bytes, res.energy_pj,
                       res.per_einsum_cycles, cycles, lin_e, res.clock_hz)

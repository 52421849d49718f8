"""Run a model's matrix Einsums on a BitMoD-paper accelerator, in `paper` or `cycle` mode.

* `paper`: `sim.bitserial.paper.paper_gemm` per GEMM — the paper's analytical accounting;
* `cycle`: the GEMM's buffer-level schedule (`schedule.tile_schedule`) stepped through by
  `sim.bitserial.engine.step_schedule` — double buffering, refetch, fill/stall/drain.

Tasks (paper §VI): `discriminative` = prefill of 256 tokens; `generative` = that prefill plus 20
decode steps at a 256-token context, both on the generative array configuration. A decode
step's cost is identical for all 20 steps (fixed context), so it is simulated once and weighted.
"""
from __future__ import annotations

from functools import lru_cache

import pandas as pd

from mappers.bitserial.gemm import Gemm, extract_gemms
from mappers.bitserial.schedule import buffer_blocks, tile_schedule
from sim.bitserial import energy
from sim.bitserial.dram_timing import DramBus
from sim.bitserial.engine import step_schedule, step_schedule_bus
from sim.bitserial.paper import paper_gemm
from sim.bitserial.presets import ACCELS, DECODE_TOKENS, MODELS, SEQ_LEN, accelerator
from sim.bitserial.spec import AcceleratorSpec
from workloads import get_model, lower
from workloads.errors import SpecError

MODES = ("paper", "cycle")
COLUMNS = ("phase", "name", "group", "layer", "weight", "cycles", "compute_cycles", "fill_cycles", "stall_cycles",
           "drain_cycles", "dram_bytes", "energy_compute_pj", "energy_sram_pj", "energy_dram_pj")


@lru_cache(maxsize=64)
def model_gemms(model: str, phase: str, seq_len: int = SEQ_LEN, layers: int | None = None) -> tuple[Gemm, ...]:
    """The matrix Einsums of `model` for `phase` (prefill of `seq_len` tokens, or one decode
    token at a `seq_len`-token context), batch 1."""
    spec = get_model(model)
    if phase == "prefill":
        cascade = lower(spec, "prefill", batch=1, seq_len=seq_len, layers=layers)
    elif phase == "decode":
        cascade = lower(spec, "decode", batch=1, seq_len=1, kv_len=seq_len - 1, layers=layers)
    else:
        raise SpecError(f"phase {phase!r} is not known; choose prefill or decode")
    return tuple(extract_gemms(cascade))


def _command_level(sched: dict, accel: AcceleratorSpec):
    """Step the schedule with every transfer timed by the command-level DRAM model: per step,
    the weight block then the input block are loaded, the output block stored
    (`sim.bitserial.dram_timing`)."""
    bus = DramBus(accel.dram.model, accel.clock_ghz)
    loads = [((w, False), (i, False)) for w, i in zip(sched["weight_load_bytes"].tolist(),
                                                        sched["input_load_bytes"].tolist())]
    stores = [((o, True),) for o in sched["store_bytes"].tolist()]
    br = step_schedule_bus(sched["compute_cycles"], loads, stores, bus)
    return br, bus.energy_pj(br.cycles)


def cycle_gemm(gemm: Gemm, accel: AcceleratorSpec) -> dict:
    """Cycles, traffic and energy of `gemm` from the stepped schedule; the DRAM bus is the
    bandwidth model or, when `accel.dram.model` is a `CommandDram`, the command-level model."""
    sched = tile_schedule(gemm, accel)
    if accel.dram.model == "bandwidth":
        br = step_schedule(sched["compute_cycles"], sched["load_bytes"], sched["store_bytes"],
                           accel.dram.bytes_per_cycle)
        dram_pj = None
    else:
        br, dram_pj = _command_level(sched, accel)
    att = gemm.is_attention
    loads, stores = float(sched["load_bytes"].sum()), float(sched["store_bytes"].sum())
    blk = buffer_blocks(gemm, accel)
    static_bytes = gemm.batch * gemm.n_out * gemm.k_reduce * accel.static_bits(att) / 8 * blk.weight_fetches
    steps = int(sched["array_steps"].sum())
    return {
        "cycles": br.cycles,
        "compute_cycles": br.compute_cycles,
        "fill_cycles": br.fill_cycles,
        "stall_cycles": br.stall_cycles,
        "drain_cycles": br.drain_cycles,
        "dram_bytes": loads + stores,
        "energy_compute_pj": energy.compute_pj(accel, br.compute_cycles),
        "energy_sram_pj": energy.sram_read_pj(accel, steps, att)
        + energy.sram_write_pj(accel, static_bytes * 8, (loads - static_bytes) * 8, stores * 8),
        "energy_dram_pj": energy.dram_pj(accel, loads + stores) if dram_pj is None else dram_pj,
    }


def run_phase(model: str, accel_name: str, task: str, phase: str, mode: str, seq_len: int = SEQ_LEN,
              layers: int | None = None, dram="bandwidth") -> pd.DataFrame:
    """One row per matrix Einsum of one `phase`, with `weight` (how often it counts in `task`).
    `dram` switches the DRAM model (`sim.bitserial.presets.parse_dram`; cycle mode only)."""
    if mode not in MODES:
        raise SpecError(f"mode {mode!r} is not known; choose one of: {', '.join(MODES)}")
    accel = accelerator(accel_name, task, model, dram)
    if mode == "paper" and accel.dram.model != "bandwidth":
        raise SpecError("the command-level DRAM model needs --mode cycle; paper mode follows the "
                        "paper's bytes / bandwidth accounting")
    memo: dict = {}
    weight = DECODE_TOKENS if phase == "decode" else 1
    rows = []
    for g in model_gemms(model, phase, seq_len, layers):
        key = (g.m_tokens, g.k_reduce, g.n_out, g.batch, g.is_attention)
        if key not in memo:
            memo[key] = paper_gemm(g, accel) if mode == "paper" else cycle_gemm(g, accel)
        r = memo[key]
        rows.append({"phase": phase, "name": g.name, "group": g.group, "layer": g.layer, "weight": weight,
                     **{c: r[c] for c in COLUMNS[5:]}})
    return pd.DataFrame(rows, columns=list(COLUMNS))


def run_task(model: str, accel_name: str, task: str, mode: str = "paper", seq_len: int = SEQ_LEN,
             layers: int | None = None, dram="bandwidth") -> pd.DataFrame:
    """All rows of `task` (discriminative: prefill; generative: prefill + decode ×20)."""
    if model not in MODELS:
        raise SpecError(f"model {model!r} is not in the BitMoD set; choose one of: {', '.join(MODELS)}")
    if accel_name not in ACCELS:
        raise SpecError(f"accelerator {accel_name!r} is not known; choose one of: {', '.join(ACCELS)}")
    phases = ("prefill",) if task == "discriminative" else ("prefill", "decode")
    return pd.concat([run_phase(model, accel_name, task, p, mode, seq_len, layers, dram) for p in phases], ignore_index=True)


def totals(rows: pd.DataFrame) -> dict:
    """Weighted totals of a `run_task` table: cycles and energy by component (pJ)."""
    w = rows["weight"]
    out = {c: float((rows[c] * w).sum()) for c in ("cycles", "compute_cycles", "fill_cycles", "stall_cycles",
                                                     "drain_cycles", "dram_bytes")}
    for comp in energy.COMPONENTS:
        out[f"energy_{comp}_pj"] = float((rows[f"energy_{comp}_pj"] * w).sum())
    out["energy_total_pj"] = sum(out[f"energy_{c}_pj"] for c in energy.COMPONENTS)
    return out


def reproduction(mode: str = "paper", models=MODELS, layers: int | None = None) -> pd.DataFrame:
    """Totals for every model × task × accelerator (one row each)."""
    rows = []
    for model in models:
        for task in ("discriminative", "generative"):
            for acc in ACCELS:
                rows.append({"model": model, "task": task, "accel": acc, "mode": mode,
                             **totals(run_task(model, acc, task, mode, layers=layers))})
    return pd.DataFrame(rows)


def headline(table: pd.DataFrame) -> dict:
    """BitMoD (lossy) speedups and energy reductions, arithmetic means over model × task."""
    piv = table.pivot_table(index=["model", "task"], columns="accel", values="cycles")
    en = table.pivot_table(index=["model", "task"], columns="accel", values="energy_total_pj")
    bm = "bitmod-lossy"
    out = {
        "speedup_vs_ant": float((piv["ant"] / piv[bm]).mean()),
        "speedup_vs_olive": float((piv["olive"] / piv[bm]).mean()),
        "speedup_vs_fp16": float((piv["fp16"] / piv[bm]).mean()),
    }
    for task in ("discriminative", "generative"):
        sel = en.xs(task, level="task")
        out[f"energy_reduction_vs_fp16_{task}"] = float((sel["fp16"] / sel[bm]).mean())
    return out

"""Cycle-level cost of one GEMM: its tile schedule stepped on the double-buffered array.

The schedule (a `sim.bitserial.plan.GemmPlan` from the mapper) is stepped by
`sim.bitserial.engine` — double buffering, fill/stall/drain — on the DRAM bus of `accel`: the
paper's 256-bit/cycle bus as a bandwidth (`dram.model == "bandwidth"`), or the command-level model
of `sim.dram` (`sim.bitserial.dram_timing`) when `accel.dram.model` is a `CommandDram`. Energy
from the event counts (`sim.bitserial.energy`): compute per compute cycle, SRAM reads per array
step, SRAM writes per byte loaded or stored, DRAM per byte moved (or the command-level model's
own energy).
"""
from __future__ import annotations

from sim.bitserial import energy
from sim.bitserial.dram_timing import DramBus
from sim.bitserial.engine import step_schedule, step_schedule_bus
from sim.bitserial.plan import GemmPlan
from sim.bitserial.spec import AcceleratorSpec
from workloads.errors import SpecError


def command_level(schedule, accel: AcceleratorSpec):
    """Step `schedule` with every transfer timed by the command-level DRAM model: per step, the
    weight block then the input block are loaded, the output block stored. Returns the cycle
    breakdown and the DRAM energy (pJ)."""
    bus = DramBus(accel.dram.model, accel.clock_ghz)
    loads = [((w, False), (i, False)) for w, i in zip(schedule["weight_load_bytes"].tolist(),
                                                        schedule["input_load_bytes"].tolist())]
    stores = [((o, True),) for o in schedule["store_bytes"].tolist()]
    br = step_schedule_bus(schedule["compute_cycles"], loads, stores, bus)
    return br, bus.energy_pj(br.cycles)


def cycle_gemm(plan: GemmPlan, accel: AcceleratorSpec) -> dict:
    """Cycles (total and by cause), DRAM bytes and energy by component (pJ) of one planned GEMM."""
    if plan.schedule is None:
        raise SpecError("the cycle-level model needs a tile schedule: map the cascade in mode 'cycle'")
    sched, gemm = plan.schedule, plan.gemm
    if accel.dram.model == "bandwidth":
        br = step_schedule(sched["compute_cycles"], sched["load_bytes"], sched["store_bytes"],
                           accel.dram.bytes_per_cycle)
        dram_pj = None
    else:
        br, dram_pj = command_level(sched, accel)
    att = gemm.is_attention
    loads, stores = float(sched["load_bytes"].sum()), float(sched["store_bytes"].sum())
    static_bytes = gemm.batch * gemm.n_out * gemm.k_reduce * accel.static_bits(att) / 8 * plan.weight_fetches
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

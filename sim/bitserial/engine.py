"""Cycle-level model of a double-buffered PE array fed by one DRAM bus.

The array steps through a buffer-level schedule (from `mappers.bitserial.schedule`): step i
computes on blocks already in the buffers for `compute_cycles[i]` cycles, after loading
`load_bytes[i]` (the blocks that changed since step i−1) and before storing `store_bytes[i]`
(outputs completed by step i). Each buffer has two halves (double buffering), so the load for
step i+1 may start once step i−1 has released its half; the single DRAM bus serves, in order,
the store of step i−1 then the load of step i+1. Time is counted by cause:

* `fill` — the first load, before any compute can start (pipeline prologue);
* `compute` — the array busy;
* `stall` — the array idle between steps, waiting for the bus (DRAM-bound steps);
* `drain` — after the last compute, the remaining output stores.

`fill + compute + stall + drain` equals the total. With no stall (every bus phase shorter than
the compute it hides under) the total is the closed form `load[0]/bw + Σ compute + store[-1]/bw`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CycleBreakdown:
    cycles: int
    compute_cycles: int
    fill_cycles: float
    stall_cycles: float
    drain_cycles: float


@dataclass(frozen=True)
class LinearBus:
    """A bus of fixed bandwidth: a transfer of b bytes takes b / bytes_per_cycle cycles."""

    bytes_per_cycle: float

    def serve(self, start: float, transfers) -> float:
        return start + sum(size / self.bytes_per_cycle for size, _ in transfers)


def step_schedule(compute_cycles, load_bytes, store_bytes, bytes_per_cycle: float) -> CycleBreakdown:
    """Step through a schedule (three equal-length sequences) on a fixed-bandwidth bus."""
    loads = [((float(b), False),) for b in load_bytes]
    stores = [((float(b), True),) for b in store_bytes]
    return step_schedule_bus(compute_cycles, loads, stores, LinearBus(bytes_per_cycle))


def step_schedule_bus(compute_cycles, load_transfers, store_transfers, bus) -> CycleBreakdown:
    """`step_schedule` with the bus timed by `bus.serve(start, transfers) -> end` (e.g. a
    `sim.bitserial.dram_timing.DramBus`) instead of bytes / bandwidth. `load_transfers[i]` and
    `store_transfers[i]` are sequences of (bytes, is_write) moved for step i, in bus order. The
    stepping is the one described in the module docstring."""
    comp = np.asarray(compute_cycles, dtype=float).tolist()
    n = len(comp)
    if n == 0:
        return CycleBreakdown(0, 0, 0.0, 0.0, 0.0)
    load_end = bus.serve(0.0, load_transfers[0])
    fill = load_end
    comp_end_prev = fill
    stall = 0.0
    next_load_end = 0.0
    for i in range(n):
        start = comp_end_prev if comp_end_prev > load_end else load_end
        if i:
            stall += start - comp_end_prev
        end = start + comp[i]
        bus_free = load_end if load_end > comp_end_prev else comp_end_prev
        work = (list(store_transfers[i - 1]) if i else []) + (list(load_transfers[i + 1]) if i + 1 < n else [])
        next_load_end = bus.serve(bus_free, work)
        comp_end_prev, load_end = end, next_load_end
    last_end = comp_end_prev
    bus_end = next_load_end if next_load_end > last_end else last_end
    total = bus.serve(bus_end, store_transfers[n - 1])
    compute = float(sum(comp))
    return CycleBreakdown(
        cycles=math.ceil(total - 1e-9),
        compute_cycles=int(round(compute)),
        fill_cycles=fill,
        stall_cycles=stall,
        drain_cycles=total - last_end,
    )

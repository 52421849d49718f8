"""In-order, cycle-level pipeline of jobs over shared resources (DRAM, buffer, 2D array, 1D array).

A job is one tile (or one block of query rows) of a mapping; it runs a chain of operations, each
holding one resource for a whole number of cycles. Operations are issued in one static global
order (the design's schedule: e.g. FLAT's software pipeline QKᵢ₊₁ on the 2D array while the 1D
array normalizes block i). An operation starts when its resource is free, the job's previous
operation has finished, and — for a job's first operation — job ``i − window`` has finished (the
buffer holds ``window`` jobs: double buffering is ``window = 2``). Stalls are the cycles a resource
waits for data or for the other array.

``simulate`` is the event-driven reference; ``simulate_uniform`` is the fast path for ``n``
identical jobs: it simulates a warm-up prefix and extends by the steady-state period, and
``tests/sim/attention_array/test_aa_pipeline.py`` proves it equal to ``simulate``.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Op:
    job: int
    resource: str
    cycles: int
    label: str = ""


@dataclass(frozen=True)
class PipelineResult:
    cycles: int
    busy_cycles: dict[str, int]


def simulate(ops: list[Op], window: int = 2) -> PipelineResult:
    """Event-driven schedule of ``ops`` in their static order; returns the makespan."""
    res_free: dict[str, int] = {}
    job_ready: dict[int, int] = {}
    job_done: dict[int, int] = {}
    started: set[int] = set()
    busy: dict[str, int] = {}
    end_all = 0
    for op in ops:
        ready = job_ready.get(op.job, 0)
        if op.job not in started:
            started.add(op.job)
            ready = max(ready, job_done.get(op.job - window, 0))
        start = max(ready, res_free.get(op.resource, 0))
        end = start + op.cycles
        res_free[op.resource] = end
        job_ready[op.job] = end
        job_done[op.job] = end
        busy[op.resource] = busy.get(op.resource, 0) + op.cycles
        end_all = max(end_all, end)
    return PipelineResult(end_all, busy)


def simulate_uniform(make_ops: Callable[[int], list[Op]], n_jobs: int, window: int = 2,
                     warmup_jobs: int = 32) -> PipelineResult:
    """Makespan of ``make_ops(n_jobs)`` for identical jobs, without expanding all of them.

    The schedule of identical jobs in an in-order pipeline becomes periodic after a few jobs; the
    period is measured over the last two jobs of a ``warmup_jobs`` prefix (two jobs, since a
    software-pipelined order may alternate) and extended to ``n_jobs``.
    """
    if n_jobs <= warmup_jobs + 2:
        return simulate(make_ops(n_jobs), window)
    base = warmup_jobs + (n_jobs - warmup_jobs) % 2
    t_base = simulate(make_ops(base), window)
    t_prev = simulate(make_ops(base - 2), window)
    period2 = t_base.cycles - t_prev.cycles
    steps = (n_jobs - base) // 2
    per_job_busy = {r: (t_base.busy_cycles[r] - t_prev.busy_cycles.get(r, 0)) // 2
                    for r in t_base.busy_cycles}
    busy = {r: t_base.busy_cycles[r] + per_job_busy[r] * (n_jobs - base) for r in per_job_busy}
    return PipelineResult(t_base.cycles + steps * period2, busy)

"""Engines that drive channel controllers through time.

* `run_simpy`: the event-driven reference. Each channel is a simpy process that sleeps until the
  next cycle its controller reported as worth a step — about one simpy event per DRAM command
  (plus one per idle wake-up), no `simpy.Resource`.
* `run_loop`: the same controller stepped in a plain Python loop that jumps straight to the next
  reported cycle, skipping simpy's event queue. Channels are independent (one command bus and
  one data bus each), so each channel runs to completion in turn.
* `run_fast` (engine ``fast``): the controller's decisions compiled by numba over flat arrays
  (`sim/dram/fast.py`, `sim/dram/fastkernel.py`), fed by a stream of request chunks in flat
  memory; the command trace is optional.

Tests prove all engines emit identical command traces and statistics.
"""
from __future__ import annotations

from collections.abc import Iterable
import numpy as np
import simpy

from sim.dram.controller import ChannelController, ControllerConfig
from sim.dram.spec import DramStandard
from sim.dram.stats import RunTotals

ENGINES = ("simpy", "loop", "fast")


def _channel_process(env: simpy.Environment, controller: ChannelController):
    while True:
        wake = controller.step(int(env.now))
        if wake is None:
            return
        yield env.timeout(wake - env.now)


def run_simpy(controllers: Iterable[ChannelController]) -> None:
    env = simpy.Environment()
    for controller in controllers:
        env.process(_channel_process(env, controller))
    env.run()


def run_loop(controllers: Iterable[ChannelController]) -> None:
    for controller in controllers:
        step = controller.step
        cycle: int | None = 0
        while cycle is not None:
            cycle = step(cycle)


def run(engine: str, controllers: list[ChannelController]) -> None:
    """Run the controller-based engines (``simpy``, ``loop``)."""
    if engine == "simpy":
        run_simpy(controllers)
    else:
        run_loop(controllers)


def run_fast(standard: DramStandard, chunks, mapping: str, config: ControllerConfig,
             record: bool) -> RunTotals:
    """The ``fast`` engine over request chunks (see `sim.dram.fast.run_stream`)."""
    from sim.dram import fast  # numba compiles (or loads its cache) on first use only
    from sim.dram import fastkernel as fk
    channels = fast.run_stream(standard, chunks, mapping, config, record)
    names = channels[0].tables.command_names
    counts = sum(c.counts for c in channels)
    size = max(c.latency_hist.size for c in channels)
    hist = np.zeros(size, dtype=np.int64)
    for c in channels:
        hist[:c.latency_hist.size] += c.latency_hist
    outcomes = tuple(int(sum(c.ctl[slot] for c in channels))
                     for slot in (fk.C_OUT_HIT, fk.C_OUT_MISS, fk.C_OUT_CONFLICT))
    return RunTotals(
        requests=sum(c.requests for c in channels), reads=sum(c.reads for c in channels),
        cycles=max(int(c.ctl[fk.C_MAX_DONE]) for c in channels),
        command_counts={n: int(v) for n, v in zip(names, counts)}, row_outcomes=outcomes,
        latency_histogram=hist,
        trace=tuple(fast.command_trace(channels)) if record else ())


"""Engines that drive channel controllers through time.

* `run_simpy`: the event-driven reference. Each channel is a simpy process that sleeps until the
  next cycle its controller reported as worth a step — about one simpy event per DRAM command
  (plus one per idle wake-up), no `simpy.Resource`.
* `run_loop`: the fast path. The same controller steps in a plain Python loop that jumps straight
  to the next reported cycle, skipping simpy's event queue. Channels are independent (one command
  bus and one data bus each), so each channel runs to completion in turn. A test proves both
  engines emit identical command traces.
"""
from __future__ import annotations

from collections.abc import Iterable

import simpy

from sim.dram.controller import ChannelController

ENGINES = ("simpy", "loop")


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
    if engine == "simpy":
        run_simpy(controllers)
    else:
        run_loop(controllers)

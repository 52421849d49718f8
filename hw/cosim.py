"""Streaming co-simulation of an RTL unit with `amaranth.sim`, compared against its model.

All vectors stream through one simulation (one entry per clock cycle), because Amaranth's
Python simulator costs far more per simulation start than per cycle. The RTL side is observed
exactly like the reference model describes itself: after every clock edge, if the unit's
`out_valid` port is high its `outputs` ports form one result, tagged with the edge index.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from amaranth.sim import Simulator

from hw.units.base import UnitDef

CLOCK_PERIOD_S = 10e-9


def simulate(unit: UnitDef, params: Mapping[str, int], stimulus: Sequence[Any],
             vcd_path: str | Path | None = None, drain_cycles: int | None = None,
             ) -> tuple[list[tuple[int, ...]], list[int]]:
    """Run `stimulus` through the RTL; return (outputs, cycles) in the reference's format."""
    dut = unit.build(params)
    model = unit.model(params)
    drain = model.latency_cycles + 2 if drain_cycles is None else drain_cycles
    in_ports = [getattr(dut, name) for name in unit.inputs]
    out_ports = [getattr(dut, name) for name in unit.outputs]
    valid_port = getattr(dut, unit.out_valid)
    frames = [unit.encode(params, entry) for entry in stimulus]
    idle = unit.encode(params, None)
    frames += [idle] * drain
    outputs: list[tuple[int, ...]] = []
    cycles: list[int] = []

    async def testbench(ctx):
        previous = [None] * len(in_ports)
        for t, frame in enumerate(frames):
            for k, value in enumerate(frame):
                if value != previous[k]:
                    ctx.set(in_ports[k], value)
            previous = frame
            await ctx.tick()
            if ctx.get(valid_port):
                outputs.append(tuple(ctx.get(p) for p in out_ports))
                cycles.append(t)

    sim = Simulator(dut)
    sim.add_clock(CLOCK_PERIOD_S)
    sim.add_testbench(testbench)
    if vcd_path is not None:
        with sim.write_vcd(str(vcd_path)):
            sim.run()
    else:
        sim.run()
    return outputs, cycles


@dataclass(frozen=True)
class Mismatch:
    """First disagreement between RTL and model: result index and both sides' values."""

    index: int
    rtl: tuple[tuple[int, ...], int] | None
    model: tuple[tuple[int, ...], int] | None

    def __str__(self) -> str:
        def fmt(side):
            if side is None:
                return "missing"
            words, cycle = side
            return "(" + ", ".join(f"0x{w:X}" for w in words) + f") at edge {cycle}"
        return f"result #{self.index}: RTL {fmt(self.rtl)} vs model {fmt(self.model)}"


def compare(rtl: tuple[list, list], ref: tuple[list, list]) -> Mismatch | None:
    """The first result whose bits or cycle differ, or None if RTL and model agree entirely."""
    rtl_pairs = list(zip(*rtl))
    ref_pairs = list(zip(*ref))
    for i in range(max(len(rtl_pairs), len(ref_pairs))):
        a = rtl_pairs[i] if i < len(rtl_pairs) else None
        b = ref_pairs[i] if i < len(ref_pairs) else None
        if a is None or b is None or tuple(a[0]) != tuple(b[0]) or a[1] != b[1]:
            return Mismatch(i, None if a is None else (tuple(a[0]), a[1]),
                            None if b is None else (tuple(b[0]), b[1]))
    return None


@dataclass(frozen=True)
class CosimReport:
    unit: str
    params: dict
    seed: int
    vectors: int
    results: int
    mismatch: Mismatch | None
    vcd_path: str | None

    @property
    def ok(self) -> bool:
        return self.mismatch is None

    def summary(self) -> str:
        head = f"{self.unit} {self.params} seed={self.seed}: {self.vectors} entries, {self.results} results"
        if self.ok:
            return head + ", RTL == model (all bits, all cycles)"
        return head + f", MISMATCH {self.mismatch}" + (f"; VCD: {self.vcd_path}" if self.vcd_path else "")


def run_cosim(unit: UnitDef, params: Mapping[str, int], *, vectors: int, seed: int,
              model: Any | None = None, vcd_on_failure: str | Path | None = None,
              vcd_path: str | Path | None = None) -> CosimReport:
    """Generate seeded stimulus, run RTL and model (`model` overrides the unit's own), compare.

    On a mismatch and with `vcd_on_failure` set, the stimulus up to the failing result is rerun
    with a VCD written there. `vcd_path` writes a VCD of the full run regardless.
    """
    rng = random.Random(seed)
    stim = unit.stimulus(params, vectors, rng)
    ref_model = unit.model(params) if model is None else model
    ref = ref_model.run(stim)
    rtl = simulate(unit, params, stim, vcd_path=vcd_path)
    mismatch = compare(rtl, ref)
    written = str(vcd_path) if vcd_path else None
    if mismatch is not None and vcd_on_failure is not None:
        cycles = [c for c in (mismatch.rtl, mismatch.model) if c is not None]
        stop = max(cyc for _, cyc in cycles) + 1 if cycles else len(stim)
        simulate(unit, params, stim[:stop], vcd_path=vcd_on_failure)
        written = str(vcd_on_failure)
    return CosimReport(unit.name, dict(params), seed, len(stim), len(ref[0]), mismatch, written)

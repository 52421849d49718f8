"""Synthesis top level that fits a unit of any port width onto a real FPGA's pins.

A 16-lane bank MAC has 512 input bits, more than any iCE40/ECP5 package has I/O. The harness
feeds every unit input from a serial scan chain (one pin, `si`) and captures every unit output
in a parallel-load shift register read out on one pin (`so`, loaded while `load` is high). All
unit logic stays observable, so synthesis keeps it, and every unit path is register to register
(the scan and capture registers bound the unit's input and output), which is what Fmax measures.
The harness is a separate module; resource counts are taken from the unit module alone.
"""
from __future__ import annotations

from amaranth.hdl import Cat, Elaboratable, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In

UNIT_INSTANCE = "unit"


class SynthHarness(Elaboratable):
    """Scan-in / capture-out wrapper around one `wiring.Component`."""

    def __init__(self, unit: wiring.Component):
        self.unit = unit
        self.si = Signal()
        self.load = Signal()
        self.so = Signal()

    @property
    def ports(self) -> list[Signal]:
        return [self.si, self.load, self.so]

    def elaborate(self, platform):
        m = Module()
        m.submodules[UNIT_INSTANCE] = self.unit
        inputs, outputs = [], []
        for name, member in self.unit.signature.members.items():
            (inputs if member.flow == In else outputs).append(getattr(self.unit, name))
        in_width = sum(len(p) for p in inputs)
        scan = Signal(in_width)
        m.d.sync += scan.eq(Cat(self.si, scan[:-1]) if in_width > 1 else self.si)
        offset = 0
        for port in inputs:
            m.d.comb += port.eq(scan[offset:offset + len(port)])
            offset += len(port)
        captured = Cat(*outputs)
        capture = Signal(len(captured))
        with m.If(self.load):
            m.d.sync += capture.eq(captured)
        with m.Else():
            m.d.sync += capture.eq(capture >> 1)
        m.d.comb += self.so.eq(capture[0])
        return m

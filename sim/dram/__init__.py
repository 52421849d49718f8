"""Command-level DRAM model: standards as data, a timing-table device model, an FR-FCFS
controller, simpy and plain-loop engines, and an independent timing checker.

Entry points: `load_standard`, `simulate`, `check_trace`; see docs/dram.md.
"""
from sim.dram.checker import Violation, check_trace
from sim.dram.controller import Command, ControllerConfig
from sim.dram.spec import DramStandard, available_standards, load_standard
from sim.dram.stats import DramResult
from sim.dram.system import DEFAULT_MAPPING, capacity_bytes, simulate
from sim.dram.trace import TraceEntry, read_trace, synthetic

__all__ = [
    "Command", "ControllerConfig", "DEFAULT_MAPPING", "DramResult", "DramStandard", "TraceEntry",
    "Violation", "available_standards", "capacity_bytes", "check_trace", "load_standard",
    "read_trace", "simulate", "synthetic",
]

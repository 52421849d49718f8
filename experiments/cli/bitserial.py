"""`einspace bitserial`: one model on one BitMoD-paper accelerator, paper or cycle accounting.

Runs through the `bitserial` family (`experiments.reproductions.bitmod.run_phase`: the family's
map and simulate, the code path of `einspace sweep`); `--reproduce` runs the paper's whole grid
the same way (the sweep form is `einspace sweep experiments/bitmod.yaml`)."""
from __future__ import annotations

import json

import click

from experiments.reproductions.bitmod import run_phase, totals
from sim.bitserial import MODES
from sim.bitserial import kinds
from sim.bitserial.presets import MODELS
from workloads.errors import SpecError

TASKS = {"prefill": ("discriminative", "prefill"), "decode": ("generative", "decode")}


@click.command("bitserial")
@click.option("--model", default=None, help="|".join(MODELS))
@click.option("--accel", default="bitmod-lossy", show_default=True, help="|".join(kinds.names()))
@click.option("--task", default="prefill", show_default=True, help="prefill|decode (one decode token)")
@click.option("--seq-len", default=256, show_default=True, type=int, help="prompt length / decode context")
@click.option("--mode", default="paper", show_default=True, help="|".join(MODES))
@click.option("--dram", default="bandwidth", show_default=True,
              help="bandwidth|DDR4-3200|LPDDR5-6400|HBM2|GDDR6 (command-level sim.dram; cycle mode)")
@click.option("--format", "fmt", default="text", show_default=True, help="text|json")
@click.option("--reproduce", "reproduce_dir", default=None, type=click.Path(file_okay=False),
              help="run the whole BitMoD grid (6 models x 2 tasks x 5 accelerators) in --mode; write CSV and figure here")
@click.option("--quiet", is_flag=True, help="no progress on stderr")
def bitserial(model: str | None, accel: str, task: str, seq_len: int, mode: str, dram: str, fmt: str,
              reproduce_dir: str | None, quiet: bool) -> None:
    """Cycles and energy (compute, SRAM, DRAM) per matrix Einsum and in total."""
    if reproduce_dir is not None:
        if mode not in MODES:
            raise SpecError(f"--mode {mode!r} is not allowed; choose one of: {', '.join(MODES)}")
        from pathlib import Path

        from experiments.reproductions.bitmod import PAPER_HEADLINE, reproduce

        from experiments.cli.progress import working

        with working(f"BitMoD grid ({mode} mode) -> {reproduce_dir}", fmt == "text" and not quiet):
            result = reproduce(mode, Path(reproduce_dir))
        if fmt == "json":
            click.echo(json.dumps(result, indent=2))
            return
        for key, value in result.items():
            paper = PAPER_HEADLINE.get(key)
            click.echo(f"{key:<40} {value:6.3f}" + (f"   (paper {paper:.2f})" if paper else ""))
        click.echo(f"wrote {reproduce_dir}/bitmod_{mode}.csv and .png")
        return
    if model is None:
        raise SpecError("--model is required unless --reproduce is given; choose one of: " + ", ".join(MODELS))
    for opt, val, allowed in (("--model", model, MODELS), ("--accel", accel, kinds.names()), ("--task", task, tuple(TASKS)),
                              ("--mode", mode, MODES), ("--format", fmt, ("text", "json"))):
        if val not in allowed:
            raise SpecError(f"{opt} {val!r} is not allowed; choose one of: {', '.join(allowed)}")
    if seq_len < 2:
        raise SpecError(f"--seq-len {seq_len} is too small; use at least 2")
    hw_task, phase = TASKS[task]
    from experiments.cli.progress import working

    with working(f"simulating {model} {task} on {accel} ({mode} mode, DRAM {dram})", fmt == "text" and not quiet):
        rows = run_phase(model, accel, hw_task, phase, mode, seq_len, dram=dram).assign(weight=1)
    tot = totals(rows)
    if fmt == "json":
        click.echo(json.dumps({"model": model, "accel": accel, "task": task, "mode": mode, "dram": dram, "totals": tot,
                               "rows": rows.to_dict(orient="records")}, indent=2, default=float))
        return
    click.echo(f"{model} {task} seq {seq_len} on {accel}, {mode} mode, DRAM {dram}")
    click.echo(f"total cycles {tot['cycles']:.0f} (compute {tot['compute_cycles']:.0f}, fill {tot['fill_cycles']:.0f}, "
               f"stall {tot['stall_cycles']:.0f}, drain {tot['drain_cycles']:.0f})")
    click.echo(f"energy uJ: compute {tot['energy_compute_pj'] / 1e6:.2f}, SRAM {tot['energy_sram_pj'] / 1e6:.2f}, "
               f"DRAM {tot['energy_dram_pj'] / 1e6:.2f}, total {tot['energy_total_pj'] / 1e6:.2f}")
    click.echo(f"{'einsum':<12} {'group':<10} {'cycles':>12} {'compute':>12} {'stall':>12} {'DRAM MB':>9} {'energy uJ':>10}")
    for r in rows.itertuples():
        e = (r.energy_compute_pj + r.energy_sram_pj + r.energy_dram_pj) / 1e6
        click.echo(f"{r.name:<12} {r.group:<10} {r.cycles:>12.0f} {r.compute_cycles:>12.0f} {r.stall_cycles:>12.0f} "
                   f"{r.dram_bytes / 1e6:>9.2f} {e:>10.2f}")

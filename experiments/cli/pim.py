"""`einspace pim`: PIM-GPT latency/energy per decode token and ratios over GPU/CPU baselines;
`--isr FILE` / `--gemv M K --channels C` run an AiM instruction trace (the AiM simulator's format,
`sim.pim.isr`) on the AiM simulator's timing (GDDR6-AiM-CENT) and report cycles, commands per
channel and energy."""
from __future__ import annotations

import json
from pathlib import Path

import click

from experiments import schema
from experiments.cli.progress import steps
from experiments.reproductions.pim_gpt import reproduce, write_outputs
from sim.pim.isr import AIM_NAMES, ENGINES, gemv_isr, load_isr, parse_isr, run_isr
from sim.pim.spec import aim_cent_system
from workloads import get_model
from workloads.errors import SpecError


def load_experiment(path: Path) -> tuple[list[str], int]:
    """Models and tokens of a `pim` sweep file (validated by the sweep schema): seq_len[0] is the tokens."""
    if not path.is_file():
        raise SpecError(f"{path}: experiment file not found")
    exp, _ = schema.load(path)
    if exp.family != "pim":
        raise SpecError(f"{path}: family is {exp.family!r}, expected pim")
    return list(exp.workloads.models), int(exp.workloads.seq_len[0])


@click.command("pim")
@click.option("--model", "models", multiple=True, help="model name (repeatable); default: the YAML's models")
@click.option("--tokens", type=int, default=None, help="tokens generated (kv length reached)")
@click.option("--experiment", type=click.Path(path_type=Path), default=Path("experiments/pim_gpt.yaml"))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--reproduce", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="also write pim_gpt.csv and pim_gpt.png (speedups, latency breakdown) to this folder")
@click.option("--isr", "isr_path", type=click.Path(path_type=Path), default=None,
              help="run this AiM instruction trace (AiM simulator format) instead of a model")
@click.option("--gemv", nargs=2, type=int, default=None, metavar="M K",
              help="emit and run the AiM GEMV trace of an M x K weight matrix")
@click.option("--channels", type=int, default=1, show_default=True, help="AiM channels of --gemv")
@click.option("--emit-isr", "emit_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write the --gemv trace to this file")
@click.option("--engine", type=click.Choice(ENGINES), default="analytic", show_default=True,
              help="PIM engine for --isr/--gemv (all three are proven equal)")
@click.option("--quiet", is_flag=True, help="no progress on stderr (--format json implies it)")
def pim(models, tokens, experiment, fmt, out_dir, isr_path, gemv, channels, emit_path, engine, quiet):
    """Simulate PIM-GPT decode per token (fast engine); compare with GPU/CPU roofline and eager baselines.
    With --isr or --gemv: run an AiM instruction trace on the AiM simulator's timing."""
    if isr_path is not None or gemv is not None:
        run_trace(isr_path, gemv, channels, emit_path, engine, fmt)
        return
    if emit_path is not None:
        raise SpecError("--emit-isr needs --gemv M K")
    if not models:
        models, default_tokens = load_experiment(experiment)
        tokens = tokens if tokens is not None else default_tokens
    tokens = 1024 if tokens is None else tokens
    if tokens < 1:
        raise SpecError(f"--tokens must be >= 1, got {tokens}")
    for m in models:
        spec = get_model(m)
        if tokens > spec.max_positions:
            raise SpecError(f"--tokens {tokens}: {m} attends over at most {spec.max_positions} positions")
    rows = []
    for m in steps(models, f"pim, {tokens} tokens", enabled=fmt == "text" and not quiet):
        rows.append({k: (float(v) if hasattr(v, "item") else v) for k, v in reproduce(m, tokens).items()})
    if out_dir is not None:
        paths = write_outputs(rows, out_dir)
        click.echo(f"wrote {paths['csv']} and {paths['png']}", err=fmt == "json")
    if fmt == "json":
        click.echo(json.dumps(rows, indent=1))
        return
    click.echo(f"{'model':<12}{'ms/token':>9}{'J/token':>9}  speedup vs  GPU roof  GPU eager  CPU roof"
               f"  CPU eager  |  energy eff. vs GPU roof/eager  CPU roof/eager")
    for r in rows:
        click.echo(f"{r['model']:<12}{r['latency_ms_per_token']:>9.3f}{r['energy_j_per_token']:>9.4f}"
                   f"{'':>12}{r['speedup_vs_gpu_roofline']:>9.1f}{r['speedup_vs_gpu_eager']:>11.1f}"
                   f"{r['speedup_vs_cpu_roofline']:>10.1f}{r['speedup_vs_cpu_eager']:>11.1f}  |"
                   f"{r['energy_eff_vs_gpu_roofline']:>22.1f} /{r['energy_eff_vs_gpu_eager']:>6.1f}"
                   f"{r['energy_eff_vs_cpu_roofline']:>10.1f} /{r['energy_eff_vs_cpu_eager']:>6.1f}")


def run_trace(isr_path: Path | None, gemv: tuple[int, int] | None, channels: int,
              emit_path: Path | None, engine: str, fmt: str) -> None:
    """`einspace pim --isr FILE` / `--gemv M K --channels C [--emit-isr FILE]`."""
    if isr_path is not None and gemv is not None:
        raise SpecError("--isr and --gemv are exclusive")
    system = aim_cent_system()
    if gemv is not None:
        text = gemv_isr(gemv[0], gemv[1], channels)
        if emit_path is not None:
            emit_path.write_text(text)
        instructions = parse_isr(text, system.standard, f"gemv {gemv[0]}x{gemv[1]}")
    else:
        if emit_path is not None:
            raise SpecError("--emit-isr needs --gemv M K")
        instructions = load_isr(isr_path, system.standard)
    res = run_isr(instructions, system, engine)
    out = {"trace": str(isr_path) if isr_path else f"gemv {gemv[0]}x{gemv[1]} on {channels} channel(s)",
           "standard": system.standard_name, "engine": engine, "instructions": len(instructions),
           "cycles": res.cycles, "time_us": res.seconds * 1e6, "tck_ns": system.standard.tck_ns,
           "commands": res.counts,
           "commands_per_channel": {str(ch): c for ch, c in sorted(res.per_channel.items())},
           "energy_j": sum(res.energy_j.values()), **res.energy_j}
    if fmt == "json":
        click.echo(json.dumps(out, indent=1))
        return
    click.echo(f"{out['trace']}: {len(instructions)} instructions on {system.standard_name} ({engine})")
    click.echo(f"cycles {res.cycles} ({res.seconds * 1e6:.3f} us at {system.standard.tck_ns} ns)  "
               f"energy {out['energy_j'] * 1e9:.3f} nJ")
    names = sorted({n for c in res.per_channel.values() for n in c})
    click.echo("channel " + " ".join(f"{n}({AIM_NAMES.get(n, n)})".rjust(16) for n in names))
    for ch, counts in sorted(res.per_channel.items()):
        click.echo(f"{ch:>7} " + " ".join(f"{counts.get(n, 0):>16}" for n in names))

"""`einspace pim`: PIM-GPT latency/energy per decode token and ratios over GPU/CPU baselines."""
from __future__ import annotations

import json
import os
from pathlib import Path

import click

from experiments import schema
from experiments.reproductions.pim_gpt import reproduce, write_outputs
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
def pim(models, tokens, experiment, fmt, out_dir):
    """Simulate PIM-GPT decode per token (fast engine); compare with GPU/CPU roofline and eager baselines."""
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
    with open(os.devnull, "w") as devnull:
        with click.progressbar(models, label="pim", file=None if fmt == "text" else devnull) as bar:
            for m in bar:
                rows.append({k: (float(v) if hasattr(v, "item") else v)
                             for k, v in reproduce(m, tokens).items()})
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

"""`einspace pim`: PIM-GPT latency/energy per decode token and ratios over GPU/CPU baselines."""
from __future__ import annotations

import json
from pathlib import Path

import click
import yaml

from sim.pim.reproduce import reproduce
from workloads.errors import SpecError
from workloads import get_model


def load_experiment(path: Path) -> tuple[list[str], int]:
    raw = yaml.safe_load(path.read_text())
    if not isinstance(raw, dict) or "models" not in raw or "tokens" not in raw:
        raise SpecError(f"{path}: expected keys models and tokens")
    return [str(m) for m in raw["models"]], int(raw["tokens"])


@click.command("pim")
@click.option("--model", "models", multiple=True, help="model name (repeatable); default: the YAML's models")
@click.option("--tokens", type=int, default=None, help="tokens generated (kv length reached)")
@click.option("--experiment", type=click.Path(path_type=Path), default=Path("experiments/pim_gpt.yaml"))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def pim(models, tokens, experiment, fmt):
    """Simulate PIM-GPT decode per token (fast engine) and compare with the GPU/CPU rooflines."""
    if not models:
        models, default_tokens = load_experiment(experiment)
        tokens = tokens or default_tokens
    tokens = tokens or 1024
    if tokens < 1:
        raise SpecError(f"--tokens must be >= 1, got {tokens}")
    for m in models:
        get_model(m)
    rows = []
    with click.progressbar(models, label="pim", file=None if fmt == "text" else open("/dev/null", "w")) as bar:
        for m in bar:
            rows.append({k: (float(v) if hasattr(v, "item") else v) for k, v in reproduce(m, tokens).items()})
    if fmt == "json":
        click.echo(json.dumps(rows, indent=1))
        return
    click.echo(f"{'model':<12}{'ms/token':>10}{'J/token':>10}{'xGPU':>8}{'xCPU':>8}{'EE GPU':>9}{'EE CPU':>9}")
    for r in rows:
        click.echo(f"{r['model']:<12}{r['latency_ms_per_token']:>10.3f}{r['energy_j_per_token']:>10.4f}"
                   f"{r['speedup_vs_gpu']:>8.1f}{r['speedup_vs_cpu']:>8.1f}"
                   f"{r['energy_eff_vs_gpu']:>9.1f}{r['energy_eff_vs_cpu']:>9.1f}")

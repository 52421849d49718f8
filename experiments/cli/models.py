"""`einspace models`: the model zoo, or the Hugging Face models named on the command line."""
from __future__ import annotations

import json

import click

from workloads import get_model
from workloads.models import MODELS


@click.command("models")
@click.argument("sources", nargs=-1)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def models(sources: tuple[str, ...], fmt: str) -> None:
    """List the model presets with their shapes and parameter counts; with SOURCES (config.json
    paths, checkpoint folders, model ids in the local Hugging Face cache), list those instead."""
    specs = [get_model(s) for s in sources] if sources else list(MODELS.values())
    rows = [
        {
            "name": m.name, "family": m.family, "kind": m.kind, "layers": m.n_layers, "d_model": m.d_model,
            "heads": m.n_heads, "kv_heads": m.kv_heads, "d_head": m.d_head, "d_ff": m.d_ff,
            "vocab": m.vocab_size, "params": m.param_count() if m.kind != "attention" else None,
            "published_params": m.published_params, "source": m.source,
        }
        for m in specs
    ]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=1))
        return
    width = max([14, *(len(r["name"]) for r in rows)])
    click.echo(f"{'model':<{width}} {'kind':<9} {'layers':>6} {'d_model':>7} {'heads':>5} {'kv':>3} {'d_head':>6} {'d_ff':>6} {'params':>15}")
    for r in rows:
        params = f"{r['params']:,}" if r["params"] else "-"
        click.echo(f"{r['name']:<{width}} {r['kind']:<9} {r['layers']:>6} {r['d_model']:>7} {r['heads']:>5} {r['kv_heads']:>3} {r['d_head']:>6} {r['d_ff']:>6} {params:>15}")

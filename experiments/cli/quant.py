"""`einspace quant`: weight-quantization error table (scheme × bit-width → normalized MSE)."""
from __future__ import annotations

import json

import click

from sim.numerics.study import SCHEMES, STUDY_BITS, run_study
from sim.numerics.weights import load_minilm_linear_weights, synthetic_weights
from workloads.errors import SpecError

SOURCES = ("minilm", "synthetic")
FORMATS = ("text", "json")


def _check(option: str, value, allowed) -> None:
    if value not in allowed:
        raise SpecError(f"{option} {value!r} is not allowed; choose one of: {', '.join(map(str, allowed))}")


def _shares_text(shares: dict[str, float]) -> str:
    return ", ".join(f"{k} {100 * v:.1f}%" for k, v in shares.items()) or "-"


@click.command("quant")
@click.option("--scheme", default="all", show_default=True, help=f"{'|'.join(SCHEMES)}|all")
@click.option("--bits", default=4, show_default=True, type=int, help="3 or 4")
@click.option("--group", "group_size", default=128, show_default=True, type=int, help="group size (MX uses 32)")
@click.option("--source", default="minilm", show_default=True, help="minilm (real weights) or synthetic")
@click.option("--format", "fmt", default="text", show_default=True, help="text or json")
def quant(scheme: str, bits: int, group_size: int, source: str, fmt: str) -> None:
    """Quantize linear-layer weights with each scheme and print the error table."""
    _check("--scheme", scheme, (*SCHEMES, "all"))
    _check("--bits", bits, STUDY_BITS)
    _check("--source", source, SOURCES)
    _check("--format", fmt, FORMATS)
    if group_size < 2 or group_size % 2:
        raise SpecError(f"--group {group_size} is not allowed; use an even group size that divides the layer width (e.g. 32, 64, 128)")
    weights = load_minilm_linear_weights() if source == "minilm" else synthetic_weights()
    for name, w in weights.items():
        if w.shape[1] % group_size:
            raise SpecError(f"--group {group_size} does not divide the input width {w.shape[1]} of {name}")
    schemes = SCHEMES if scheme == "all" else (scheme,)
    click.echo(f"quantizing {len(weights)} matrices from {source} ({sum(w.size for w in weights.values())} weights)...", err=True)
    table = run_study(
        weights, schemes, (bits,), group_size, progress=lambda msg: click.echo(f"  {msg}", err=True)
    ).sort_values("nmse", kind="stable")
    if fmt == "json":
        click.echo(json.dumps({"source": source, "bits": bits, "rows": table.to_dict(orient="records")}, indent=2))
        return
    click.echo(f"{'scheme':<9} {'bits':>4} {'group':>5} {'norm. MSE':>10} {'SQNR dB':>8} {'matmul err':>10}  datatype share")
    for row in table.itertuples():
        click.echo(
            f"{row.scheme:<9} {row.bits:>4} {row.group:>5} {row.nmse:>10.5f} {row.sqnr_db:>8.2f} "
            f"{row.matmul_rel_err:>10.4f}  {_shares_text(row.shares)}"
        )

"""`einspace run`: evaluate one design point of one family, through the code a sweep runs.

The workload options are those of an experiment's `workloads:` block (one value each) and
`--param KEY=VALUE` the family's design parameters (values read as YAML scalars); both are
validated by the sweep's own schema, the family's `check` runs, and the point is evaluated by the
sweep worker (`experiments.worker.evaluate_chunk`), so `einspace run` and `einspace sweep` give the
same numbers for the same point.
"""
from __future__ import annotations

import json

import click
import yaml
from pydantic import ValidationError

from experiments.families import get_family, names
from experiments.schema import Workloads, check_params, first_error
from experiments.space import Point
from experiments.worker import evaluate_chunk
from workloads.attention import VARIANTS
from workloads.dtypes import BITS
from workloads.errors import SpecError
from workloads.lower import LM_HEAD, PHASES


def parse_params(pairs: tuple[str, ...]) -> dict:
    """`KEY=VALUE` pairs -> {key: YAML scalar}."""
    params = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise SpecError(f"--param {pair!r}: expected KEY=VALUE")
        try:
            params[key.strip()] = yaml.safe_load(text)
        except yaml.YAMLError:
            raise SpecError(f"--param {key.strip()}: {text!r} is not a YAML scalar") from None
    return params


def workload_of(**options) -> dict:
    """The validated workload (the keyword set a sweep point carries)."""
    fields = {k: v for k, v in options.items() if v is not None}
    for key in ("model", "phase", "batch", "seq_len"):
        if key in fields:
            fields[{"model": "models", "phase": "phases"}.get(key, key)] = [fields.pop(key)]
    try:
        return Workloads(**fields).combos()[0]
    except ValidationError as err:
        where = first_error(err, Workloads).replace("models:", "model:").replace("phases:", "phase:")
        raise SpecError(f"einspace run: --{where.replace('_', '-')}") from None


def point_of(family: str, mapping: str | None, workload: dict, params: dict) -> Point:
    fam = get_family(family)
    for key, value in params.items():
        check_params("einspace run", fam.params, {key: value}, f"--param {key}={value}")
    check_params("einspace run", fam.params, params, "--param")
    if mapping is not None and mapping not in fam.mappings:
        raise SpecError(f"--mapping {mapping!r} is not a {family} mapping; allowed: {', '.join(fam.mappings)}")
    if workload["phase"] not in fam.phases:
        raise SpecError(f"--phase {workload['phase']}: family {family} models {', '.join(fam.phases)}")
    if fam.check is not None:
        fam.check(workload, params)
    return Point(family, mapping or fam.default_mapping, workload, params)


@click.command("run")
@click.option("--family", required=True, type=click.Choice(names()), help="hardware family")
@click.option("--model", required=True, help="zoo model (einspace models)")
@click.option("--phase", type=click.Choice(PHASES), default="prefill", show_default=True)
@click.option("--seq-len", type=int, default=None, help="tokens (prefill) or context (decode) [128]")
@click.option("--batch", type=int, default=None, help="sequences [1]")
@click.option("--kv-len", type=int, default=None, help="cached tokens before a decode step")
@click.option("--layers", type=int, default=None, help="first N layers only")
@click.option("--attention", type=click.Choice(VARIANTS), default=None, help="attention cascade [3pass]")
@click.option("--lm-head", type=click.Choice(LM_HEAD), default=None, help="LM head rows [all]")
@click.option("--weight-dtype", type=click.Choice(tuple(BITS)), default=None)
@click.option("--activation-dtype", type=click.Choice(tuple(BITS)), default=None)
@click.option("--kv-dtype", type=click.Choice(tuple(BITS)), default=None)
@click.option("--mapping", default=None, help="the family's mapping strategy (default: its first)")
@click.option("--param", "-p", "params", multiple=True, metavar="KEY=VALUE", help="a design parameter")
@click.option("--einsums", is_flag=True, help="print the per-Einsum table too")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def run(family, mapping, params, einsums, fmt, **workload) -> None:
    """Evaluate one design point: the family maps the lowered cascade and simulates it."""
    point = point_of(family, mapping, workload_of(**workload), parse_params(params))
    (_, point_id, metrics, rows), = evaluate_chunk([point.as_dict()])
    if fmt == "json":
        doc = {"point_id": point_id, **point.as_dict(), "metrics": metrics}
        if einsums:
            doc["einsums"] = json.loads(rows.to_json(orient="records"))
        click.echo(json.dumps(doc, indent=2, sort_keys=True))
        return
    click.echo(f"{family} / {point.mapping}: {point.workload['model']} {point.workload['phase']} "
               f"seq_len={point.workload['seq_len']} batch={point.workload['batch']} (point {point_id})")
    for key, value in metrics.items():
        click.echo(f"  {key:<32} {value:.6g}" if isinstance(value, float) else f"  {key:<32} {value}")
    if einsums:
        click.echo(rows.to_string(index=False))

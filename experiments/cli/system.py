"""`einspace system`: one request (prefill + decode) on a heterogeneous system.

`--system` is a preset name (`sim/system/presets/`) or a YAML file; `--placement` is `auto` (the
rule-based placement), `search` (exhaustive over the compute classes x capable units, minimizing
`--objective`) or a placement file (`classes: {group: unit}`, `einsums: {name: unit}`,
`vector: producer|host`). Prints, per unit, busy time, utilization, energy, memory and area, and
the request's TTFT, TPOT, tokens/s, J/token and area, and the design's speedup and energy ratio
over a GPU on the same request (`--baseline gpu-a100|gpu-h100|none`, `experiments.system.baseline`);
`--figures DIR` writes the decode Gantt chart and the energy breakdown
(`experiments.system.figures`); `--format json` gives the same with stable keys. The model is in docs/system.md.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import click

from experiments.system import scaleout
from experiments.system.baseline import CHOICES, baseline_request, versus
from experiments.system.request import Request, RequestResult, run_request
from mappers.system import OBJECTIVES, load_rules
from sim.system.spec import load_system
from workloads.attention import VARIANTS
from workloads.errors import SpecError

GIB = 2**30


def _placement(value: str):
    if value in ("auto", "search"):
        return value
    path = Path(value)
    if not path.is_file():
        raise SpecError(f"--placement {value!r}: not auto, search or a placement file")
    return load_rules(path)


def _units_by_group(mapping) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in mapping.cascade.einsums:
        units = out.setdefault(e.group, [])
        unit = mapping.of(e.name).unit
        if unit not in units:
            units.append(unit)
    return out


def _search_doc(outcome) -> dict | None:
    if outcome is None:
        return None
    return {"choice": outcome.choice, "vector": outcome.vector, "objective": outcome.objective,
            "metric": outcome.metric, "evaluated": outcome.evaluated, "candidates": outcome.candidates,
            "skipped": outcome.skipped}


def _baseline(res: RequestResult, name: str) -> dict | None:
    """The design's ratios over the GPU baseline `name` on the same request (None for `none`)."""
    if name == "none":
        return None
    base = baseline_request(name, res.request)
    return {"system": name, **versus(res, base)}


def document(res: RequestResult, placement: str, wall_s: float, baseline: dict | None = None) -> dict:
    """The JSON document of a request (stable keys)."""
    req = res.request
    return {"baseline": baseline, "system": res.system.name, "model": req.model, "prompt": req.prompt, "generate": req.generate,
            "batch": req.batch, "layers": req.layers, "placement": placement,
            "summary": res.summary(), "per_token_s": list(res.per_token_s),
            "units": res.units().to_dict(orient="records"),
            "placements": {"prefill": _units_by_group(res.prefill.mapping),
                           "decode": _units_by_group(res.decode[-1].mapping)},
            "search": {"prefill": _search_doc(res.prefill.search), "decode": _search_doc(res.decode_search)},
            "wall_s": wall_s}


def _table(res: RequestResult, placement: str, wall_s: float, baseline: dict | None = None) -> str:
    req, s = res.request, res.summary()
    lines = [f"system {res.system.name}: {req.model}, prompt {req.prompt}, generate {req.generate}, batch {req.batch}"
             f"{f', layers {req.layers}' if req.layers else ''} (placement {placement})",
             f"  {'unit':<10} {'family':<10} {'busy ms':>10} {'util':>6} {'energy mJ':>11} {'memory GiB':>11} "
             f"{'capacity GiB':>13} {'area mm2':>9}"]
    for u in res.units().to_dict(orient="records"):
        lines.append(f"  {u['unit']:<10} {u['family']:<10} {u['busy_s'] * 1e3:>10.4f} {u['utilization']:>6.1%} "
                     f"{u['energy_j'] * 1e3:>11.4f} {u['memory_bytes'] / GIB:>11.3f} {u['capacity_bytes'] / GIB:>13.3f} "
                     f"{u['area_mm2']:>9.2f}")
    for phase, outcome in (("prefill", res.prefill.search), ("decode", res.decode_search)):
        if outcome is not None:
            lines.append(f"  search ({phase}): {outcome.evaluated} placements scheduled, best {outcome.objective} "
                         f"{outcome.metric:.6g}: {outcome.choice or 'the auto rules'}, vector {outcome.vector}")
    lines += [f"  TTFT        {s['ttft_s'] * 1e3:.4f} ms",
              f"  TPOT        {s['tpot_s'] * 1e3:.4f} ms (mean of {req.generate} steps)",
              f"  KV hand-off {s['kv_handoff_s'] * 1e3:.4f} ms",
              f"  tokens/s    {s['tokens_per_s']:.2f}",
              f"  J/token     {s['j_per_token']:.6g}",
              f"  energy      {s['energy_j']:.6g} J (links {s['link_energy_j']:.3g} J)",
              f"  area        {s['area_mm2']:.2f} mm2"]
    if baseline is not None:
        lines += [f"  vs {baseline['system']}: speedup {baseline['speedup']:.3g}x (TTFT {baseline['speedup_ttft']:.3g}x, "
                  f"TPOT {baseline['speedup_tpot']:.3g}x), energy ratio {baseline['energy_ratio']:.3g}x "
                  f"(GPU {baseline['baseline_j_per_token']:.4g} J/token at TDP x time, an upper bound)"]
    lines.append(f"  wall time   {wall_s:.2f} s")
    return "\n".join(lines)


@click.command("system")
@scaleout.options
@click.option("--system", "system_", required=True, help="a system preset (sim/system/presets) or a YAML file")
@click.option("--model", required=True, help="zoo model (einspace models)")
@click.option("--prompt", type=int, required=True, help="prompt tokens P (the prefill)")
@click.option("--generate", type=int, required=True, help="generated tokens G (decode steps at kv = P … P+G-1)")
@click.option("--batch", type=int, default=1, show_default=True, help="sequences")
@click.option("--layers", type=int, default=None, help="first N layers only")
@click.option("--attention", type=click.Choice(VARIANTS), default="3pass", show_default=True)
@click.option("--placement", default="auto", show_default=True, help="auto, search or a placement YAML file")
@click.option("--objective", type=click.Choice(OBJECTIVES), default="latency_s", show_default=True,
              help="what --placement search minimizes")
@click.option("--baseline", type=click.Choice(CHOICES), default="gpu-a100", show_default=True,
              help="GPU preset the design is compared with on the same request (speedup, energy ratio)")
@click.option("--exact-decode", is_flag=True, help="simulate every decode step (default: interpolate over kv "
              "between simulated steps, within 0.1 %)")
@click.option("--figures", "figures_dir", type=click.Path(file_okay=False), default=None,
              help="write gantt_decode.png and energy_breakdown.png to this directory")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def system(system_, model, prompt, generate, batch, layers, attention, placement, objective, baseline, exact_decode,
           figures_dir, fmt) -> None:
    """Evaluate one request (prefill + decode) on a heterogeneous system."""
    spec = load_system(system_)
    rules = _placement(placement)
    request = Request(model, prompt, generate, batch, layers, attention)
    mode = "exact" if exact_decode else "interpolate"
    start = time.perf_counter()
    if fmt == "table" and generate > 8 and exact_decode:
        with click.progressbar(length=generate, label="decode steps", file=click.get_text_stream("stderr")) as bar:
            res = run_request(spec, request, rules, objective, progress=lambda done, total: bar.update(1),
                              decode_mode=mode)
    else:
        res = run_request(spec, request, rules, objective, decode_mode=mode)
    wall = time.perf_counter() - start
    versus_gpu = _baseline(res, baseline)
    if figures_dir is not None:
        from experiments.system.figures import write_figures

        for path in write_figures(res, figures_dir):
            click.echo(f"wrote {path}", err=True)
    if fmt == "json":
        click.echo(json.dumps(document(res, placement, wall, versus_gpu), indent=2, sort_keys=True))
        return
    click.echo(_table(res, placement, wall, versus_gpu))

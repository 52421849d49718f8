"""`einspace map`: the best loop nest per matrix Einsum of one model on a PE array.

The workload is lowered as `einspace run` does (`--model`, `--phase`, `--seq-len`, `--batch`,
`--layers`); the array is the family's default design point (`roofline`: its accelerator's PE
array, `sim.pe_array.spec.from_roofline`; `bitserial`: the accelerator kind `--accel`,
`sim.pe_array.spec.from_bitserial`, with the bit-serial PE's term cycles) or a `--param`-changed
one. Every matrix Einsum is searched (`mappers.mapspace.search`, cached per shape) for
`--objective`; the output shows per Einsum the best nest as loop-nest text (or JSON), how many
nests were evaluated, and the fixed output-stationary nest's cost beside it.
"""
from __future__ import annotations

import json

import click

from experiments.cli.run import parse_params, workload_of
from experiments.families import cascade_of, get_family
from mappers.bitserial.gemm import extract_gemms
from mappers.mapspace import METHODS, OBJECTIVES, search
from mappers.mapspace.cascade import unnamed
from sim.pe_array.nest import gemm
from sim.pe_array.spec import from_bitserial, from_roofline
from workloads.errors import SpecError

FAMILIES = ("roofline", "bitserial")


def arrays(family: str, params: dict, workload: dict, systolic: bool):
    """(PE array for weight GEMMs, for attention matmuls, element bytes (input, weight, kv, output))."""
    fam = get_family(family)
    spec = fam.arch(fam.params(**params), workload)
    if family == "roofline":
        pe = from_roofline(spec, systolic=systolic)
        w = spec.word_bytes
        return pe, pe, (w, w, w, w)
    a = spec.act_bits / 8
    return from_bitserial(spec), from_bitserial(spec, attention=True), (a, spec.weight_bits / 8, spec.kv_bits / 8, a)


def mapped(cascade, family, params, workload, objective, method, max_evals, seed, systolic) -> list[dict]:
    """One record per matrix Einsum: its shape, the search's result and the fixed nest's cost."""
    pe_w, pe_a, (ib, wb, kb, ob) = arrays(family, params, workload, systolic)
    out = []
    for g in extract_gemms(cascade):
        att = g.group == "attention"
        pe = pe_a if att else pe_w
        prob = gemm(g.batch, g.m_tokens, g.k_reduce, g.n_out, ib, kb if att else wb, ob)
        res = search(unnamed(prob), pe, objective, method, max_evals, seed)
        names = tuple(lvl.name for lvl in pe.levels)
        c, f = res.cost, res.fixed
        out.append({"einsum": g.name, "shape": {"B": g.batch, "M": g.m_tokens, "K": g.k_reduce, "N": g.n_out},
                    "array": pe.name, "method": res.method, "evaluated": res.evaluated,
                    "cycles": c.cycles, "energy_pj": c.energy_pj, "dram_bytes": c.bytes_by_level[names[0]],
                    "utilization": c.utilization, "fill_drain_cycles": c.fill_drain_cycles,
                    "fixed_cycles": f.cycles, "fixed_energy_pj": f.energy_pj,
                    "fixed_dram_bytes": f.bytes_by_level.get(names[0], float("nan")),
                    "nest": res.nest.as_dict(names), "nest_text": res.nest.text(names, pe.fanout_level)})
    return out


@click.command("map")
@click.option("--model", required=True, help="a zoo model name, config.json or HF folder")
@click.option("--phase", default="prefill", show_default=True, help="prefill|decode")
@click.option("--family", default="roofline", show_default=True, help="|".join(FAMILIES))
@click.option("--objective", default="latency", show_default=True, help="|".join(OBJECTIVES))
@click.option("--method", default="auto", show_default=True, help="|".join(METHODS))
@click.option("--seq-len", default=256, show_default=True, type=int)
@click.option("--batch", default=1, show_default=True, type=int)
@click.option("--layers", default=1, show_default=True, type=int, help="decoder layers lowered")
@click.option("--max-evals", default=5000, show_default=True, type=int, help="budget of the pruned search")
@click.option("--seed", default=0, show_default=True, type=int, help="seed of the sampled search")
@click.option("--systolic", is_flag=True, help="charge SCALE-Sim fill/drain per fold (roofline array)")
@click.option("--param", "params", multiple=True, help="KEY=VALUE design parameter of the family")
@click.option("--format", "fmt", default="text", show_default=True, help="text|json")
def map_cmd(model, phase, family, objective, method, seq_len, batch, layers, max_evals, seed, systolic,
            params, fmt) -> None:
    """Best loop nest per matrix Einsum: loop-nest text or JSON, evaluated count, fixed dataflow."""
    for opt, val, allowed in (("--family", family, FAMILIES), ("--objective", objective, OBJECTIVES),
                              ("--method", method, METHODS), ("--format", fmt, ("text", "json"))):
        if val not in allowed:
            raise SpecError(f"{opt} {val!r} is not allowed; choose one of: {', '.join(allowed)}")
    if max_evals < 1:
        raise SpecError(f"--max-evals {max_evals}: must be >= 1")
    workload = workload_of(model=model, phase=phase, seq_len=seq_len, batch=batch, layers=layers)
    click.echo(f"searching {model} {phase} on the {family} PE array ({objective}, {method})...", err=True)
    records = mapped(cascade_of(workload), family, parse_params(params), workload, objective, method,
                     max_evals, seed, systolic)
    if fmt == "json":
        click.echo(json.dumps({"model": model, "phase": phase, "family": family, "objective": objective,
                               "einsums": [{k: v for k, v in r.items() if k != "nest_text"} for r in records]},
                              indent=2, default=float))
        return
    for r in records:
        s = r["shape"]
        click.echo(f"== {r['einsum']}  B{s['B']} M{s['M']} K{s['K']} N{s['N']} on {r['array']}: "
                   f"{r['method']}, {r['evaluated']} nests evaluated")
        click.echo(f"   best  {r['cycles']:.0f} cycles, {r['energy_pj'] / 1e6:.3f} uJ, DRAM {r['dram_bytes'] / 1e6:.3f} MB, "
                   f"utilization {r['utilization']:.2f}")
        click.echo(f"   fixed {r['fixed_cycles']:.0f} cycles, {r['fixed_energy_pj'] / 1e6:.3f} uJ, "
                   f"DRAM {r['fixed_dram_bytes'] / 1e6:.3f} MB (output-stationary)")
        click.echo("\n".join("   " + line for line in r["nest_text"].splitlines()))
        click.echo("   json " + json.dumps(r["nest"]))
    total, fixed = sum(r["cycles"] for r in records), sum(r["fixed_cycles"] for r in records)
    click.echo(f"total {total:.0f} cycles (fixed output-stationary {fixed:.0f}: {fixed / total:.3f}x)")


map = map_cmd  # noqa: A001 - the attribute `_SUBCOMMANDS` names

"""`einspace dram`: run a memory trace or a synthetic pattern through the command-level DRAM model.

Text output is for people; `--format json` prints `DramResult.to_dict()` (key names documented
in docs/dram.md) plus `checker_violations`, the number of violations the independent timing
checker found in the emitted command trace.
"""
from __future__ import annotations

import json

import click

from sim.dram import (DEFAULT_MAPPING, available_standards, capacity_bytes, check_trace,
                      load_standard, read_trace, simulate, synthetic)
from sim.dram.address import AddressMapping, mapping_names, vector_address
from sim.dram.engines import ENGINES
from sim.dram.spec import with_channels
from sim.dram.system import simulate_stream
from sim.dram.trace import (MAX_REQUESTS, SYNTHETIC, TRACE_FORMATS, synthetic_chunks,
                            trace_chunks)
from workloads.errors import SpecError

FORMATS = ("text", "json", "ramulator")


def _check(option: str, value, allowed) -> None:
    if value not in allowed:
        raise SpecError(f"{option} {value!r} is not allowed; choose one of: "
                        f"{', '.join(map(str, allowed))}")


def _run(std, trace_path: str | None, pattern: str | None, requests: int, max_requests: int,
         stride: int | None, seed: int, write_fraction: float, mapping: str, policy: str,
         refresh: str, engine: str, check: bool, trace_format: str):
    """The simulation behind `einspace dram` on an already channel-adjusted standard."""
    org = std.organization
    vector = vector_address(AddressMapping.parse(mapping, org), org)
    read_opts = {"capacity_bytes": capacity_bytes(std), "max_requests": max_requests,
                 "trace_format": trace_format, "vector_address": vector}
    synth_opts = {"stride_bytes": stride, "seed": seed, "write_fraction": write_fraction,
                  "max_requests": max_requests}
    if engine == "fast":  # streamed in chunks: memory flat in the number of requests
        chunks = (trace_chunks(trace_path, **read_opts) if trace_path is not None else
                  synthetic_chunks(pattern, requests, org.burst_bytes, capacity_bytes(std),
                                   **synth_opts))
        return simulate_stream(std, chunks, mapping=mapping, policy=policy, refresh=refresh,
                               trace=check)
    entries = (read_trace(trace_path, **read_opts) if trace_path is not None else
               synthetic(pattern, requests, org.burst_bytes, capacity_bytes(std), **synth_opts))
    return simulate(std, entries, mapping=mapping, policy=policy, refresh=refresh, engine=engine)


def _text(out: dict, violations) -> list[str]:
    lat = out["read_latency_ns"]
    lines = [
        f"standard            {out['standard']}  (mapping {out['mapping']}, {out['policy']} page,"
        f" refresh {out['refresh']}, engine {out['engine']}, {out['channels']} channel(s))",
        f"requests            {out['requests']} ({out['reads']} reads, {out['writes']} writes)",
        f"elapsed             {out['cycles']} cycles = {out['elapsed_ns']:.1f} ns",
        f"bandwidth           {out['bandwidth_gbps']:.2f} GB/s of {out['peak_bandwidth_gbps']:.2f}"
        f" GB/s peak ({100 * out['bandwidth_efficiency']:.1f} %)",
        f"row buffer          hit {100 * out['row_hit_rate']:.1f} %, miss "
        f"{100 * out['row_miss_rate']:.1f} %, conflict {100 * out['row_conflict_rate']:.1f} %",
        f"read latency (ns)   mean {lat['mean']:.1f}, p50 {lat['p50']:.1f}, p99 {lat['p99']:.1f}",
        "commands            " + ", ".join(f"{k} {v}" for k, v in out["command_counts"].items()),
    ]
    if out["energy_pj"] is not None:
        e = out["energy_pj"]
        lines.append(f"energy              {e['total'] / 1e6:.3f} uJ (activate "
                     f"{e['activate'] / 1e6:.3f}, read {e['read'] / 1e6:.3f}, write "
                     f"{e['write'] / 1e6:.3f}, refresh {e['refresh'] / 1e6:.3f}, background "
                     f"{e['background'] / 1e6:.3f}); source: {out['energy_source']}")
    else:
        lines.append(f"energy              not modeled ({out['energy_source']})")
    if violations is not None:
        lines.append(f"timing checker      {len(violations)} violation(s)")
        lines.extend(f"  {v.message}" for v in violations[:10])
    return lines


@click.command("dram")
@click.option("--standard", required=True, help=f"one of: {', '.join(available_standards())}")
@click.option("--trace", "trace_path", default=None, help="trace file, lines 'ADDR R|W [cycle]'")
@click.option("--trace-format", default="einspace", show_default=True,
              help="einspace ('ADDR R|W [cycle]' and the spellings of docs/dram.md) or ramulator "
                   "(Ramulator 2 'LD|ST ADDR', 'R|W ADDR', 'R|W ch,ra,bg,ba,ro,co')")
@click.option("--synthetic", "pattern", default=None, help="|".join(SYNTHETIC))
@click.option("--requests", default=10000, show_default=True, type=int,
              help="requests of a synthetic pattern")
@click.option("--max-requests", default=MAX_REQUESTS, show_default=True, type=click.IntRange(min=1),
              help="refuse a trace or pattern with more requests (a bound on time)")
@click.option("--stride", default=None, type=int, help="bytes between strided requests")
@click.option("--seed", default=0, show_default=True, type=int, help="random-pattern seed")
@click.option("--write-fraction", default=0.0, show_default=True, type=float,
              help="share of synthetic requests that are writes")
@click.option("--mapping", default=DEFAULT_MAPPING, show_default=True,
              help="einspace fields MSB to LSB (Ch Ra Bg Ba Ro Co) or a Ramulator 2.0 mapper: "
                   + ", ".join(mapping_names()))
@click.option("--channels", default=None, type=int,
              help="channels (power of two, 1-1024; default: the standard's own count)")
@click.option("--policy", default="open", show_default=True, help="open|closed page policy")
@click.option("--refresh", default="all_bank", show_default=True, help="all_bank|per_bank|none")
@click.option("--engine", default="simpy", show_default=True, help="|".join(ENGINES))
@click.option("--check/--no-check", default=True, show_default=True,
              help="run the independent timing checker on the command trace (--engine fast "
                   "records the trace only with --check)")
@click.option("--format", "fmt", default="text", show_default=True,
              help="text or json output; 'ramulator' = text output of a Ramulator-format trace "
                   "(--trace-format ramulator)")
def dram(standard: str, trace_path: str | None, trace_format: str, pattern: str | None,
         requests: int, max_requests: int, stride: int | None, seed: int, write_fraction: float,
         mapping: str, channels: int | None, policy: str, refresh: str, engine: str, check: bool,
         fmt: str) -> None:
    """Simulate DRAM requests and report bandwidth, row-buffer rates, latency and energy."""
    _check("--format", fmt, FORMATS)
    _check("--trace-format", trace_format, TRACE_FORMATS)
    _check("--engine", engine, ENGINES)
    if fmt == "ramulator":
        fmt, trace_format = "text", "ramulator"
    std = with_channels(load_standard(standard), channels)
    if (trace_path is None) == (pattern is None):
        raise SpecError("give exactly one of --trace FILE or --synthetic "
                        f"{'|'.join(SYNTHETIC)}")
    if not 0.0 <= write_fraction <= 1.0:
        raise SpecError(f"--write-fraction {write_fraction}: must be between 0 and 1")
    if trace_path is None:
        _check("--synthetic", pattern, SYNTHETIC)
    source = trace_path if trace_path is not None else f"synthetic {pattern}"
    click.echo(f"simulating {source} on {std.name} (engine {engine})...", err=True)
    result = _run(std, trace_path, pattern, requests, max_requests, stride, seed, write_fraction,
                  mapping, policy, refresh, engine, check, trace_format)
    violations = check_trace(std, result.trace, end_cycle=result.cycles) if check else None
    out = result.to_dict() | {"source": source, "channels": std.organization.channels,
                              "checker_violations": None if violations is None
                              else len(violations)}
    if fmt == "json":
        click.echo(json.dumps(out, indent=2))
        return
    click.echo("\n".join(_text(out, violations)))

"""`einspace attention`: map one attention layer, print traffic per tensor, the bound and the ratio."""
from __future__ import annotations

import json

import click

from mappers.attention import DESIGNS, AttentionLayer, search_design, traffic_bound
from workloads.errors import SpecError


def _paper_report(model, seq_len, design, batch, fmt):
    from experiments.reproductions.fusemax_layers import paper_model
    r = paper_model(design, model, seq_len, batch=batch)
    row = {"model": model, "seq_len": seq_len, "design": design, "batch": batch, "mode": "paper",
           "cycles": r.cycles, "seconds": r.seconds, "energy_pj": r.energy_pj,
           "end_to_end_cycles": r.end_to_end_cycles,
           "end_to_end_energy_pj": r.end_to_end_energy_pj, "traffic_bytes": r.traffic_bytes,
           "util_2d": r.util_2d, "util_1d": r.util_1d, "per_einsum_cycles": r.per_einsum_cycles}
    if fmt == "json":
        click.echo(json.dumps(row, indent=2))
        return
    click.echo(f"{model} N={seq_len} {design} (paper mode): {r.cycles:,.0f} cycles "
               f"({r.seconds:.4g} s), {r.energy_pj / 1e12:.4g} J; end to end "
               f"{r.end_to_end_cycles:,.0f} cycles")
    click.echo(f"traffic {r.traffic_bytes:,.0f} B; utilization 2D {r.util_2d:.3f}  1D {r.util_1d:.3f}")


def _array_report(model, seq_len, design, buffer_kib, batch, fmt, mode="cycle", causal=False, progress=False):
    from experiments.reproductions.fusemax_layers import simulate_model
    from sim.attention_array import DESIGNS as ARRAY_DESIGNS
    from sim.attention_array import FUSEMAX
    from workloads.models import get_model
    get_model(model)
    if design not in ARRAY_DESIGNS:
        raise SpecError(f"--model runs the array model, which has no design {design!r}")
    if mode == "paper":
        if causal:
            raise SpecError("--mode paper follows the FuseMax artifact, which has no causal mask; "
                            "use --mode cycle")
        _paper_report(model, seq_len, design, batch, fmt)
        return
    from experiments.cli.progress import working

    with working(f"simulating {model} N={seq_len} {design} (cycle mode)", progress):
        r = simulate_model(design, model, seq_len, batch=batch,
                           arch=FUSEMAX.with_buffer(buffer_kib * 1024), causal=causal)
    traffic = r.mapping.traffic
    row = {"model": model, "seq_len": seq_len, "design": design, "batch": batch,
           "q_tile": r.mapping.q_tile, "kv_tile": r.mapping.kv_tile, "cycles": r.cycles,
           "seconds": r.seconds, "energy_pj": r.energy_pj, "end_to_end_cycles": r.end_to_end_cycles,
           "end_to_end_energy_pj": r.end_to_end_energy_pj, "traffic_bytes": r.traffic_bytes,
           "lower_bound_bytes": r.lower_bound_bytes,
           "ratio_to_lower_bound": r.traffic_bytes / r.lower_bound_bytes,
           "util_2d": r.util_2d, "util_1d": r.util_1d, "mode": "cycle", "causal": causal,
           "read_bytes": dict(traffic.read_bytes), "write_bytes": dict(traffic.write_bytes),
           "stages": [{"stage": s.stage, "cycles": s.cycles, "util_2d": s.util_2d,
                       "util_1d": s.util_1d} for s in r.stages]}
    if fmt == "json":
        click.echo(json.dumps(row, indent=2))
        return
    click.echo(f"{model} N={seq_len} {design}: {r.cycles:,.0f} cycles ({r.seconds:.4g} s), "
               f"{r.energy_pj / 1e12:.4g} J; end to end {r.end_to_end_cycles:,.0f} cycles")
    click.echo(f"traffic {r.traffic_bytes:,.0f} B; lower bound {r.lower_bound_bytes:,.0f} B; "
               f"ratio {row['ratio_to_lower_bound']:.3f}")
    _traffic_lines(traffic)
    click.echo(f"utilization 2D {r.util_2d:.3f}  1D {r.util_1d:.3f}")
    for s in r.stages:
        click.echo(f"  {s.stage:>9}: {s.cycles:,.0f} cycles  2D {s.util_2d:.3f}  1D {s.util_1d:.3f}")


@click.command("attention")
@click.option("--model", default=None, help="Model preset (e.g. fusemax-bert): run the array model.")
@click.option("--seq-len", type=int, default=None, help="Query and key/value length N (tokens).")
@click.option("--head-dim", type=int, default=128, show_default=True, help="Head dimension d.")
@click.option("--heads", type=int, default=1, show_default=True, help="Query heads.")
@click.option("--kv-heads", type=int, default=None, help="K/V heads (GQA); default = heads.")
@click.option("--batch", type=int, default=None,
              help="Batch; default 64 with --model fusemax-* (the FuseMax workloads), else 1.")
@click.option("--bytes-per-element", type=int, default=2, show_default=True)
@click.option("--causal/--no-causal", default=False, show_default=True)
@click.option("--buffer-kib", type=int, default=None,
              help="On-chip buffer size in KiB (default 16384 with --model).")
@click.option("--design", type=click.Choice(DESIGNS), default="flashattention2", show_default=True)
@click.option("--mode", type=click.Choice(["cycle", "paper"]), default="cycle", show_default=True,
              help="With --model: cycle-level model, or the FuseMax artifact's accounting.")
@click.option("--reproduce", "reproduce_dir", default=None,
              help="Run FuseMax's evaluation (the experiment experiments/fusemax.yaml) in process in "
                   "--mode; write CSV, summary and plots to this directory.")
@click.option("--grid", default="experiments/fusemax.yaml", show_default=True,
              help="Experiment file for --reproduce (its workloads, sequence lengths and designs).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
@click.option("--quiet", is_flag=True, help="no progress on stderr")
def attention(model, seq_len, head_dim, heads, kv_heads, batch, bytes_per_element, causal, buffer_kib,
              design, mode, reproduce_dir, grid, fmt, quiet):
    """Search the tiling of DESIGN for one attention layer; report exact off-chip traffic.

    With --model, simulate the layer on the FuseMax-style array (cycles, energy, utilization;
    --mode paper follows the FuseMax artifact's accounting). With --reproduce DIR, run FuseMax's
    evaluation grid in process and write results_<mode>.csv, summary_<mode>.yaml and plots_<mode>/
    (`einspace sweep experiments/fusemax.yaml` computes the same as an experiment)."""
    if reproduce_dir is not None:
        _reproduce(grid, reproduce_dir, mode, progress=fmt == "text" and not quiet)
        return
    if seq_len is None:
        raise SpecError("--seq-len is required")
    if batch is None:
        batch = 64 if model is not None and model.startswith("fusemax-") else 1
    if buffer_kib is None and model is not None:
        buffer_kib = 16384
    if buffer_kib is None:
        raise SpecError("--buffer-kib is required")
    if buffer_kib < 1:
        raise SpecError(f"--buffer-kib must be positive, got {buffer_kib}")
    if model is not None:
        _array_report(model, seq_len, design, buffer_kib, batch, fmt, mode, causal,
                      progress=fmt == "text" and not quiet)
        return
    layer = AttentionLayer(n_q=seq_len, n_kv=seq_len, head_dim=head_dim, heads=heads,
                           kv_heads=kv_heads, batch=batch, bytes_per_element=bytes_per_element,
                           causal=causal)
    _search_report(design, layer, buffer_kib * 1024, fmt)


def _reproduce(grid: str, out_dir: str, mode: str, progress: bool = True) -> None:
    from experiments.cli.progress import working
    from experiments.reproductions.fusemax import format_summary, load_grid, reproduce

    spec = load_grid(grid)
    with working(f"FuseMax grid ({mode} mode) -> {out_dir}", progress):
        summary = reproduce(spec, out_dir, mode)
    for line in format_summary(summary):
        click.echo(f"[{mode}] {line}")


def _search_report(design: str, layer: AttentionLayer, buffer_bytes: int, fmt: str) -> None:
    """The searched tiling of ``design`` for ``layer``: traffic per tensor, the bound, the ratio."""
    result = search_design(design, layer, buffer_bytes)
    if result is None:
        raise SpecError(f"no tiling of {design} fits a {buffer_bytes // 1024} KiB buffer for this layer")
    traffic = result.mapping.traffic
    bound = traffic_bound(layer, buffer_bytes)
    row = {
        "design": design,
        "q_tile": result.mapping.q_tile,
        "kv_tile": result.mapping.kv_tile,
        "pack_heads": result.mapping.pack_heads,
        "kv_keep": result.mapping.kv_keep,
        "serpentine": result.mapping.serpentine,
        "read_bytes": traffic.read_bytes,
        "write_bytes": traffic.write_bytes,
        "total_bytes": traffic.total_bytes,
        "lower_bound_bytes": bound.lower_bound_bytes,
        "bound_regime": bound.regime,
        "bound_terms_bytes": {"trivial": bound.trivial_bytes, "pair": bound.pair_bytes,
                              "reload": bound.reload_bytes, "matmul": bound.matmul_bytes},
        "bound_large_cache": bound.large_cache,
        "ratio_to_lower_bound": traffic.total_bytes / bound.lower_bound_bytes,
        "footprint_bytes": result.mapping.footprint_bytes,
        "footprint_by_tensor_bytes": result.mapping.footprint_breakdown(),
        "buffer_bytes": buffer_bytes,
        "search_seconds": result.seconds,
    }
    if fmt == "json":
        click.echo(json.dumps(row, indent=2))
        return
    click.echo(f"{design}: q_tile={row['q_tile']} kv_tile={row['kv_tile']}  "
               f"footprint {row['footprint_bytes']} B of {buffer_bytes} B")
    _traffic_lines(traffic)
    click.echo(f"total {traffic.total_bytes:,d} B; lower bound {bound.lower_bound_bytes:,.0f} B "
               f"({bound.regime}); ratio {row['ratio_to_lower_bound']:.3f}")


def _traffic_lines(traffic) -> None:
    for tensor in sorted(set(traffic.read_bytes) | set(traffic.write_bytes)):
        click.echo(f"  {tensor:>2}  read {traffic.read_bytes.get(tensor, 0):>16,d} B"
                   f"  write {traffic.write_bytes.get(tensor, 0):>16,d} B")

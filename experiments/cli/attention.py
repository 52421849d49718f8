"""`einspace attention`: map one attention layer, print traffic per tensor, the bound and the ratio."""
from __future__ import annotations

import json

import click

from mappers.attention import DESIGNS, AttentionLayer, search_design, traffic_bound
from workloads.errors import SpecError


@click.command("attention")
@click.option("--seq-len", type=int, required=True, help="Query and key/value length N (tokens).")
@click.option("--head-dim", type=int, default=128, show_default=True, help="Head dimension d.")
@click.option("--heads", type=int, default=1, show_default=True, help="Query heads.")
@click.option("--kv-heads", type=int, default=None, help="K/V heads (GQA); default = heads.")
@click.option("--batch", type=int, default=1, show_default=True)
@click.option("--bytes-per-element", type=int, default=2, show_default=True)
@click.option("--causal/--no-causal", default=False, show_default=True)
@click.option("--buffer-kib", type=int, required=True, help="On-chip buffer size in KiB.")
@click.option("--design", type=click.Choice(DESIGNS), default="flashattention2", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)
def attention(seq_len, head_dim, heads, kv_heads, batch, bytes_per_element, causal, buffer_kib,
              design, fmt):
    """Search the tiling of DESIGN for one attention layer; report exact off-chip traffic."""
    layer = AttentionLayer(n_q=seq_len, n_kv=seq_len, head_dim=head_dim, heads=heads,
                           kv_heads=kv_heads, batch=batch, bytes_per_element=bytes_per_element,
                           causal=causal)
    if buffer_kib < 1:
        raise SpecError(f"--buffer-kib must be positive, got {buffer_kib}")
    buffer_bytes = buffer_kib * 1024
    result = search_design(design, layer, buffer_bytes)
    if result is None:
        raise SpecError(f"no tiling of {design} fits a {buffer_kib} KiB buffer for this layer")
    traffic = result.mapping.traffic
    bound = traffic_bound(layer, buffer_bytes)
    row = {
        "design": design,
        "q_tile": result.mapping.q_tile,
        "kv_tile": result.mapping.kv_tile,
        "read_bytes": traffic.read_bytes,
        "write_bytes": traffic.write_bytes,
        "total_bytes": traffic.total_bytes,
        "lower_bound_bytes": bound.lower_bound_bytes,
        "bound_regime": bound.regime,
        "bound_terms_bytes": {"trivial": bound.trivial_bytes, "pair": bound.pair_bytes,
                              "matmul": bound.matmul_bytes},
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
    for tensor in sorted(set(traffic.read_bytes) | set(traffic.write_bytes)):
        click.echo(f"  {tensor:>2}  read {traffic.read_bytes.get(tensor, 0):>16,d} B"
                   f"  write {traffic.write_bytes.get(tensor, 0):>16,d} B")
    click.echo(f"total {traffic.total_bytes:,d} B; lower bound {bound.lower_bound_bytes:,.0f} B "
               f"({bound.regime}); ratio {row['ratio_to_lower_bound']:.3f}")

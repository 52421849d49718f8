"""Text, JSON and Graphviz DOT renderings of a cascade and its per-Einsum accounting."""
from __future__ import annotations

import json

from .ir import Cascade

SCHEMA_VERSION = 1


def summary(cascade: Cascade) -> dict:
    """Totals over all Einsums (derived from the per-Einsum rows, never stored)."""
    df = cascade.table()
    ops = int(df["ops"].sum())
    moved = float(df["bytes_read"].sum() + df["bytes_written"].sum())
    return {
        "einsums": len(df),
        "macs": int(df["macs"].sum()),
        "ops": ops,
        "bytes_read": float(df["bytes_read"].sum()),
        "bytes_written": float(df["bytes_written"].sum()),
        "intensity": ops / moved if moved else None,
        "weight_bytes": float(sum(t.bytes for t in cascade.tensors.values() if t.role == "weight")),
    }


def to_json(cascade: Cascade) -> str:
    """Stable keys: schema, meta, totals, einsums[] (name, layer, group, kind, expression,
    ranks, macs, ops{kind: n}, bytes_read{tensor: B}, bytes_written{tensor: B}, intensity)."""
    rows = []
    for e, s in zip(cascade.einsums, cascade.stats):
        rows.append({
            "name": e.name,
            "layer": e.layer,
            "group": e.group,
            "kind": e.kind,
            "expression": str(e),
            "ranks": {r: cascade.rank_sizes[r] for r in e.ranks},
            "macs": s.macs,
            "ops": s.ops,
            "bytes_read": s.bytes_read,
            "bytes_written": s.bytes_written,
            "intensity": None if s.intensity == float("inf") else s.intensity,
        })
    doc = {"schema": SCHEMA_VERSION, "cascade": cascade.name, "meta": cascade.meta,
           "totals": summary(cascade), "einsums": rows}
    return json.dumps(doc, indent=1)


def _si(x: float) -> str:
    for unit, div in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= div:
            return f"{x / div:.2f}{unit}"
    return f"{x:.0f}"


def to_text(cascade: Cascade) -> str:
    df = cascade.table()
    head = f"{'einsum':<22} {'layer':>5} {'group':<10} {'MACs':>9} {'ops':>9} {'read B':>9} {'write B':>9} {'ops/B':>8}"
    lines = [f"cascade {cascade.name}: " + ", ".join(f"{k}={v}" for k, v in cascade.meta.items() if k not in ("dtypes", "spec")), head, "-" * len(head)]
    for r in df.itertuples():
        layer = "" if r.layer is None or r.layer != r.layer else int(r.layer)
        lines.append(
            f"{r.einsum:<22} {layer!s:>5} {r.group:<10} {_si(r.macs):>9} {_si(r.ops):>9} "
            f"{_si(r.bytes_read):>9} {_si(r.bytes_written):>9} {r.intensity:>8.2f}"
        )
    t = summary(cascade)
    lines.append("-" * len(head))
    lines.append(
        f"{'total':<22} {'':>5} {'':<10} {_si(t['macs']):>9} {_si(t['ops']):>9} {_si(t['bytes_read']):>9} "
        f"{_si(t['bytes_written']):>9} {t['intensity'] or 0:>8.2f}"
    )
    lines.append(f"weights: {_si(t['weight_bytes'])}B; {t['einsums']} Einsums")
    return "\n".join(lines)


def to_dot(cascade: Cascade) -> str:
    """Einsums as boxes, cascade inputs as ellipses, edges labelled by tensor; loop-carried
    edges of iterative ranks dashed."""
    def q(s: str) -> str:
        return '"' + s.replace('"', r'\"') + '"'

    lines = [f"digraph {q(cascade.name)} {{", "  rankdir=TB;", "  node [fontname=Helvetica, fontsize=10];"]
    for e in cascade.einsums:
        lines.append(f"  {q(e.name)} [shape=box, label={q(e.name + chr(10) + e.group)}];")
    for t in cascade.inputs:
        if cascade.tensors[t].role != "weight":
            lines.append(f"  {q(t)} [shape=ellipse, style=dashed];")
    for e in cascade.einsums:
        for acc in e.inputs:
            if acc.tensor in cascade.producer:
                continue
            if cascade.tensors[acc.tensor].role != "weight":
                lines.append(f"  {q(acc.tensor)} -> {q(e.name)};")
    for u, v, data in cascade.graph.edges(data=True):
        style = ", style=dashed" if data["carried"] else ""
        lines.append(f"  {q(u)} -> {q(v)} [label={q(data['tensor'])}{style}];")
    lines.append("}")
    return "\n".join(lines)

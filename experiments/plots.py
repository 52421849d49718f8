"""Figures of a run: objective scatter with the Pareto front, per-group and per-unit stacked bars, a
roofline per design, parameter sensitivity. PNG via matplotlib's Agg backend, titled and labelled
with units.

Colours are fixed per name, never by the order points appear: `FAMILY_COLOURS`, `UNIT_COLOURS`
and `GROUP_COLOURS` give every known family, unit and Einsum group one colour in every report;
a name not listed gets a colour from `FALLBACK_COLOURS` chosen by a hash of the name (`colour`).
Categorical parameters (strings such as `accel` or `design`) get categorical axes (one marker per
category, no joining line). Value axes use engineering prefixes (`420 µ`), never an offset.
"""
from __future__ import annotations

import zlib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import EngFormatter, NullFormatter  # noqa: E402

UNITS = {
    "latency_s": ("latency", "s"), "energy_j": ("energy", "J"), "area_mm2": ("area", "mm²"),
    "edp_js": ("energy-delay product", "J·s"), "power_w": ("power", "W"), "utilization": ("MAC utilization", "—"),
    "throughput_tokens_per_s": ("throughput", "tokens/s"), "throughput_per_area": ("throughput/area", "tokens/s/mm²"),
    "offchip_bytes": ("off-chip traffic", "B"), "buffer_mib": ("buffer", "MiB"), "pes": ("PEs", "count"),
    "clock_mhz": ("clock", "MHz"), "dram_bandwidth_gb_per_s": ("DRAM bandwidth", "GB/s"), "node_nm": ("node", "nm"),
    "vector_lanes": ("vector lanes", "count"), "fixed_area_mm2": ("fixed area", "mm²"),
    "static_power_w": ("static power", "W"), "channels": ("PIM channels", "count"), "accel": ("accelerator", "name"),
    "design": ("attention design", "name"), "buffer_kib": ("buffer", "KiB"),
}

# One colour per family, unit and Einsum group, the same in every report.
FAMILY_COLOURS = {
    "roofline": "#1f77b4", "pim": "#d62728", "bitserial": "#2ca02c", "attention": "#9467bd", "system": "#8c564b",
}
UNIT_COLOURS = {
    "sweep": "#1f77b4", "gpu": "#17becf", "cpu": "#7f7f7f",                    # roofline (unit = spec name)
    "pim": "#d62728", "asic": "#ff9896", "link": "#e377c2",                     # PIM-GPT
    "pe-array": "#2ca02c", "host": "#98df8a",                                   # bit-serial
    "2d-array": "#9467bd", "1d-array": "#c5b0d5",                               # FuseMax
    "none": "#c7c7c7",
}
GROUP_COLOURS = {
    "embedding": "#8c564b", "norm": "#bcbd22", "qkv": "#1f77b4", "attention": "#ff7f0e", "kv_cache": "#17becf",
    "proj": "#e377c2", "mlp": "#2ca02c", "residual": "#7f7f7f", "lm_head": "#d62728", "other": "#c7c7c7",
}
FALLBACK_COLOURS = ("#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d", "#31a354",
                    "#756bb1", "#636363", "#9c9ede", "#cedb9c")
PALETTES = {"family": FAMILY_COLOURS, "unit": UNIT_COLOURS, "group": GROUP_COLOURS}


def colour(kind: str, name) -> str:
    """The fixed colour of a family, unit or group `name` (`kind` one of family, unit, group); names
    outside the table get a colour chosen by a hash of the name, so it too never depends on order."""
    name = str(name)
    table = PALETTES[kind]
    if name in table:
        return table[name]
    return FALLBACK_COLOURS[zlib.crc32(f"{kind}:{name}".encode()) % len(FALLBACK_COLOURS)]


def label(name: str) -> str:
    base = name.removeprefix("param_")
    what, unit = UNITS.get(base, (base.replace("_", " "), "—"))
    return f"{what} ({unit})"


def unit_of(name: str) -> str:
    return UNITS.get(name.removeprefix("param_"), ("", ""))[1]


def is_categorical(values) -> bool:
    """True for parameters whose values are names (strings, booleans), not quantities."""
    s = pd.Series(values).dropna()
    return not (pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s))


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout(rect=(0, 0, 1, 0.96) if fig._suptitle is not None else (0, 0, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _scale(ax, axis: str, values, unit: str = "") -> None:
    """Log scale when the finite positive values span more than 50x; engineering-prefixed tick
    labels without an offset either way."""
    v = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), float)
    v = v[np.isfinite(v) & (v > 0)]
    target = ax.xaxis if axis == "x" else ax.yaxis
    if len(v) and v.max() / v.min() > 50:
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
        target.set_minor_formatter(NullFormatter())
    fmt = EngFormatter(unit="" if unit in ("—", "count", "name") else unit, places=None, sep=" ")
    target.set_major_formatter(fmt)


def place_labels(ax, xs, ys, texts, fontsize: int = 8) -> list:
    """Label points without overlap: try a ring of offsets around each point and keep the first
    whose box meets no placed label; a label with no free spot is left off. Returns the kept
    labels' boxes (display coordinates)."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    offsets = [(5, 5), (5, -12), (-5, 5), (-5, -12), (10, 14), (10, -20), (-10, 14), (-10, -20), (18, 0), (-18, 0)]
    placed = []
    for x, y, text in zip(xs, ys, texts):
        for dx, dy in offsets:
            ann = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", fontsize=fontsize,
                              ha="left" if dx >= 0 else "right", va="bottom" if dy >= 0 else "top",
                              bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})
            box = ann.get_window_extent(renderer).expanded(1.05, 1.1)
            inside = ax.get_window_extent(renderer).contains(box.x0, box.y0) and \
                ax.get_window_extent(renderer).contains(box.x1, box.y1)
            if inside and not any(box.overlaps(b) for b in placed):
                placed.append(box)
                break
            ann.remove()
    return placed


def scatter_front(points: pd.DataFrame, x: str, y: str, title: str, path: Path, sense: dict | None = None,
                  labels: dict | None = None) -> Path:
    """All points (infeasible ones hollow) in their family's colour, the Pareto points ringed and
    joined, each labelled with its key in `labels` (point id -> short label, e.g. P1) without overlap."""
    fig, ax = plt.subplots(figsize=(8.4, 5.0))
    feas = points["feasible"].to_numpy(bool)
    front = points["pareto"].to_numpy(bool)
    if (~feas).any():
        ax.scatter(points.loc[~feas, x], points.loc[~feas, y], s=14, facecolors="none", edgecolors="0.6",
                   label="infeasible")
    fams = points["family"] if "family" in points.columns else pd.Series("design", index=points.index)
    for fam in sorted(fams.unique()):
        sel = feas & (fams == fam).to_numpy()
        c = colour("family", fam)
        ax.scatter(points.loc[sel & ~front, x], points.loc[sel & ~front, y], s=16, color=c, alpha=0.55,
                   label=f"{fam}")
        ax.scatter(points.loc[sel & front, x], points.loc[sel & front, y], s=46, color=c, edgecolors="k",
                   linewidths=0.9, zorder=3, label=f"{fam} (Pareto)" if (sel & front).any() else None)
    fp = points.loc[front].sort_values([x, y])
    ax.plot(fp[x], fp[y], "-", color="0.25", lw=0.8, zorder=2, label="Pareto front")
    _scale(ax, "x", points[x], unit_of(x))
    _scale(ax, "y", points[y], unit_of(y))
    ax.set_xlabel(label(x) + (f" [{sense[x]}]" if sense and x in sense else ""))
    ax.set_ylabel(label(y) + (f" [{sense[y]}]" if sense and y in sense else ""))
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    if labels:
        place_labels(ax, fp[x], fp[y], [labels.get(p, "") for p in fp["point_id"]])
    return _save(fig, path)


def _stacked(ax, table: pd.DataFrame, kind: str) -> None:
    bottom = np.zeros(len(table))
    for name in table.columns:
        vals = table[name].to_numpy(float)
        ax.bar(range(len(table)), vals, bottom=bottom, label=name, color=colour(kind, name))
        bottom += vals


def breakdown_bars(einsums: pd.DataFrame, point_ids: list[str], names: dict[str, str], by: str, title: str,
                   path: Path) -> tuple[Path | None, list[str]]:
    """Latency and energy of the chosen points stacked by `by` (`group` or `unit`), coloured by the
    fixed palette. `names` maps a point id to its tick label. Returns the path (None when no
    panel has data) and one sentence per panel left out."""
    sel = einsums[einsums["point_id"].isin(point_ids)].copy()
    sel[by] = sel[by].fillna("other") if by in sel.columns else "other"
    panels, omitted = [], []
    for metric in ("latency_s", "energy_j"):
        if metric not in sel.columns or not (sel[metric].fillna(0) > 0).any():
            omitted.append(f"{UNITS[metric][0]} by {by}: no chosen point reports a per-Einsum {metric}.")
            continue
        table = sel.pivot_table(index="point_id", columns=by, values=metric, aggfunc="sum", fill_value=0.0)
        table = table.reindex(point_ids).fillna(0.0)
        table = table.loc[:, table.sum(axis=0) > 0]
        panels.append((metric, table))
    if not panels:
        return None, omitted
    fig, axes = plt.subplots(1, len(panels), figsize=(5.4 * len(panels) + 1.6, 4.6), squeeze=False)
    for ax, (metric, table) in zip(axes[0], panels):
        _stacked(ax, table, by)
        ax.set_xticks(range(len(table)), [names.get(p, p[:6]) for p in table.index], rotation=30, ha="right",
                      fontsize=8)
        ax.set_ylabel(label(metric))
        ax.yaxis.set_major_formatter(EngFormatter(unit=UNITS[metric][1], sep=" "))
        ax.set_xlabel("design point (label, family)")
        ax.set_title(f"{UNITS[metric][0]} by {'Einsum group' if by == 'group' else 'unit'}", fontsize=10)
        ax.grid(alpha=0.3, axis="y")
    handles, seen = [], set()
    for ax in axes[0]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            if lab not in seen:
                seen.add(lab)
                handles.append((h, lab))
    axes[0][-1].legend([h for h, _ in handles], [lab for _, lab in handles], fontsize=8, loc="center left",
                       bbox_to_anchor=(1.0, 0.5), title=by)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path), omitted


def roofline(spec, rows: pd.DataFrame, title: str, path: Path) -> Path:
    """Attainable MAC/s against arithmetic intensity (MAC per off-chip byte) for one design, with
    its MAC-carrying Einsums placed at their achieved rate."""
    fig, ax = plt.subplots(figsize=(7.2, 5.0))
    mm = rows[(rows["macs"] > 0) & (rows["offchip_bytes"] > 0) & (rows["latency_s"] > 0)]
    intensity = (mm["macs"] / mm["offchip_bytes"]).to_numpy(float)
    lo = min(intensity.min() if len(intensity) else 0.1, spec.ridge_macs_per_byte) / 10
    hi = max(intensity.max() if len(intensity) else 10, spec.ridge_macs_per_byte) * 10
    xs = np.geomspace(lo, hi, 200)
    ax.plot(xs, np.minimum(spec.peak_macs_per_s, xs * spec.dram_bandwidth_bytes_per_s), color="k", lw=1.5,
            label=f"roof: {spec.peak_macs_per_s:.3g} MAC/s, {spec.dram_bandwidth_bytes_per_s / 1e9:.3g} GB/s")
    for group, sub in mm.groupby("group"):
        ax.scatter(sub["macs"] / sub["offchip_bytes"], sub["macs"] / sub["latency_s"], s=22, label=group,
                   color=colour("group", group))
    ax.axvline(spec.ridge_macs_per_byte, color="0.6", ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (MAC/B off-chip)")
    ax.set_ylabel("performance (MAC/s)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    return _save(fig, path)


def sensitivity(points: pd.DataFrame, params: list[str], objectives: list[str], title: str,
                path: Path) -> tuple[Path | None, list[str]]:
    """For each family and each parameter it sweeps, the best (min over the other parameters) and
    median of each objective: a line over numeric parameters, markers on a categorical axis for
    named ones. Returns the path (None when no panel has data) and one sentence per panel left out."""
    fams = points["family"] if "family" in points.columns else pd.Series("design", index=points.index)
    panels, omitted = [], []
    for fam in sorted(fams.unique()):
        sub = points[fams == fam]
        for par in params:
            if par not in sub.columns or sub[par].nunique(dropna=True) < 1:
                continue
            if sub[par].nunique(dropna=True) < 2:
                omitted.append(f"{fam}: {label(par)} takes one value; no sensitivity to show.")
                continue
            for obj in objectives:
                if sub[obj].notna().any():
                    panels.append((fam, par, obj, sub))
                else:
                    omitted.append(f"{fam}: {obj} is not modeled by this family.")
    if not panels:
        return None, omitted
    nc = max(1, len(objectives))
    nr = -(-len(panels) // nc)
    fig, axes = plt.subplots(nr, nc, figsize=(5.2 * nc, 3.6 * nr), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax, (fam, par, obj, sub) in zip(axes.flat, panels):
        d = sub[[par, obj]].dropna()
        g = d.groupby(par)[obj]
        best, median = g.min(), g.median()
        c = colour("family", fam)
        if is_categorical(d[par]):
            xs = np.arange(len(best))
            ax.scatter(xs, best.to_numpy(), s=36, color=c, zorder=3, label="best")
            ax.scatter(xs, median.to_numpy(), s=36, marker="_", color="k", zorder=4, label="median")
            ax.set_xticks(xs, [str(v) for v in best.index], rotation=20, ha="right", fontsize=8)
            ax.set_xlim(-0.6, len(xs) - 0.4)
        else:
            xs = best.index.to_numpy(float)
            ax.plot(xs, best.to_numpy(), "-o", ms=4, color=c, label="best")
            ax.plot(xs, median.to_numpy(), "--", lw=1, color="k", label="median")
            _scale(ax, "x", xs, unit_of(par))
        _scale(ax, "y", d[obj], unit_of(obj))
        lo, hi = float(d[obj].min()), float(d[obj].max())
        if hi - lo <= 1e-3 * max(abs(hi), abs(lo)):  # flat: show it flat, not magnified noise
            mid = (hi + lo) / 2 or 1.0
            ax.set_ylim(mid - 0.05 * abs(mid), mid + 0.05 * abs(mid))
            ax.text(0.5, 0.9, "flat (spread < 0.1 %)", transform=ax.transAxes, ha="center", fontsize=8, color="0.3")
        ax.set_xlabel(label(par), fontsize=9)
        ax.set_ylabel(label(obj), fontsize=9)
        ax.set_title(f"{fam}: {UNITS.get(obj, (obj,))[0]} vs {label(par).split(' (')[0]}", fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path), omitted

"""Figures of a run: objective scatter with the Pareto front, per-group stacked bars, a roofline per
design, parameter sensitivity. PNG via matplotlib's Agg backend, titled and labelled with units."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.roofline import ENERGY_COLUMNS  # noqa: E402

UNITS = {
    "latency_s": ("latency", "s"), "energy_j": ("energy", "J"), "area_mm2": ("area", "mm²"),
    "edp_js": ("energy-delay product", "J·s"), "power_w": ("power", "W"), "utilization": ("MAC utilization", "—"),
    "throughput_tokens_per_s": ("throughput", "tokens/s"), "throughput_per_area": ("throughput/area", "tokens/s/mm²"),
    "offchip_bytes": ("off-chip traffic", "B"), "buffer_mib": ("buffer", "MiB"), "pes": ("PEs", "count"),
    "clock_mhz": ("clock", "MHz"), "dram_bandwidth_gb_per_s": ("DRAM bandwidth", "GB/s"), "node_nm": ("node", "nm"),
    "vector_lanes": ("vector lanes", "count"), "fixed_area_mm2": ("fixed area", "mm²"),
    "static_power_w": ("static power", "W"),
}


FAMILY_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink")


def label(name: str) -> str:
    base = name.removeprefix("param_")
    what, unit = UNITS.get(base, (base.replace("_", " "), "—"))
    return f"{what} ({unit})"


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _log_if_wide(ax, axis: str, values) -> None:
    v = np.asarray(values, float)
    v = v[np.isfinite(v) & (v > 0)]
    if len(v) and v.max() / v.min() > 50:
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")


def scatter_front(points: pd.DataFrame, x: str, y: str, title: str, path: Path, sense: dict | None = None) -> Path:
    """All points (infeasible ones hollow), the Pareto points highlighted, joined and labelled."""
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    feas = points["feasible"].to_numpy(bool)
    front = points["pareto"].to_numpy(bool)
    ax.scatter(points.loc[~feas, x], points.loc[~feas, y], s=14, facecolors="none", edgecolors="0.6",
               label="infeasible")
    families = sorted(points["family"].unique()) if "family" in points.columns else []
    if len(families) > 1:
        for k, fam in enumerate(families):
            sel = feas & (points["family"] == fam).to_numpy()
            color = FAMILY_COLORS[k % len(FAMILY_COLORS)]
            ax.scatter(points.loc[sel & ~front, x], points.loc[sel & ~front, y], s=14, color=color, alpha=0.55,
                       label=fam)
            ax.scatter(points.loc[sel & front, x], points.loc[sel & front, y], s=40, color=color,
                       edgecolors="k", linewidths=0.8, zorder=3)
    else:
        ax.scatter(points.loc[feas & ~front, x], points.loc[feas & ~front, y], s=12, color="tab:blue", alpha=0.5,
                   label="feasible")
    fp = points.loc[front].sort_values([x, y])
    ax.plot(fp[x], fp[y], "-o" if len(families) <= 1 else "-", color="tab:red", ms=5, lw=1, label="Pareto front")
    for _, r in fp.head(12).iterrows():
        ax.annotate(str(r["point_id"])[:6], (r[x], r[y]), fontsize=7, xytext=(3, 3), textcoords="offset points")
    _log_if_wide(ax, "x", points[x])
    _log_if_wide(ax, "y", points[y])
    ax.set_xlabel(label(x) + (f" [{sense[x]}]" if sense and x in sense else ""))
    ax.set_ylabel(label(y) + (f" [{sense[y]}]" if sense and y in sense else ""))
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def group_bars(einsums: pd.DataFrame, point_ids: list[str], title: str, path: Path) -> Path:
    """Latency and energy of chosen points, stacked by Einsum group (norm, qkv, attention, mlp …)."""
    sel = einsums[einsums["point_id"].isin(point_ids)].copy()
    roof = sel[ENERGY_COLUMNS[0]].notna() if ENERGY_COLUMNS[0] in sel.columns else pd.Series(False, index=sel.index)
    roof_energy = sum(sel[c].fillna(0.0) for c in ENERGY_COLUMNS if c in sel.columns)
    own = sel["energy_j"] if "energy_j" in sel.columns else pd.Series(np.nan, index=sel.index)
    sel["energy_j"] = np.where(roof, roof_energy, own)
    if "group" not in sel.columns:
        sel["group"] = sel["kind"] if "kind" in sel.columns else "all"
    sel["group"] = sel["group"].fillna(sel["kind"] if "kind" in sel.columns else "all")
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for ax, metric in zip(axes, ("latency_s", "energy_j")):
        table = sel.pivot_table(index="point_id", columns="group", values=metric, aggfunc="sum", fill_value=0.0)
        table = table.reindex(point_ids)
        bottom = np.zeros(len(table))
        for group in table.columns:
            ax.bar([p[:6] for p in table.index], table[group].to_numpy(), bottom=bottom, label=group)
            bottom += table[group].to_numpy()
        ax.set_ylabel(label(metric))
        ax.set_xlabel("design point (id)")
        ax.set_title(f"{UNITS[metric][0]} by Einsum group", fontsize=10)
        ax.tick_params(axis="x", rotation=45, labelsize=7)
    axes[1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def roofline(spec, rows: pd.DataFrame, title: str, path: Path) -> Path:
    """Attainable MAC/s against arithmetic intensity (MAC per off-chip byte) for one design, with
    its MAC-carrying Einsums placed at their achieved rate."""
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    mm = rows[rows["macs"] > 0]
    intensity = (mm["macs"] / mm["offchip_bytes"]).to_numpy(float)
    lo = min(intensity.min() if len(intensity) else 0.1, spec.ridge_macs_per_byte) / 10
    hi = max(intensity.max() if len(intensity) else 10, spec.ridge_macs_per_byte) * 10
    xs = np.geomspace(lo, hi, 200)
    ax.plot(xs, np.minimum(spec.peak_macs_per_s, xs * spec.dram_bandwidth_bytes_per_s), color="k", lw=1.5,
            label=f"roof: {spec.peak_macs_per_s:.3g} MAC/s, {spec.dram_bandwidth_bytes_per_s / 1e9:.3g} GB/s")
    for group, sub in mm.groupby("group"):
        ax.scatter(sub["macs"] / sub["offchip_bytes"], sub["macs"] / sub["latency_s"], s=18, label=group)
    ax.axvline(spec.ridge_macs_per_byte, color="0.6", ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (MAC/B off-chip)")
    ax.set_ylabel("performance (MAC/s)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3, which="both")
    return _save(fig, path)


def sensitivity(points: pd.DataFrame, params: list[str], objectives: list[str], title: str, path: Path) -> Path:
    """For each swept parameter, the best (min over the other parameters) and median objective."""
    params = [p for p in params if p in points.columns] or ["point_id"]
    nr, nc = max(len(objectives), 1), len(params)
    fig, axes = plt.subplots(nr, nc, figsize=(3.2 * nc, 2.6 * nr), squeeze=False)
    for i, obj in enumerate(objectives):
        for j, par in enumerate(params):
            ax = axes[i][j]
            g = points.groupby(par)[obj]
            best, median = g.min(), g.median()
            numeric = pd.api.types.is_numeric_dtype(points[par])
            xs = best.index.to_numpy(float) if numeric else np.arange(len(best))
            ax.plot(xs, best.to_numpy(), "-o", ms=3, label="best")
            ax.plot(xs, median.to_numpy(), "--", lw=1, label="median")
            if numeric:
                _log_if_wide(ax, "x", xs)
            else:
                ax.set_xticks(xs, [str(v) for v in best.index], rotation=45, fontsize=7)
            _log_if_wide(ax, "y", points[obj])
            ax.set_xlabel(label(par), fontsize=8)
            ax.set_ylabel(label(obj), fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)

"""`reports/RUN/index.html` and its Markdown twin `index.md`: the run's Pareto table, best points,
figures, the experiment file, the sessions' wall time and the package versions.

The HTML carries a small script that, once the page has loaded, counts the images that decoded
(`naturalWidth > 0`) and writes the count into `#image-check`; a headless browser test reads it.
"""
from __future__ import annotations

import html
import platform
import time
from importlib import metadata
from pathlib import Path

import pandas as pd

from . import fpga, plots
from .families import get_family
from .pareto import WORKLOAD_COLUMNS
from .paths import inside
from .runner import load_results

_PACKAGES = ("einspace", "numpy", "pandas", "pyarrow", "matplotlib", "pydantic", "pyyaml", "click", "rich",
             "pymoo", "dask", "distributed", "ray")

_CHECK_JS = """<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  var el = document.getElementById('image-check');
  el.setAttribute('data-loaded', ok); el.setAttribute('data-total', imgs.length);
  el.textContent = 'images loaded: ' + ok + '/' + imgs.length;
});
</script>"""

_CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
th{background:#f0f0f0}pre{background:#f7f7f7;padding:1em;overflow:auto}img{max-width:100%;border:1px solid #eee}
.muted{color:#666}"""


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _fmt(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c]):
            out[c] = out[c].map(lambda v: f"{v:.4g}")
    return out


def _workload_key(row) -> str:
    return f"{row['model']} {row['phase']} b={row['batch']} s={row['seq_len']}"


def build_report(run: str, runs_dir: str | Path = "runs", reports_dir: str | Path = "reports",
                 max_workloads: int = 4, max_bars: int = 6) -> Path:
    """Write the report of `run`; return the path of `index.html`."""
    t0 = time.perf_counter()
    points, exp, store = load_results(run, runs_dir)
    if len(points):
        points = fpga.add_columns(points, lambda pid: store.read_meta(pid)["point"]["params"])
    manifest = store.manifest()
    out = inside(reports_dir, run, "run")
    fig_dir = out / "figures"
    out.mkdir(parents=True, exist_ok=True)
    objectives = list(exp.objectives)
    params = list(exp.axes())
    param_cols = [f"param_{p}" if f"param_{p}" in points.columns else p for p in params]
    wl_cols = [c for c in WORKLOAD_COLUMNS if c in points.columns and points[c].nunique(dropna=False) > 1]
    show_cols = ["point_id", *(["family"] if exp.mixed else []), *wl_cols, *param_cols, *objectives, "feasible"]
    show_cols = list(dict.fromkeys(c for c in show_cols if c in points.columns))
    fpga_cols = [c for c in fpga.COLUMNS if c in points.columns and points[c].notna().any()]
    if fpga_cols:
        at = show_cols.index("area_mm2") + 1 if "area_mm2" in show_cols else show_cols.index("feasible")
        show_cols[at:at] = fpga_cols
    fpga_note = ("fpga_luts / fpga_ffs / fpga_dsps: FPGA-equivalent estimate of the design's RTL units "
                 "(ECP5 LUT4s, flip-flops, 18x18 multipliers from reports/rtl/synth.csv; datapath units "
                 "only, see docs/experiments.md), not an ASIC area." if fpga_cols else "")

    figures: list[tuple[str, Path]] = []
    einsums = store.einsums() if len(points) else pd.DataFrame()
    workloads = points.assign(_wl=points.apply(_workload_key, axis=1)) if len(points) else points
    for k, (wl, sub) in enumerate(list(workloads.groupby("_wl", sort=True))[:max_workloads] if len(points) else []):
        pairs = [(objectives[i], objectives[j]) for i in range(len(objectives)) for j in range(i + 1, len(objectives))]
        if not pairs:
            pairs = [(param_cols[0], objectives[0])] if param_cols else []
        for x, y in pairs:
            name = f"scatter_{k}_{x}_{y}.png"
            plots.scatter_front(sub, x, y, f"{plots.UNITS.get(y, (y,))[0]} vs {plots.UNITS.get(x, (x,))[0]} — {wl}",
                                fig_dir / name, exp.objectives)
            figures.append((f"Pareto front, {wl}: {y} vs {x}", fig_dir / name))
        front = sub[sub["pareto"]].sort_values(objectives[0])
        chosen = list(front["point_id"].head(max_bars)) or list(sub.sort_values(objectives[0])["point_id"].head(3))
        name = f"groups_{k}.png"
        plots.group_bars(einsums, chosen, f"Per-group latency and energy of Pareto points — {wl}", fig_dir / name)
        figures.append((f"Per-Einsum-group breakdown, {wl}", fig_dir / name))
        if chosen and sub.loc[sub["point_id"] == chosen[0], "family"].iloc[0] == "roofline":
            from .families.roofline import RooflineParams
            from .space import Point

            meta = store.read_meta(chosen[0])
            spec = RooflineParams(**Point.from_dict(meta["point"]).params).spec()
            rows = einsums[einsums["point_id"] == chosen[0]]
            name = f"roofline_{k}.png"
            plots.roofline(spec, rows, f"Roofline of design {chosen[0][:6]} — {wl}", fig_dir / name)
            figures.append((f"Roofline of the best {objectives[0]} Pareto design, {wl}", fig_dir / name))
        if param_cols:
            name = f"sensitivity_{k}.png"
            plots.sensitivity(sub[sub["feasible"]] if sub["feasible"].any() else sub, param_cols, objectives,
                              f"Parameter sensitivity (feasible points) — {wl}", fig_dir / name)
            figures.append((f"Parameter sensitivity, {wl}", fig_dir / name))

    pareto = points[points["pareto"]].sort_values([*wl_cols, objectives[0]]) if len(points) else points
    pareto_tbl = _fmt(pareto[show_cols]) if len(points) else pd.DataFrame()
    best = {o: points[points["feasible"]].sort_values(o, ascending=exp.objectives[o] == "min").head(1)
            for o in objectives} if len(points) else {}
    versions = package_versions()
    sessions = manifest.get("sessions", [])
    sweep_wall = sum(s.get("wall_s", 0.0) for s in sessions)
    exp_text = store.experiment_text()
    report_wall = time.perf_counter() - t0
    summary = {
        "run": run, "experiment file": manifest["experiment_file"], "sha256": manifest["experiment_sha256"],
        "family": ", ".join(exp.families()), "search": f"{exp.search.method} (seed {exp.search.seed}"
        + (f", budget {exp.search.budget})" if exp.search.budget else ")"),
        "points": len(points), "feasible": int(points["feasible"].sum()) if len(points) else 0,
        "pareto": int(points["pareto"].sum()) if len(points) else 0,
        "objectives": ", ".join(f"{k} ({v})" for k, v in exp.objectives.items()),
        "constraints": ", ".join(f"{k} in [{b.min}, {b.max}]" for k, b in exp.constraints.items()) or "none",
        "sweep wall time": f"{sweep_wall:.2f} s over {len(sessions)} session(s)",
        "report wall time": f"{report_wall:.2f} s",
    }

    modeled = families_table(exp, points)
    rel = lambda p: p.relative_to(out).as_posix()  # noqa: E731
    h = ["<!doctype html><html><head><meta charset='utf-8'>", f"<title>einspace report — {html.escape(run)}</title>",
         f"<style>{_CSS}</style></head><body>", f"<h1>einspace report: {html.escape(run)}</h1>",
         "<p class='muted'>What each family models is listed below; see docs/experiments.md.</p>",
         "<h2>Summary</h2><table id='summary'>"]
    h += [f"<tr><th>{html.escape(k)}</th><td style='text-align:left'>{html.escape(str(v))}</td></tr>"
          for k, v in summary.items()]
    h.append("</table>")
    h.append("<h2>What is modeled</h2>")
    h.append(modeled.to_html(index=False, table_id="families", border=0))
    h.append("<h2>Pareto-optimal points</h2>")
    if fpga_note:
        h.append(f"<p class='muted' id='fpga-note'>{html.escape(fpga_note)}</p>")
    h.append(pareto_tbl.to_html(index=False, table_id="pareto-table", border=0) if len(pareto_tbl)
             else "<table id='pareto-table'><tr><td>no feasible point</td></tr></table>")
    h.append("<h2>Best feasible point per objective</h2>")
    for o, df in best.items():
        h.append(f"<h3>{html.escape(o)} ({exp.objectives[o]})</h3>")
        h.append(_fmt(df[show_cols]).to_html(index=False, border=0) if len(df) else "<p>none</p>")
    h.append("<h2>Figures</h2>")
    for caption, path in figures:
        h.append(f"<figure><img src='{html.escape(rel(path))}' alt='{html.escape(caption)}'>"
                 f"<figcaption>{html.escape(caption)}</figcaption></figure>")
    h.append("<p id='image-check' data-loaded='-1'>images not checked (JavaScript off)</p>")
    h.append("<h2>Experiment file</h2>")
    h.append(f"<pre>{html.escape(exp_text)}</pre>")
    h.append("<h2>Sessions</h2>")
    h.append(pd.DataFrame(sessions).to_html(index=False, border=0) if sessions else "<p>none</p>")
    h.append("<h2>Package versions</h2><table id='versions'>")
    h += [f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in versions.items()]
    h.append("</table>")
    h.append(_CHECK_JS)
    h.append("</body></html>")
    (out / "index.html").write_text("\n".join(h))

    md = [f"# einspace report: {run}", "", "## Summary", "", "| key | value |", "| --- | --- |"]
    md += [f"| {k} | {v} |" for k, v in summary.items()]
    md += ["", "## What is modeled", "", _md_table(modeled)]
    md += ["", "## Pareto-optimal points", "", *([fpga_note, ""] if fpga_note else []), _md_table(pareto_tbl), "", "## Best feasible point per objective", ""]
    for o, df in best.items():
        md += [f"### {o} ({exp.objectives[o]})", "", _md_table(_fmt(df[show_cols])) if len(df) else "none", ""]
    md += ["## Figures", ""]
    md += [f"![{caption}]({rel(path)})" + "\n" for caption, path in figures]
    md += ["## Experiment file", "", "```yaml", exp_text.rstrip(), "```", "", "## Sessions", ""]
    md += [_md_table(pd.DataFrame(sessions)) if sessions else "none", "", "## Package versions", "",
           "| package | version |", "| --- | --- |"]
    md += [f"| {k} | {v} |" for k, v in versions.items()]
    (out / "index.md").write_text("\n".join(md) + "\n")
    return out / "index.html"


def families_table(exp, points: pd.DataFrame) -> pd.DataFrame:
    """Per family of the experiment: cycle-level or analytical, what it models, its phases, points."""
    rows = []
    for name in exp.families():
        fam = get_family(name)
        n = int((points["family"] == name).sum()) if len(points) else 0
        rows.append({"family": name, "fidelity": fam.fidelity or "analytical", "models": fam.description,
                     "phases": ", ".join(fam.phases), "points": n})
    return pd.DataFrame(rows)


def _md_table(df: pd.DataFrame) -> str:
    if df is None or df.empty:
        return "(none)"
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "| " + " | ".join("---" for _ in cols) + " |"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)

"""`reports/RUN/index.html` and its Markdown twin `index.md`: the run's Pareto table, best points,
figures, the experiment file, the sessions' wall time and the package versions.

The HTML carries a small script that, once the page has loaded, counts the images that decoded
(`naturalWidth > 0`) and writes the count into `#image-check`; a headless browser test reads it.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
import platform
import time
from importlib import metadata
from pathlib import Path

import pandas as pd

from sim.contract import energy_columns
from workloads.errors import SpecError

from . import fpga, plots
from .families import get_family
from .pareto import WORKLOAD_COLUMNS
from .paths import inside
from .runner import load_results

_PACKAGES = ("einspace", "numpy", "pandas", "pyarrow", "matplotlib", "pydantic", "pyyaml", "click", "rich",
             "pymoo", "dask", "distributed", "ray")

_CHECK_JS = """<script>
// Marks every figure panel: data-status ok (image decoded, with data drawn in colour), broken (did
// not decode), blank (no coloured pixel: axes without data) or omitted (no image, a sentence says why); then writes the
// counts into #image-check, which the headless-browser test reads.
function einspaceCheck() {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  var empty = 0, blank = 0, unchecked = 0;
  Array.prototype.slice.call(document.querySelectorAll('figure.panel')).forEach(function (f) {
    var img = f.querySelector('img');
    var status = 'ok';
    if (!img) {
      var why = f.querySelector('.why');
      status = why && why.textContent.trim().length > 10 ? 'omitted' : 'empty';
    } else if (!(img.complete && img.naturalWidth > 0)) {
      status = 'broken';
    } else {
      try {
        var c = document.createElement('canvas');
        c.width = img.naturalWidth; c.height = img.naturalHeight;
        var ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
        var d = ctx.getImageData(0, 0, c.width, c.height).data, ink = 0, colour = 0;
        for (var k = 0; k < d.length; k += 4) {
          var hi = Math.max(d[k], d[k + 1], d[k + 2]), lo = Math.min(d[k], d[k + 1], d[k + 2]);
          if (d[k] + d[k + 1] + d[k + 2] < 600) ink++;
          if (hi - lo > 60) colour++;
        }
        f.setAttribute('data-ink', ink); f.setAttribute('data-colour', colour);
        // Data are drawn in colour (families, units, groups); axes, ticks and text in grey.
        if (colour < 50) status = 'blank';
      } catch (e) { unchecked++; f.setAttribute('data-ink', 'unreadable'); }
    }
    if (status === 'empty' || status === 'broken') empty++;
    if (status === 'blank') blank++;
    f.setAttribute('data-status', status);
  });
  var el = document.getElementById('image-check');
  el.setAttribute('data-loaded', ok); el.setAttribute('data-total', imgs.length);
  el.setAttribute('data-empty', empty); el.setAttribute('data-blank', blank);
  el.setAttribute('data-unchecked', unchecked);
  el.textContent = 'images loaded: ' + ok + '/' + imgs.length + '; empty panels: ' + empty +
    '; blank images: ' + blank;
}
window.addEventListener('load', einspaceCheck);
</script>"""

_CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}
table{border-collapse:collapse;font-size:12px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}
th{background:#f0f0f0}pre{background:#f7f7f7;padding:1em;overflow:auto}img{max-width:100%;border:1px solid #eee}
.muted{color:#666}figure.panel{margin:1.5em 0}figure.omitted{border-left:3px solid #ccc;padding-left:1em}
figcaption{font-weight:600}.why{color:#555;margin:.2em 0}"""

FIGURE_NOTE = ("Colours are fixed per family, unit and Einsum group in every report (experiments/plots.py). "
               "Pareto points carry labels P1, P2, ... per workload; the label column of the Pareto table "
               "gives each one's point id. A panel that cannot be drawn is left out with the reason.")


@dataclass(frozen=True)
class Panel:
    """One figure of the report: its caption, its PNG (None when left out) and sentences about
    what is not shown (the reason it was left out, or parts of it left out)."""

    caption: str
    path: Path | None
    notes: tuple[str, ...] = ()


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

    einsums = einsum_rows(store) if len(points) else pd.DataFrame()
    labels = pareto_labels(points, wl_cols, objectives[0]) if len(points) else {}
    panels = figure_panels(points, einsums, exp, store, param_cols, labels, fig_dir, max_workloads, max_bars)
    pareto = points[points["pareto"]].sort_values([*wl_cols, objectives[0]]) if len(points) else points
    pareto_tbl = (_fmt(pareto[show_cols]).assign(label=pareto["point_id"].map(labels).to_numpy())
                  [["label", *show_cols]] if len(points) else pd.DataFrame())
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
    h.append(f"<p class='muted'>{html.escape(FIGURE_NOTE)}</p>")
    for panel in panels:
        h.append(_panel_html(panel, rel))
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
    md += [FIGURE_NOTE, ""]
    for panel in panels:
        md += ([f"![{panel.caption}]({rel(panel.path)})"] if panel.path else [f"**{panel.caption} — left out**"])
        md += [f"*{why}*" for why in panel.notes] + [""]
    md += ["## Experiment file", "", "```yaml", exp_text.rstrip(), "```", "", "## Sessions", ""]
    md += [_md_table(pd.DataFrame(sessions)) if sessions else "none", "", "## Package versions", "",
           "| package | version |", "| --- | --- |"]
    md += [f"| {k} | {v} |" for k, v in versions.items()]
    (out / "index.md").write_text("\n".join(md) + "\n")
    return out / "index.html"


def einsum_rows(store) -> pd.DataFrame:
    """The per-Einsum table of a run with one meaning of every column in every run: `energy_j` is
    the sum of the row's `energy_<component>_j` columns (a component a family does not model
    counts 0), whichever family and whichever version of the store wrote it."""
    df = store.einsums()
    if df.empty:
        return df
    parts = energy_columns(df)
    if parts:
        df["energy_j"] = df[parts].fillna(0.0).sum(axis=1)
    return df


def pareto_labels(points: pd.DataFrame, wl_cols: list[str], first_objective: str) -> dict[str, str]:
    """Point id -> P1, P2, ... for the Pareto points of each workload, in order of the first objective."""
    out: dict[str, str] = {}
    front = points[points["pareto"]]
    keys = [c for c in WORKLOAD_COLUMNS if c in front.columns]
    for _, sub in (front.groupby(keys, sort=True, dropna=False) if keys else [(None, front)]):
        for i, pid in enumerate(sub.sort_values([first_objective, "point_id"])["point_id"], 1):
            out[pid] = f"P{i}"
    return out


def figure_panels(points, einsums, exp, store, param_cols, labels, fig_dir: Path, max_workloads: int,
                  max_bars: int) -> list[Panel]:
    """Every figure of the report, per workload (up to `max_workloads`): scatter of each objective
    pair, per-group and per-unit breakdown bars of the Pareto points, the roofline of the best
    roofline design, parameter sensitivity. A panel with nothing to draw is a Panel without path."""
    if fig_dir.exists():
        for old in fig_dir.glob("*.png"):
            old.unlink()
    panels: list[Panel] = []
    if not len(points):
        return [Panel("Figures", None, ("The run has no finished point yet.",))]
    objectives = list(exp.objectives)
    workloads = points.assign(_wl=points.apply(_workload_key, axis=1))
    groups = list(workloads.groupby("_wl", sort=True))
    if len(groups) > max_workloads:
        panels.append(Panel("Workloads not drawn", None, (f"Figures are drawn for the first {max_workloads} of "
                                                           f"{len(groups)} workloads; the tables list all.",)))
    for k, (wl, sub) in enumerate(groups[:max_workloads]):
        pairs = [(objectives[i], objectives[j]) for i in range(len(objectives)) for j in range(i + 1, len(objectives))]
        if not pairs and param_cols:
            pairs = [(param_cols[0], objectives[0])]
        for x, y in pairs:
            name = fig_dir / f"scatter_{k}_{x}_{y}.png"
            drawn = sub[[x, y]].notna().all(axis=1)
            caption = f"Pareto front, {wl}: {y} vs {x}"
            if not drawn.any():
                panels.append(Panel(caption, None, (f"No point of this workload reports both {x} and {y}.",)))
                continue
            title = f"{plots.UNITS.get(y, (y,))[0]} vs {plots.UNITS.get(x, (x,))[0]} — {wl}"
            plots.scatter_front(sub[drawn], x, y, title, name, exp.objectives, labels)
            left = sorted(set(sub.loc[~drawn, "family"]))
            panels.append(Panel(caption, name, tuple(f"{f}: no {x} or {y} (not modeled), not drawn."
                                                     for f in left)))
        front = sub[sub["pareto"]].sort_values(objectives[0])
        chosen = list(front["point_id"].head(max_bars)) or list(sub.sort_values(objectives[0])["point_id"].head(3))
        fam_of = dict(zip(sub["point_id"], sub["family"]))
        names = {p: f"{labels.get(p, p[:6])} {fam_of.get(p, '')}".strip() for p in chosen}
        what = "Pareto points" if len(front) else "best points (no Pareto point)"
        for by in ("group", "unit"):
            name = fig_dir / f"{by}s_{k}.png"
            caption = f"Latency and energy by {'Einsum group' if by == 'group' else 'unit'} of the {what}, {wl}"
            path, notes = plots.breakdown_bars(einsums, chosen, names, by, f"{caption}", name)
            panels.append(Panel(caption, path, tuple(notes)))
        panels.append(_roofline_panel(sub, einsums, store, objectives[0], wl, fig_dir / f"roofline_{k}.png"))
        if param_cols:
            name = fig_dir / f"sensitivity_{k}.png"
            data = sub[sub["feasible"]] if sub["feasible"].any() else sub
            path, notes = plots.sensitivity(data, param_cols, objectives,
                                            f"Parameter sensitivity (feasible points) — {wl}", name)
            panels.append(Panel(f"Parameter sensitivity per family, {wl}", path, tuple(notes)))
    panels.extend(system_panels(points, store, exp.objectives, fig_dir / "system"))
    return panels


SYSTEM_REQUEST_TOKENS = 2  # decode steps of the request the system figures show


def system_panels(points, store, objectives: dict, fig_dir: Path) -> list[Panel]:
    """For a run with `system`-family points: the best one's (first objective) request — its prompt
    the point's sequence length, two generated tokens — as a per-unit Gantt chart of one decode
    token and its energy by unit and link (`experiments.system.figures`)."""
    sys_points = points[points["family"] == "system"] if "family" in points.columns else points.iloc[:0]
    if sys_points.empty:
        return []
    objective = next(iter(objectives))
    pid = sys_points.sort_values(objective, ascending=objectives[objective] == "min")["point_id"].iloc[0]
    from .families.system import SystemParams
    from .space import Point
    from .system.figures import write_figures
    from .system.request import Request, run_request
    from sim.system.spec import load_system

    point = Point.from_dict(store.read_meta(pid)["point"])
    params, w = SystemParams(**point.params), point.workload
    request = Request(w["model"], prompt=w["seq_len"], generate=SYSTEM_REQUEST_TOKENS, batch=w["batch"],
                      layers=w.get("layers"), attention=w.get("attention", "3pass"))
    try:
        res = run_request(load_system(params.system), request, params.rules(), params.objective)
    except SpecError as err:
        return [Panel(f"System timeline of design {pid[:6]}", None, (f"Its request cannot run: {err}",))]
    gantt, energy = write_figures(res, fig_dir)
    what = f"{params.system} ({params.placement} placement), {w['model']}, prompt {w['seq_len']}"
    return [Panel(f"Per-unit timeline of one decode token — best-{objective} system design {pid[:6]}: {what}", gantt),
            Panel(f"Energy by unit and link of that request ({SYSTEM_REQUEST_TOKENS} generated tokens)", energy)]


def _roofline_panel(sub, einsums, store, objective: str, wl: str, path: Path) -> Panel:
    """The roofline of the roofline-family design best in `objective` (on the front if it has one)."""
    roof = sub[sub["family"] == "roofline"]
    caption = f"Roofline of the best-{objective} roofline design, {wl}"
    if roof.empty:
        return Panel(caption, None, ("No roofline-family design in this workload; the roofline plot applies to "
                                     "that family's designs (peak MAC/s and DRAM bandwidth) only.",))
    pool = roof[roof["pareto"]] if roof["pareto"].any() else roof[roof["feasible"]] if roof["feasible"].any() else roof
    pid = pool.sort_values(objective)["point_id"].iloc[0]
    rows = einsums[einsums["point_id"] == pid]
    if not ((rows["macs"] > 0) & (rows["offchip_bytes"] > 0) & (rows["latency_s"] > 0)).any():
        return Panel(caption, None, (f"Design {pid[:6]} has no Einsum with MACs, off-chip bytes and time to place "
                                     "on its roofline.",))
    from .families.roofline import RooflineParams
    from .space import Point

    spec = RooflineParams(**Point.from_dict(store.read_meta(pid)["point"]).params).spec()
    plots.roofline(spec, rows, f"Roofline of design {pid[:6]} — {wl}", path)
    return Panel(caption, path)


def _panel_html(panel: Panel, rel) -> str:
    notes = "".join(f"<p class='why'>{html.escape(n)}</p>" for n in panel.notes)
    if panel.path is None:
        return (f"<figure class='panel omitted'><figcaption>{html.escape(panel.caption)} — left out"
                f"</figcaption>{notes}</figure>")
    return (f"<figure class='panel'><img src='{html.escape(rel(panel.path))}' alt='{html.escape(panel.caption)}'>"
            f"<figcaption>{html.escape(panel.caption)}</figcaption>{notes}</figure>")


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

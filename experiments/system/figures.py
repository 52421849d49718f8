"""Figures of a request on a heterogeneous system (matplotlib, PNG): a per-unit Gantt chart of one
decode token and the request's energy by unit and by link.

* `gantt(step, system, path)`: one phase (e.g. a decode step) re-scheduled from its placement and
  cost tables (`sim.system.schedule.timeline`, the scheduler its Result came from): one lane per
  unit with a bar per Einsum (start to end), one lane per link direction with a bar per transfer.
  Use a simulated step (`PhaseEval.interpolated` False: the first, middle and last decode steps
  always are).
* `energy_breakdown(res, path)`: per unit its energy in the prefill and in the decode steps
  (stacked), per link the energy of the bytes it carried (`link_bytes_<link>` x 8 x pJ/bit, the
  scheduler's own charge), and the KV hand-off.
* `write_figures(res, directory)`: both, as `gantt_decode.png` and `energy_breakdown.png`.

Colours are stable per unit name (`unit_color`: a hash of the name into a fixed palette), so a
unit called `pim` has the same colour in every figure of every system.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from sim.system.schedule import Dag, timeline  # noqa: E402

PALETTE = tuple(c for i, c in enumerate(plt.get_cmap("tab20").colors) if i not in (14, 15))  # no greys
LINK_COLOR = "#333333"  # links and transfers (a grey no unit gets)


def unit_color(name: str):
    """A colour fixed by the unit's name (same name, same colour, in every figure)."""
    digest = hashlib.sha1(name.encode()).digest()
    return PALETTE[digest[0] % len(PALETTE)]


def _lanes(step, system) -> tuple[list[str], dict, list]:
    mapping = step.mapping
    placement = {m.einsum: m.unit for m in mapping.einsums}
    tl = timeline(Dag.of(mapping.cascade), placement, step.costs, system)
    units = [u for u in system.unit_names if u in placement.values()]
    hops = sorted({(t.src, t.dst, t.link) for t in tl.transfers})
    lanes = units + [f"{src}→{dst}" for src, dst, _ in hops]
    return lanes, {"placement": placement, "tl": tl, "units": units}, hops


def gantt(step, system, path: str | Path, title: str | None = None) -> Path:
    """Per-unit (and per-link-direction) timeline of one scheduled phase, as a PNG."""
    lanes, ctx, hops = _lanes(step, system)
    tl, placement = ctx["tl"], ctx["placement"]
    fig, ax = plt.subplots(figsize=(11, 1.0 + 0.5 * len(lanes)))
    row = {lane: i for i, lane in enumerate(lanes)}
    for e, unit in placement.items():
        start, end = tl.start[e], tl.end[e]
        ax.barh(row[unit], (end - start) * 1e3, left=start * 1e3, height=0.6, color=unit_color(unit),
                edgecolor="none")
    for t in tl.transfers:
        ax.barh(row[f"{t.src}→{t.dst}"], (t.end_s - t.start_s) * 1e3, left=t.start_s * 1e3, height=0.4,
                color=LINK_COLOR, edgecolor="none")
    ax.set_yticks(range(len(lanes)), lanes)
    ax.invert_yaxis()
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("unit / link direction")
    kv = step.workload.get("kv_len")
    ax.set_title(title or f"{system.name}: {step.workload['model']} {step.workload['phase']}"
                 f"{f' step at kv {kv}' if kv is not None else ''} — makespan {tl.makespan * 1e3:.4g} ms")
    handles = [Patch(color=unit_color(u), label=u) for u in ctx["units"]]
    if hops:
        handles.append(Patch(color=LINK_COLOR, label="link transfer"))
    ax.legend(handles=handles, loc="upper right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return _save(fig, path)


def energy_parts(res) -> dict[str, dict[str, float]]:
    """bar label -> {"prefill": J, "decode": J}: per unit, per link (its bytes x 8 x pJ/bit), hand-off."""
    out: dict[str, dict[str, float]] = {u: {"prefill": 0.0, "decode": 0.0} for u in res.system.unit_names}
    phases = {"prefill": [res.prefill.result], "decode": [d.result for d in res.decode]}
    for phase, results in phases.items():
        for r in results:
            unit_j = r.rows.assign(e=r.rows["energy_j"] - r.rows.get("energy_link_j", 0.0)).groupby("unit")["e"].sum()
            for unit, joules in unit_j.items():
                out.setdefault(unit, {"prefill": 0.0, "decode": 0.0})[phase] += float(joules)
            for link in res.system.links:
                joules = link.energy_j(r.design.get(f"link_bytes_{link.name}", 0.0))
                out.setdefault(f"link {link.name}", {"prefill": 0.0, "decode": 0.0})[phase] += joules
    if res.kv_handoff_j:
        out["KV hand-off"] = {"prefill": res.kv_handoff_j, "decode": 0.0}
    return out


def energy_breakdown(res, path: str | Path, title: str | None = None) -> Path:
    """The request's energy by unit and by link, prefill and decode stacked, as a PNG."""
    parts = energy_parts(res)
    labels = list(parts)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(labels) + 2), 4.5))
    pre = [parts[k]["prefill"] for k in labels]
    dec = [parts[k]["decode"] for k in labels]
    colors = [unit_color(k) if k in res.system.unit_names else LINK_COLOR for k in labels]
    ax.bar(labels, pre, color=colors, edgecolor="black", linewidth=0.5, label="prefill")
    ax.bar(labels, dec, bottom=pre, color=colors, edgecolor="black", linewidth=0.5, hatch="//", label="decode")
    ax.set_ylabel("energy (J)")
    ax.set_xlabel("unit / link")
    req = res.request
    ax.set_title(title or f"{res.system.name}: {req.model}, P {req.prompt}, G {req.generate}, B {req.batch} — "
                 f"{res.energy_j:.4g} J, {res.energy_j / res.tokens:.4g} J/token")
    ax.legend(handles=[Patch(facecolor="white", edgecolor="black", label="prefill"),
                       Patch(facecolor="white", edgecolor="black", hatch="//", label="decode")], fontsize=8)
    for i, (p, d) in enumerate(zip(pre, dec)):
        ax.annotate(f"{p + d:.3g} J", (i, p + d), ha="center", va="bottom", fontsize=8)
    plt.setp(ax.get_xticklabels(), rotation=20, ha="right")
    return _save(fig, path)


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_figures(res, directory: str | Path) -> list[Path]:
    """The Gantt chart of the last decode step (always simulated) and the energy breakdown."""
    directory = Path(directory)
    step = next(d for d in reversed(res.decode) if not d.interpolated)
    return [gantt(step, res.system, directory / "gantt_decode.png"),
            energy_breakdown(res, directory / "energy_breakdown.png")]

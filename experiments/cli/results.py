"""`einspace results RUN`: the points (or per-Einsum) table of a run, filtered and exported."""
from __future__ import annotations


import click

from experiments.paths import inside
from experiments.runner import load_results
from experiments.store import RunStore
from workloads.errors import SpecError


def einsum_table(store, points):
    """One row per Einsum per point: the Einsum's own columns (`energy_j` is always the sum of the
    row's `energy_<component>_j`), then the point's columns; a point column whose name the
    Einsum table also has (its sum over the Einsums, e.g. `latency_s`) is renamed `total_<name>`.
    docs/experiments.md lists every column and its unit."""
    from experiments.report import einsum_rows

    rows = einsum_rows(store)
    if rows.empty:
        return rows
    clash = {c: f"total_{c}" for c in points.columns if c in rows.columns and c != "point_id"}
    return rows.merge(points.rename(columns=clash), on="point_id", how="left")


@click.command("results")
@click.argument("run")
@click.option("--runs-dir", type=click.Path(file_okay=False), default="runs", show_default=True)
@click.option("--query", default=None, help='pandas query over the columns, e.g. "pareto and area_mm2 < 50"')
@click.option("--einsums", is_flag=True, help="one row per Einsum per point instead of one per point; "
              "the point's totals are then total_<column> (docs/experiments.md, Results columns)")
@click.option("--columns", default=None, help="comma-separated columns to keep")
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "parquet", "json"]), default="text",
              show_default=True)
@click.option("--repair", is_flag=True, help="move damaged point files to RUN/damaged/ (a --resume recomputes them)")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="file (default: stdout)")
def results(run, runs_dir, query, einsums, columns, fmt, repair, output) -> None:
    """Print or export the results of RUN (sorted by point id)."""
    if repair:
        store = RunStore(inside(runs_dir, run, "run"))
        store.manifest()
        moved = store.repair()
        click.echo(f"run {run}: {len(moved)} damaged point file(s) moved to {store.root / 'damaged'}"
                   + (f"; recompute them with einspace sweep FILE --resume {run}" if moved else ""))
        return
    points, _, store = load_results(run, runs_dir)
    df = points
    if einsums:
        df = einsum_table(store, points)
    if query:
        try:
            df = df.query(query)
        except Exception as err:  # pandas raises many types for a bad expression
            raise SpecError(f"--query {query!r}: {type(err).__name__}: {err}".splitlines()[0]) from None
    if columns:
        wanted = [c.strip() for c in columns.split(",") if c.strip()]
        missing = [c for c in wanted if c not in df.columns]
        if missing:
            raise SpecError(f"--columns: unknown {', '.join(missing)}; allowed: {', '.join(df.columns)}")
        df = df[wanted]
    if fmt == "parquet":
        if not output:
            raise SpecError("--format parquet needs -o FILE")
        df.to_parquet(output, index=False)
        return
    text = {"text": lambda d: d.to_string(index=False) if len(d) else "(no rows)",
            "csv": lambda d: d.to_csv(index=False),
            "json": lambda d: d.to_json(orient="records", indent=1)}[fmt](df)
    if output:
        with open(output, "w") as fh:
            fh.write(text)
    else:
        click.echo(text, nl=not text.endswith("\n"))


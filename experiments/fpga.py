"""FPGA-equivalent resources of a design point, from the committed RTL synthesis table.

Estimate = Σ over the RTL unit kinds a point instantiates of (number of units) × (LUTs, FFs,
DSPs of one unit at the nearest synthesized width) on the ECP5 LFE5U-85F, read from
`reports/rtl/synth.csv` (written by `einspace rtl synth`, see docs/rtl.md). It sizes the
design's datapath units only, as if mapped to that FPGA — no buffers, DRAM, interconnect or
control — and is labelled an FPGA-equivalent estimate, not an ASIC area.

Units per family (parameters that a family does not expose take the defaults named here):

* `bitserial` — BitMoD PEs only (`pe.bit_serial`; the bit-parallel FP16/ANT/OliVe PEs have no RTL
  and get NaN): rows × cols `bitserial_pe` at the `act_width` nearest the spec's `act_bits`,
  scaled linearly by lanes / (the synthesized row's lanes) when the point's lanes differ (the
  family's own assumption for PE area), plus one `dequant` unit per PE (assumption: each
  output-stationary PE rescales its own group partial sums) at the `psum_width` nearest the PE
  row's `acc_width`, plus one `term_decoder` per PE row at the PE's lanes (assumption: a row's
  PEs share the output channel's weights, so one decoder feeds the row);
* `pim` — channels × `PimSystem.banks` (16, AiM; not a family parameter) `bank_mac` units at
  `lanes = PimSystem.lanes` (16, AiM);
* `attention` — `width_1d` `online_softmax` units at `width` 16 (assumption: 16-bit scores,
  FuseMax's BF16 datapath);
* `roofline` — no units: NaN.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Mapping

import pandas as pd

from workloads.errors import SpecError

DEFAULT_TABLE = Path(__file__).resolve().parents[1] / "reports" / "rtl" / "synth.csv"
TARGET = "ecp5"
COLUMNS = ("fpga_luts", "fpga_ffs", "fpga_dsps")
SOFTMAX_SCORE_BITS = 16


@dataclass(frozen=True)
class UnitDemand:
    """`count` instances of RTL unit `unit` at width `width`; `lanes` rescales per-lane units."""

    unit: str
    count: int
    width: int
    lanes: int | None = None


@lru_cache(maxsize=8)
def _read(path: str) -> pd.DataFrame:
    table = pd.read_csv(path)
    table["param_map"] = table["params"].map(
        lambda s: {k: int(v) for k, v in (kv.split("=") for kv in str(s).split(";"))})
    return table


def load_table(path: str | Path | None = None) -> pd.DataFrame:
    """The synthesis table (`DEFAULT_TABLE`, resolved from the package, unless `path` is given)."""
    p = Path(path) if path is not None else DEFAULT_TABLE
    if not p.is_file():
        raise SpecError(f"FPGA synthesis table {p} not found; run `einspace rtl synth UNIT --target {TARGET}`")
    return _read(str(p.resolve()))


def nearest_row(table: pd.DataFrame, unit: str, width: int, target: str = TARGET) -> pd.Series:
    """The row of `unit` on `target` whose width is nearest `width` (ties: the wider)."""
    rows = table[(table["unit"] == unit) & (table["target"] == target)]
    if rows.empty:
        raise SpecError(f"FPGA synthesis table has no {unit} row for target {target}")
    key = rows["width"].map(lambda w: (abs(int(w) - width), -int(w)))
    return rows.loc[key.sort_values().index[0]]


def unit_demands(family: str, params: Mapping, model: str, table: pd.DataFrame,
                 target: str = TARGET) -> list[UnitDemand] | None:
    """The RTL units a design point instantiates (None: the family has no RTL units)."""
    if family == "bitserial":
        from experiments.families.bitserial import BitserialParams, accelerator

        accel = accelerator(BitserialParams(**params), model)
        if not accel.pe.bit_serial:
            return None
        pe_row = nearest_row(table, "bitserial_pe", accel.act_bits, target)
        return [UnitDemand("bitserial_pe", accel.pes, accel.act_bits, accel.pe.lanes),
                UnitDemand("dequant", accel.pes, pe_row["param_map"]["acc_width"]),
                UnitDemand("term_decoder", accel.rows, accel.pe.lanes)]
    if family == "pim":
        from experiments.families.pim import PimParams
        from sim.pim.spec import PimSystem

        system = PimSystem(channels=PimParams(**params).channels)
        return [UnitDemand("bank_mac", system.channels * system.banks, system.lanes)]
    if family == "attention":
        from experiments.families.attention import AttentionParams

        return [UnitDemand("online_softmax", AttentionParams(**params).width_1d, SOFTMAX_SCORE_BITS)]
    return None


def estimate(family: str, params: Mapping, model: str, table: pd.DataFrame | None = None,
             target: str = TARGET) -> dict[str, float]:
    """`fpga_luts`, `fpga_ffs`, `fpga_dsps` of one design point (NaN where no RTL exists)."""
    table = load_table() if table is None else table
    demands = unit_demands(family, params, model, table, target)
    if demands is None:
        return {c: math.nan for c in COLUMNS}
    totals = dict.fromkeys(COLUMNS, 0.0)
    for d in demands:
        row = nearest_row(table, d.unit, d.width, target)
        scale = d.count if d.lanes is None else d.count * d.lanes / row["param_map"]["lanes"]
        for col, src in zip(COLUMNS, ("luts", "ffs", "dsps")):
            totals[col] += scale * float(row[src])
    return totals


def add_columns(points: pd.DataFrame, params_of: Callable[[str], Mapping],
                table: pd.DataFrame | None = None) -> pd.DataFrame:
    """`points` with the FPGA-estimate columns; `params_of(point_id)` gives a point's parameters.
    Without a synthesis table the columns are NaN."""
    out = points.copy()
    if table is None:
        try:
            table = load_table()
        except SpecError:
            for c in COLUMNS:
                out[c] = math.nan
            return out
    rows = [estimate(r["family"], params_of(r["point_id"]), r["model"], table) for _, r in points.iterrows()]
    for c in COLUMNS:
        out[c] = [r[c] for r in rows]
    return out

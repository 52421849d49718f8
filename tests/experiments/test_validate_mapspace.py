"""`einspace validate` rows of the mapspace peers (experiments/validation/mapspace.py): SCALE-Sim
cycles within 5 % per dataflow (live for 64³ when `scalesim` is importable), einspace's best
latency no worse than ZigZag's best (recorded); all pass, the --fast subset stays quick, a worse
einspace figure fails."""
from __future__ import annotations

import dataclasses
import time

from experiments.validation import REFERENCES, run
from experiments.validation import mapspace as peers


def test_registered_and_every_claimed_row_passes():
    assert REFERENCES["mapspace-peers"] == "mapspace"
    start = time.perf_counter()
    out = run(fast=True, only=("mapspace-peers",))
    assert time.perf_counter() - start < 10
    assert out.ok and not out.skipped
    refs = {r.reference for r in out.rows}
    assert refs == {"scalesim", "zigzag"}
    scalesim = [r for r in out.rows if r.reference == "scalesim"]
    assert len(scalesim) == 6 and all(r.claimed and r.tolerance == 0.05 for r in scalesim)
    assert all(r.note for r in out.rows)


def test_the_note_says_live_or_recorded():
    rows = peers.rows(fast=True)
    live = peers.have("scalesim")
    for r in rows:
        if r.reference == "scalesim" and r.case.startswith("64x64x64"):
            assert ("run live" in r.note) == live
        else:
            assert "recorded" in r.note


def test_full_rows_cover_the_recorded_figures():
    rows = peers.rows(fast=False)
    assert len(rows) == 3 * len(peers.SCALESIM) + len(peers.ZIGZAG)
    assert all(r.passed for r in rows)


def test_a_worse_einspace_latency_fails_the_zigzag_row():
    row = next(r for r in peers.rows(fast=True) if r.reference == "zigzag")
    assert row.upper and row.passed and not dataclasses.replace(row, einspace=row.reference_value * 1.01).passed
    sc = next(r for r in peers.rows(fast=True) if r.reference == "scalesim")
    assert not dataclasses.replace(sc, einspace=sc.reference_value * 1.06).passed

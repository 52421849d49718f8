"""PIM tiles and the command streams they expand to.

A tile is the work one channel does between an all-bank activate and the matching all-bank
precharge: optionally load `gb_bursts` 32 B bursts of the input vector into the global buffer
(WR_GB), open row `row` in all 16 banks (ACT_AB), then for each of `segments` output segments
issue `macs_per_segment` MAC_AB commands (one column access per bank each, consecutive columns)
and read the 16 banks' accumulators out with one RD_MAC, and finally close all banks (PRE_AB).
A segment is a run of weights of one output row (or one cached key) held contiguously in the
row, so each RD_MAC returns 16 finished dot products (or partial sums), one per bank.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

BURST_BYTES = 32  # one burst of a x16 GDDR6 channel: 16 beats x 16 bits (BL16)


@dataclass(frozen=True)
class Tile:
    """One ACT_AB ... PRE_AB episode of a channel (see the module docstring)."""

    row: int
    segments: int
    macs_per_segment: int
    gb_bursts: int = 0

    @property
    def signature(self) -> tuple[int, int, int]:
        """What decides the tile's timing (the row address does not)."""
        return (self.segments, self.macs_per_segment, self.gb_bursts)

    def runs(self) -> list[tuple[str, int]]:
        """The tile's commands as (command, count) runs, in issue order."""
        out: list[tuple[str, int]] = []
        if self.gb_bursts:
            out.append(("WR_GB", self.gb_bursts))
        out.append(("ACT_AB", 1))
        for _ in range(self.segments):
            out.append(("MAC_AB", self.macs_per_segment))
            out.append(("RD_MAC", 1))
        out.append(("PRE_AB", 1))
        return out

    def commands(self) -> Iterator[tuple[str, int, int]]:
        """(command, row, column) of every command of the tile, in issue order."""
        for i in range(self.gb_bursts):
            yield ("WR_GB", 0, i)
        yield ("ACT_AB", self.row, 0)
        for s in range(self.segments):
            for i in range(self.macs_per_segment):
                yield ("MAC_AB", self.row, s * self.macs_per_segment + i)
            yield ("RD_MAC", self.row, s)
        yield ("PRE_AB", self.row, 0)

    def counts(self) -> dict[str, int]:
        c: dict[str, int] = {}
        for name, n in self.runs():
            c[name] = c.get(name, 0) + n
        return c


@dataclass(frozen=True)
class PimStep:
    """One PIM Einsum: the tile list of every channel; all channels start together."""

    name: str
    tiles: tuple[tuple[Tile, ...], ...]


@dataclass(frozen=True)
class PimRuns:
    """A `PimStep` reduced to what decides its timing: per channel, the tiles as runs of
    (signature, count), signature = (segments, macs_per_segment, gb_bursts)."""

    name: str
    runs: tuple[tuple[tuple[tuple[int, int, int], int], ...], ...]


@dataclass(frozen=True)
class AsicStep:
    """Work off the PIM command bus: ASIC vector operations or vector moves, in DRAM cycles.

    `category` is ``asic`` (compute on the ASIC) or ``transfer`` (data moved between ASIC and
    PIM outside the MAC command streams, e.g. appending the new key/value to the cache)."""

    name: str
    cycles: int
    category: str = "asic"


def signature_counts(signature: tuple[int, int, int]) -> dict[str, int]:
    """Commands of one tile with `signature` = (segments, macs_per_segment, gb_bursts), REF aside."""
    segments, macs, gb = signature
    out = {"WR_GB": gb} if gb else {}
    out["ACT_AB"] = 1
    if segments:
        out["MAC_AB"] = segments * macs
        out["RD_MAC"] = segments
    out["PRE_AB"] = 1
    return out


def step_counts(step: PimStep | PimRuns) -> dict[str, int]:
    """Commands a PIM step issues over all its channels (REFs aside: they depend on the run)."""
    if isinstance(step, PimRuns):
        runs = [(sig, n) for channel in step.runs for sig, n in channel]
    else:
        runs = [(t.signature, 1) for channel in step.tiles for t in channel]
    out: dict[str, int] = {}
    for sig, n in runs:
        for name, c in signature_counts(sig).items():
            out[name] = out.get(name, 0) + n * c
    return out

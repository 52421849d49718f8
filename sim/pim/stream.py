"""PIM tiles and the command streams they expand to.

A tile is the work one channel does between an all-bank activate and the matching all-bank
precharge: optionally load `gb_bursts` 32 B bursts of the input vector into the global buffer
(WR_GB), open row `row` in all 16 banks (ACT_AB), then for each of `segments` output segments
issue `macs_per_segment` MAC_AB commands (one column access per bank each, consecutive columns)
and read the 16 banks' accumulators out with one RD_MAC, and finally close all banks (PRE_AB).
A segment is a run of weights of one output row (or one cached key) held contiguously in the
row, so each RD_MAC returns 16 finished dot products (or partial sums), one per bank.

A `CommandTile` is any other command program of one channel within one step: runs of
(command, count, row) in issue order, e.g. the commands an AiM instruction trace expands to
(`sim.pim.isr`: TMOD mode switches, a PRE_AB of the row left open, ACT_AB, MAC_AB, RD_MAC,
WR_BIAS, AF, RD_AF, EWMUL, COPY_*, SYNC/EOC). Its timing depends only on its command runs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

BURST_BYTES = 32  # one burst of a x16 GDDR6 channel: 16 beats x 16 bits (BL16)
# Commands that move one 32 B burst over the channel bus, and those whose data returns to the
# host after the read latency (`read_tail_cycles`).
BUS_COMMANDS = frozenset(("WR_GB", "RD_MAC", "WR_BIAS", "RD_AF"))
READ_COMMANDS = frozenset(("RD_MAC", "RD_AF"))
# The AiM controller's mode switch: issued in place of the command it precedes, once that
# command is ready (the switch then costs tMODCH before it).
MODE_SWITCH = "TMOD"


def read_tail_cycles(standard) -> int:
    """Cycles from an RD_MAC/RD_AF to its data at the host: nCLREG + nBL where the standard reads
    the MAC registers with their own latency (AiM simulator), else nCL + nBL."""
    t = standard.timings
    return t.get("nCLREG", t["nCL"]) + t["nBL"]


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
class CommandTile:
    """A channel's command program within one step: (command, count, row) runs in issue order.

    The signature is the (command, count) runs: what decides the timing (rows do not)."""

    program: tuple[tuple[str, int, int], ...]

    @property
    def row(self) -> int:
        return self.program[0][2] if self.program else 0

    @property
    def signature(self) -> tuple[tuple[str, int], ...]:
        return tuple((name, n) for name, n, _ in self.program)

    def runs(self) -> list[tuple[str, int]]:
        return list(self.signature)

    def commands(self) -> Iterator[tuple[str, int, int]]:
        for name, n, row in self.program:
            for i in range(n):
                yield (name, row, i)

    def counts(self) -> dict[str, int]:
        return program_counts(self.signature)


def program_counts(signature: tuple[tuple[str, int], ...]) -> dict[str, int]:
    """Commands of a `CommandTile` signature."""
    c: dict[str, int] = {}
    for name, n in signature:
        c[name] = c.get(name, 0) + n
    return c


def is_program(signature) -> bool:
    """Whether a tile signature is a `CommandTile`'s (command runs) rather than a `Tile`'s."""
    return bool(signature) and isinstance(signature[0], tuple)


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
    runs: tuple[tuple[tuple[tuple, int], ...], ...]


@dataclass(frozen=True)
class AsicStep:
    """Work off the PIM command bus: ASIC vector operations or vector moves, in DRAM cycles.

    `category` is ``asic`` (compute on the ASIC) or ``transfer`` (data moved between ASIC and
    PIM outside the MAC command streams, e.g. appending the new key/value to the cache)."""

    name: str
    cycles: int
    category: str = "asic"


def signature_counts(signature) -> dict[str, int]:
    """Commands of one tile with `signature` = (segments, macs_per_segment, gb_bursts), or a
    `CommandTile`'s command runs, REF aside."""
    if is_program(signature) or not signature:
        return program_counts(signature)
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

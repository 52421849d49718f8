"""Tile transfers of the bit-serial array timed and charged by the command-level DRAM model.

What is modeled. A transfer is a contiguous load (reads) or store (writes) of N bytes of one
tensor: ceil(N / burst) requests of one burst each, all arriving at once, through `sim.dram`'s
FR-FCFS controllers (open page) on the configured standard, channel count and mapping.

Memory layout. Every tensor block the schedule moves (a weight block, an input block, an output
block) is stored contiguously at an address aligned to the mapping's *row stripe* — the bytes
one row index covers across all channels, ranks, bank groups, banks and columns (2^(address
bits below `Ro`)). Blocks are padded to whole stripes in the address space; only their N bytes
move.

Reuse, and the condition that makes it exact. Each transfer is assumed to start on an idle
device with all banks precharged. With `Ro` the most significant mapping field and a
stripe-aligned start, two transfers of the same size and direction decode to the same
(channel, rank, bank group, bank, column) sequence and rows that differ by one constant; the
controller compares rows only for equality, so it issues the same commands at the same cycles.
So each distinct (bursts, direction) is simulated once (`transfer`) and reused.

Refresh. The per-transfer runs have refresh off; refresh is accounted on the global clock of a
GEMM: all-bank REFs fall due every tREFI from the GEMM's start (refresh phase 0 at each GEMM
start), and each deadline that falls inside a transfer's bus window adds the refresh penalty
`refresh_penalty_tck` (and its energy). The penalty is measured once per configuration by the
DRAM model itself: a stream of reads over several tREFI with all-bank refresh minus the same
stream without, per refresh. Test `test_bs_dram_switch.py` bounds the difference between this
accounting and a direct run with refresh.

Energy. ACT/PRE, read and write burst energy of each transfer from `sim.dram.stats`; refresh
energy per deadline from the calibration run; background power (`sim.dram` charges IDD3N active
standby) over the whole GEMM time, since the device is powered while the array computes.
Standards without a cited energy figure (LPDDR5) give NaN.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import lru_cache

from sim.bitserial.spec import CommandDram
from sim.dram import TraceEntry, load_standard, simulate
from sim.dram.address import AddressMapping
from sim.dram.spec import DramStandard

ENGINE = "loop"
REFRESH_CALIBRATION_INTERVALS = 3.5


@dataclass(frozen=True)
class TransferCost:
    """One transfer on an idle, precharged device, no refresh: DRAM clock cycles from the first
    request to the end of the last burst, and its command energy (pJ, background excluded)."""

    bursts: int
    is_write: bool
    dram_cycles: int
    energy_pj: float
    trace: tuple = field(default=(), repr=False, compare=False)


@lru_cache(maxsize=16)
def standard_for(cfg: CommandDram) -> DramStandard:
    """The standard with `cfg.channels` channels (timings, energy per channel unchanged)."""
    std = load_standard(cfg.standard)
    return replace(std, organization=replace(std.organization, channels=cfg.channels))


def stripe_bytes(cfg: CommandDram) -> int:
    """Bytes covered by one row index of the mapping (the alignment of every block)."""
    std = standard_for(cfg)
    amap = AddressMapping.parse(cfg.mapping, std.organization)
    row_shift = dict((name, shift) for name, shift, _ in amap.fields)["Ro"]
    return 1 << (amap.offset_bits + row_shift)


def stream(cfg: CommandDram, bursts: int, is_write: bool, base: int = 0) -> list[TraceEntry]:
    """The request stream of one transfer: `bursts` consecutive bursts from `base`."""
    b = standard_for(cfg).organization.burst_bytes
    return [TraceEntry(base + i * b, is_write, 0) for i in range(bursts)]


def _command_energy(energy: dict | None) -> float:
    if energy is None:
        return math.nan
    return energy["activate"] + energy["read"] + energy["write"] + energy["refresh"]


@lru_cache(maxsize=4096)
def transfer(cfg: CommandDram, bursts: int, is_write: bool) -> TransferCost:
    """Time one stripe-aligned transfer with the DRAM model (see the module docstring)."""
    if bursts == 0:
        return TransferCost(0, is_write, 0, 0.0)
    res = simulate(standard_for(cfg), stream(cfg, bursts, is_write), mapping=cfg.mapping,
                   policy="open", refresh="none", engine=ENGINE)
    return TransferCost(bursts, is_write, res.cycles, _command_energy(res.energy_pj), res.trace)


@dataclass(frozen=True)
class RefreshCost:
    """Per all-bank refresh deadline: extra DRAM cycles and energy of a streaming transfer."""

    interval_tck: int
    penalty_tck: float
    energy_pj: float
    traces: tuple = field(default=(), repr=False, compare=False)


@lru_cache(maxsize=16)
def refresh_cost(cfg: CommandDram) -> RefreshCost:
    """Calibrate the refresh penalty: a read stream lasting about 3.5 tREFI with and without
    all-bank refresh on the same configuration."""
    std = standard_for(cfg)
    interval = std.timing("nREFI")
    per_burst = std.timing("nBL")
    bursts = math.ceil(REFRESH_CALIBRATION_INTERVALS * interval / per_burst) * cfg.channels
    entries = stream(cfg, bursts, False)
    off = simulate(std, entries, mapping=cfg.mapping, policy="open", refresh="none", engine=ENGINE)
    on = simulate(std, entries, mapping=cfg.mapping, policy="open", refresh="all_bank", engine=ENGINE)
    deadlines = on.command_counts.get(std.refresh.all_bank_command, 0) // (
        cfg.channels * std.organization.ranks)
    penalty = (on.cycles - off.cycles) / deadlines
    energy = (_command_energy(on.energy_pj) - _command_energy(off.energy_pj)) / deadlines
    return RefreshCost(interval, penalty, energy, (off.trace, on.trace))


class DramBus:
    """The array's DRAM bus on the command-level model, in array clock cycles.

    `serve(start, transfers)` returns when a sequence of transfers issued back to back from
    array cycle `start` (within the current GEMM) ends, adding refresh penalties for every tREFI
    deadline inside the window; it accumulates command energy and refresh counts.
    """

    def __init__(self, cfg: CommandDram, clock_ghz: float):
        self.cfg = cfg
        self.standard = standard_for(cfg)
        self.burst_bytes = self.standard.organization.burst_bytes
        self.cycles_per_tck = self.standard.tck_ns * clock_ghz
        self.clock_ghz = clock_ghz
        self.refresh = refresh_cost(cfg)
        self.interval = self.refresh.interval_tck * self.cycles_per_tck
        self.penalty = self.refresh.penalty_tck * self.cycles_per_tck
        self.command_energy_pj = 0.0
        self.refreshes = 0
        self.bytes_moved = 0
        self.used: dict[tuple[int, bool], TransferCost] = {}

    def cost(self, nbytes: float, is_write: bool) -> TransferCost:
        return transfer(self.cfg, math.ceil(nbytes / self.burst_bytes), is_write)

    def serve(self, start: float, transfers) -> float:
        base = 0.0
        for nbytes, is_write in transfers:
            if nbytes <= 0:
                continue
            c = self.cost(nbytes, is_write)
            self.used[(c.bursts, c.is_write)] = c
            base += c.dram_cycles * self.cycles_per_tck
            self.command_energy_pj += c.energy_pj
            self.bytes_moved += c.bursts * self.burst_bytes
        if base == 0.0:
            return start
        before = math.floor(start / self.interval)
        crossed = 0
        while True:
            end = start + base + crossed * self.penalty
            now = math.floor(end / self.interval) - before
            if now <= crossed:
                break
            crossed = now
        self.refreshes += crossed
        return end

    def energy_pj(self, total_cycles: float) -> float:
        """Command energy so far + refresh energy + background power over `total_cycles`."""
        e = self.standard.energy
        if e.model == "none":
            return math.nan
        background = e.background_mw * self.cfg.channels * total_cycles / self.clock_ghz
        return self.command_energy_pj + self.refreshes * self.refresh.energy_pj + background

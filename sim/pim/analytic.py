"""Analytic timing of PIM command streams: the engines' issue rule in closed form per tile.

What is modeled is exactly the issue rule of `sim.pim.engine` (see its docstring): in-order issue
per channel at the first cycle the constraint table allows, one cycle after the previous command,
no earlier than the step barrier; an all-bank REF at the start of a tile once the channel's
k-th REF is due (cycle >= k x nREFI); REFs issued as they fall due while the system works off the
PIM bus. The difference is how it is computed:

* The device state is the vector of "next allowed cycle" of the six commands a PIM stream uses
  (WR_GB, ACT_AB, MAC_AB, RD_MAC, PRE_AB, REF). The latency matrix between them is read off the
  timing table by probing `sim.dram.device.ChannelDevice` (issue A, ask for B), so every value --
  tRCD, tRAS, tRC, tRP, tRFC, tMAC, tMACLAT, tRTP, tBL, tGBW, tRTW, tWTR_S, tMACRD -- comes from
  `GDDR6-AiM.yaml`; the model is max-plus linear (a bound is raised to issue cycle + latency).
* A tile's schedule is a function of its signature (segments, MACs per segment, GB bursts) and of
  the state normalized to the tile start (bounds at or before it read as none), plus whether a REF
  opens it. A run of n identical commands ends at first + (n - 1) x self-spacing; the segment loop
  is periodic after its first segment (period = the RD_MAC-to-RD_MAC distance, 2 x MACs + tMACLAT
  on GDDR6-AiM), so a tile costs O(1) whatever its segment count; tile outcomes are memoized.
* A run of identical tiles whose normalized state repeats is periodic with period P (the
  no-refresh cycles of one tile in steady state); the run jumps straight to the first tile that
  starts at or after the next refresh due cycle (k x nREFI, absolute), so a refresh is handled by
  walking only the tile (ACT_AB) boundaries where REFs land: O(refreshes + signature changes) per
  step, independent of the number of commands.
* Channels of a step with the same tile list and the same normalized state evolve identically and
  are computed once.

`tests/sim/pim/test_pim_analytic.py` proves identical total cycles, per-step start/end cycles,
refresh/transfer shares and command counts to `run_fast` and `run_event`.
"""
from __future__ import annotations

from dataclasses import dataclass

from sim.dram.device import ChannelDevice
from sim.dram.spec import DramStandard
from sim.pim.engine import RunResult, StepTiming
from sim.pim.stream import AsicStep, PimStep

COMMANDS = ("WR_GB", "ACT_AB", "MAC_AB", "RD_MAC", "PRE_AB", "REF")
WR_GB, ACT_AB, MAC_AB, RD_MAC, PRE_AB, REF = range(len(COMMANDS))
_PROBE_CYCLE = 1 << 30


@dataclass(frozen=True)
class PimTiming:
    """Latencies between the PIM commands, in cycles, read from a standard's timing table.

    `latency[a]` lists (b, cycles) for every command b bounded by an earlier a; `spacing[a]` is the
    minimum distance of two consecutive a; `tail_cycles` = nCL + nBL (RD_MAC data return)."""

    latency: tuple[tuple[tuple[int, int], ...], ...]
    spacing: tuple[int, ...]
    tail_cycles: int
    refi_cycles: int
    rfc_cycles: int
    bl_cycles: int

    @classmethod
    def from_standard(cls, standard: DramStandard) -> "PimTiming":
        ids = [ChannelDevice(standard).command_id[n] for n in COMMANDS]
        latency = []
        for a in ids:
            dev = ChannelDevice(standard)
            if dev._window[a][0] or dev._window[a][1] or dev._sibling[a][0] or dev._sibling[a][1]:
                raise ValueError(f"{standard.name}: windowed/sibling rows on a PIM command")
            dev.issue(a, 0, 0, 0, 0, _PROBE_CYCLE)
            row = []
            for j, b in enumerate(ids):
                e = dev.earliest(b, 0, 0, 0)
                if e > 0:
                    row.append((j, e - _PROBE_CYCLE))
            latency.append(tuple(row))
        spacing = tuple(max([1] + [c for j, c in latency[i] if j == i]) for i in range(len(ids)))
        t = standard.timing
        return cls(tuple(latency), spacing, t("nCL") + t("nBL"), t("nREFI"), t("nRFC"), t("nBL"))


class _Chan:
    """Issue state of one channel: bounds, last command and data cycles, refresh due cycle."""

    __slots__ = ("nxt", "last", "last_data", "due", "counts", "step_refs", "step_io")

    def __init__(self, refi: int) -> None:
        self.nxt = [0] * len(COMMANDS)
        self.last = -1
        self.last_data = -1
        self.due = refi
        self.counts: dict[str, int] = {}
        self.step_refs = 0
        self.step_io = 0

    def finish(self) -> int:
        return max(self.last + 1, self.last_data)

    def add_counts(self, counts: tuple[tuple[str, int], ...], m: int = 1) -> None:
        c = self.counts
        for name, n in counts:
            c[name] = c.get(name, 0) + m * n


def _tile_counts(sig: tuple[int, int, int], ref: bool) -> tuple[tuple[str, int], ...]:
    segments, macs, gb = sig
    out = []
    if ref:
        out.append(("REF", 1))
    if gb:
        out.append(("WR_GB", gb))
    out.append(("ACT_AB", 1))
    if segments:
        out += [("MAC_AB", segments * macs), ("RD_MAC", segments)]
    out.append(("PRE_AB", 1))
    return tuple(out)


def channel_runs(tiles) -> tuple[tuple[tuple[int, int, int], int], ...]:
    """A channel's tile list as runs of (tile signature, count)."""
    out: list[list] = []
    for t in tiles:
        s = t.signature
        if out and out[-1][0] == s:
            out[-1][1] += 1
        else:
            out.append([s, 1])
    return tuple((s, n) for s, n in out)


class AnalyticRunner:
    """Channel states of a PIM system carried across calls, so a decode runs token after token."""

    def __init__(self, standard: DramStandard, channels: int, *, refresh: bool = True) -> None:
        self.timing = PimTiming.from_standard(standard)
        self.refresh = refresh
        self.chans = [_Chan(self.timing.refi_cycles) for _ in range(channels)]
        self.now = 0
        self._tiles: dict[tuple, tuple] = {}
        self._trans: dict[tuple, tuple] = {}
        self._runs: dict[int, tuple[PimStep, tuple]] = {}

    # --- one tile, normalized to its start cycle t0 -------------------------------------------
    def _tile(self, sig: tuple[int, int, int], rel: tuple[int, ...], ref: bool) -> tuple:
        """(bounds after, last, last data or None, refs) of a tile, all relative to its start."""
        key = (sig, rel, ref)
        out = self._tiles.get(key)
        if out is not None:
            return out
        lat, sp = self.timing.latency, self.timing.spacing
        nxt = list(rel)
        last = -1
        last_data = None

        def issue(cmd: int, n: int) -> int:
            nonlocal last
            c = nxt[cmd] if nxt[cmd] > last + 1 else last + 1
            c += (n - 1) * sp[cmd]
            for b, d in lat[cmd]:
                if c + d > nxt[b]:
                    nxt[b] = c + d
            last = c
            return c

        segments, macs, gb = sig
        if ref:
            issue(REF, 1)
        if gb:
            issue(WR_GB, gb)
        issue(ACT_AB, 1)
        done = 0
        prev = None
        while done < segments:
            issue(MAC_AB, macs)
            rd = issue(RD_MAC, 1)
            last_data = rd + self.timing.tail_cycles
            done += 1
            state = tuple(max(v - rd - 1, 0) for v in nxt)
            if prev is not None and prev[0] == state and done < segments:
                period = rd - prev[1]
                skip = segments - done
                shift = skip * period
                nxt = [v + shift if v > rd + 1 else rd + 1 + shift for v in nxt]
                last += shift
                last_data += shift
                done = segments
            prev = (state, rd)
        issue(PRE_AB, 1)
        out = (tuple(nxt), last, last_data, 1 if ref else 0)
        self._tiles[key] = out
        return out

    def _next(self, sig: tuple[int, int, int], rel: tuple[int, ...], ref: bool) -> tuple:
        """Tile transition: (state at the next tile start, cycles to it, last data or None)."""
        key = (sig, rel, ref)
        tr = self._trans.get(key)
        if tr is None:
            nxt, last, last_data, _ = self._tile(sig, rel, ref)
            dt = last + 1
            tr = (tuple(v - dt if v > dt else 0 for v in nxt), dt,
                  None if last_data is None else last_data - dt)
            self._trans[key] = tr
        return tr

    def _channel_step(self, ch: _Chan, runs: tuple, barrier: int) -> None:
        refresh, refi = self.refresh, self.timing.refi_cycles
        t = max(ch.last + 1, barrier)
        rel = tuple(v - t if v > t else 0 for v in ch.nxt)
        ld = ch.last_data - t
        due = ch.due
        refs = 0
        nxt_of = self._next
        for sig, n in runs:
            i = 0
            while i < n:
                if refresh and due <= t:
                    rel, dt, tld = nxt_of(sig, rel, True)
                    due += refi
                    refs += 1
                    t += dt
                    ld = ld - dt if tld is None else tld
                    i += 1
                    continue
                rel2, dt, tld = nxt_of(sig, rel, False)
                if rel2 == rel:
                    m = n - i
                    if refresh:
                        k = (due - 1 - t) // dt + 1
                        if k < m:
                            m = k
                    t += m * dt
                    ld = ld - m * dt if tld is None else tld
                    i += m
                    continue
                rel = rel2
                t += dt
                ld = ld - dt if tld is None else tld
                i += 1
        ch.nxt = [t + v for v in rel]
        ch.last = t - 1
        ch.last_data = max(t + ld, -1)
        ch.due = due
        ch.step_refs = refs
        if refs:
            ch.counts["REF"] = ch.counts.get("REF", 0) + refs

    def _idle(self, end: int) -> None:
        if not self.refresh or min(ch.due for ch in self.chans) >= end:
            return
        refi = self.timing.refi_cycles
        lat = self.timing.latency[REF]
        for ch in self.chans:
            while True:
                c = max(ch.nxt[REF], ch.last + 1, ch.due, self.now)
                if c >= end:
                    break
                for b, d in lat:
                    if c + d > ch.nxt[b]:
                        ch.nxt[b] = c + d
                ch.last = c
                ch.due += refi
                ch.counts["REF"] = ch.counts.get("REF", 0) + 1

    def _runs_of(self, step: PimStep) -> tuple:
        """Per channel: (runs, static command counts, GB/RD_MAC bursts) of a step, cached."""
        hit = self._runs.get(id(step))
        if hit is not None and hit[0] is step:
            return hit[1]
        interned: dict[tuple, tuple] = {}
        out = []
        for tiles in step.tiles:
            r = channel_runs(tiles)
            runs = interned.setdefault(r, r)
            counts: dict[str, int] = {}
            for sig, n in runs:
                for name, c in _tile_counts(sig, False):
                    counts[name] = counts.get(name, 0) + n * c
            io = sum(n * (sig[0] + sig[2]) for sig, n in runs)
            out.append((runs, tuple(counts.items()), io))
        self._runs[id(step)] = (step, tuple(out))
        return tuple(out)

    def _pim_step(self, step: PimStep) -> StepTiming:
        start = self.now
        per_chan = self._runs_of(step)
        used = self.chans[:len(per_chan)]
        groups: dict[tuple, _Chan] = {}
        for ch, (runs, counts, io) in zip(used, per_chan):
            ch.step_refs = 0
            ch.step_io = io
            if not runs:
                continue
            ch.add_counts(counts)
            key = (id(runs), max(ch.last, start - 1), ch.last_data, ch.due, *ch.nxt)
            rep = groups.get(key)
            if rep is None:
                self._channel_step(ch, runs, start)
                groups[key] = ch
                continue
            ch.nxt = list(rep.nxt)
            ch.last, ch.last_data, ch.due = rep.last, rep.last_data, rep.due
            ch.step_refs = rep.step_refs
            if rep.step_refs:
                ch.counts["REF"] = ch.counts.get("REF", 0) + rep.step_refs
        end = max(max(ch.finish() for ch in used), start)
        crit = max(used, key=_Chan.finish)
        refresh = crit.step_refs * self.timing.rfc_cycles
        transfer = crit.step_io * self.timing.bl_cycles + (
            self.timing.tail_cycles if crit.step_io else 0)
        return StepTiming(step.name, "pim", start, end, refresh, transfer)

    def run(self, steps: list) -> RunResult:
        """Advance over `steps` from the current state; cycles/counts of this call only."""
        t_start = self.now
        before = [dict(ch.counts) for ch in self.chans]
        timings: list[StepTiming] = []
        for step in steps:
            if isinstance(step, AsicStep):
                end = self.now + step.cycles
                self._idle(end)
                timings.append(StepTiming(step.name, step.category, self.now, end))
                self.now = end
                continue
            timing = self._pim_step(step)
            timings.append(timing)
            self.now = timing.end_cycle
        counts: dict[str, int] = {}
        for ch, b in zip(self.chans, before):
            for k, v in ch.counts.items():
                if v - b.get(k, 0):
                    counts[k] = counts.get(k, 0) + v - b.get(k, 0)
        return RunResult(self.now - t_start, timings, counts)


def run_analytic(standard: DramStandard, steps: list, channels: int, *, refresh: bool = True
                 ) -> RunResult:
    """Same cycles, step timings and command counts as `run_fast` / `run_event` (no trace)."""
    return AnalyticRunner(standard, channels, refresh=refresh).run(steps)


def no_refresh_cycles(standard: DramStandard, step: PimStep) -> int:
    """Cycles of one PIM step from an idle system with refresh off (the closed form's base)."""
    return run_analytic(standard, [step], len(step.tiles), refresh=False).cycles

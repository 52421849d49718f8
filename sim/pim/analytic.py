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

from bisect import bisect_left
from dataclasses import dataclass

from sim.dram.device import ChannelDevice
from sim.dram.spec import DramStandard
from sim.pim.engine import RunResult, StepTiming
from sim.pim.stream import (BUS_COMMANDS, MODE_SWITCH, READ_COMMANDS, AsicStep, PimRuns, PimStep,
                            is_program, program_counts, read_tail_cycles)

COMMANDS = ("WR_GB", "ACT_AB", "MAC_AB", "RD_MAC", "PRE_AB", "REF")
WR_GB, ACT_AB, MAC_AB, RD_MAC, PRE_AB, REF = range(len(COMMANDS))
# AiM controller commands (GDDR6-AiM-CENT), appended to the state vector when the standard has them.
EXTRA_COMMANDS = ("TMOD", "WR_BIAS", "AF", "RD_AF", "EWMUL", "COPY_BKGB", "COPY_GBBK", "SYNC", "EOC")
_PROBE_CYCLE = 1 << 30


@dataclass(frozen=True)
class PimTiming:
    """Latencies between the PIM commands, in cycles, read from a standard's timing table.

    `latency[a]` lists (b, cycles) for every command b bounded by an earlier a; `spacing[a]` is the
    minimum distance of two consecutive a; `tail_cycles` = RD_MAC data return (nCL + nBL, or
    nCLREG + nBL on the AiM simulator's standard); `names` the commands of the state vector (the
    six above, then those of `EXTRA_COMMANDS` the standard has)."""

    latency: tuple[tuple[tuple[int, int], ...], ...]
    spacing: tuple[int, ...]
    tail_cycles: int
    refi_cycles: int
    rfc_cycles: int
    bl_cycles: int
    names: tuple[str, ...] = COMMANDS

    @classmethod
    def from_standard(cls, standard: DramStandard) -> "PimTiming":
        names = COMMANDS + tuple(n for n in EXTRA_COMMANDS if n in standard.commands)
        ids = [ChannelDevice(standard).command_id[n] for n in names]
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
        return cls(tuple(latency), spacing, read_tail_cycles(standard), t("nREFI"), t("nRFC"),
                   t("nBL"), names)


def _tile_counts(sig, ref: bool) -> tuple[tuple[str, int], ...]:
    if is_program(sig) or not sig:
        return ((("REF", 1),) if ref else ()) + tuple(program_counts(sig).items())
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


def _sig_io(sig) -> int:
    """Bus bursts of one tile (WR_GB + RD_MAC, and WR_BIAS/RD_AF of command programs)."""
    if is_program(sig) or not sig:
        return sum(n for name, n in sig if name in BUS_COMMANDS)
    return sig[0] + sig[2]


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


@dataclass(frozen=True, eq=False)
class _Compiled:
    """A PIM step ready to run: channel masks per distinct run list (signatures interned to ids),
    per-channel bus bursts (WR_GB + RD_MAC) and the step's command counts (REF excluded)."""

    groups: tuple[tuple[tuple[tuple[int, int], ...], int], ...]
    io: tuple[int, ...]
    counts: tuple[int, ...]


_EPISODE_TILES = 16
_INF = 1 << 62
_SIG_BITS = 21


def _shifted(outcome: tuple, delta: int) -> tuple:
    """A step outcome with every due after it moved by `delta` cycles."""
    if not delta:
        return outcome
    dur, rc, tc, refs, out, min_due = outcome
    return (dur, rc, tc, refs, tuple((m, b, sid, d + delta) for m, b, sid, d in out),
            min_due + delta)


def _merged(classes: list, end: int) -> list:
    """Classes normalized to cycle `end` (base `end`) with equal (state, due) joined into one
    mask; others kept as they are."""
    joined: dict[tuple, int] = {}
    rest = []
    for m, base, sid, due in classes:
        if base == end:
            joined[(sid, due)] = joined.get((sid, due), 0) | m
        else:
            rest.append((m, base, sid, due))
    return rest + [(m, end, sid, due) for (sid, due), m in joined.items()]


class AnalyticRunner:
    """Channel states of a PIM system carried across calls, so a decode runs token after token.

    Channels whose states are equal are held as one class (a bit mask of channel indices, the
    absolute next-allowed cycles, the refresh due cycle), so a step costs one evaluation per
    distinct (state, run list) pair, not one per channel. A state is normalized to a step barrier
    when the step starts (bounds at or before it read as 0; the last command and last data cycle
    lie at or before every barrier and drop out) and interned to a small integer, so tile
    transitions are memoized on integers."""

    def __init__(self, standard: DramStandard, channels: int, *, refresh: bool = True) -> None:
        self.timing = PimTiming.from_standard(standard)
        self.refresh = refresh
        self.channels = channels
        self._rel_id: dict[tuple, int] = {}
        self._rels: list[tuple[int, ...]] = []
        self._reach: list[int] = []
        self._names = self.timing.names
        self._index = {n: i for i, n in enumerate(self._names)}
        self._zero = self._state((0,) * len(self._names))
        self.classes: list[tuple[int, int, int, int]] = [
            ((1 << channels) - 1, 0, self._zero, self.timing.refi_cycles)]
        self.now = 0
        self.refs = 0
        self._min_due = self.timing.refi_cycles
        self._pending_idle = 0
        self._tiles: dict[tuple, tuple] = {}
        self._shift: dict[int, int] = {}
        self._steps: dict[tuple, tuple] = {}
        self._sig_id: dict[tuple, int] = {}
        self._sigs: list[tuple[int, int, int]] = []
        self._trans: dict[int, tuple] = {}
        self._episodes: dict[int, tuple | None] = {}
        self._compiled: dict[int, tuple] = {}
        self._by_runs: dict[tuple, _Compiled] = {}
        self._uses: dict[_Compiled, int] = {}
        self._intervals: dict[tuple, tuple[list, list]] = {}
        self._fused: dict[tuple, tuple] = {}

    def _state(self, rel: tuple[int, ...]) -> int:
        i = self._rel_id.get(rel)
        if i is None:
            i = self._rel_id[rel] = len(self._rels)
            self._rels.append(rel)
            self._reach.append(max(rel))
        return i

    # --- one tile, normalized to its start cycle t0 -------------------------------------------
    def _tile(self, sig: tuple[int, int, int], rel: tuple[int, ...], ref: bool) -> tuple:
        """(bounds after, last, last data or None, refs) of a tile, all relative to its start."""
        key = (sig, rel, ref)
        out = self._tiles.get(key)
        if out is not None:
            return out
        if is_program(sig) or not sig:
            out = self._tiles[key] = self._program(sig, rel, ref)
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

    def _program(self, sig: tuple, rel: tuple[int, ...], ref: bool) -> tuple:
        """`_tile` for a `CommandTile` signature: its runs in order; a run of n ends at first +
        (n - 1) x self-spacing; a TMOD waits for the command after it (`sim.pim.engine`)."""
        lat, sp, idx = self.timing.latency, self.timing.spacing, self._index
        nxt = list(rel)
        last = -1
        last_data = None
        runs = ([("REF", 1)] if ref else []) + list(sig)
        for k, (name, n) in enumerate(runs):
            cmd = idx[name]
            c = max(nxt[cmd], last + 1)
            if name == MODE_SWITCH and k + 1 < len(runs):
                c = max(c, nxt[idx[runs[k + 1][0]]])
            c += (n - 1) * sp[cmd]
            for b, d in lat[cmd]:
                if c + d > nxt[b]:
                    nxt[b] = c + d
            last = c
            if name in READ_COMMANDS:
                last_data = c + self.timing.tail_cycles
        return (tuple(nxt), last, last_data, 1 if ref else 0)

    def _next(self, sig: int, sid: int, ref: int) -> tuple:
        """Tile transition on interned ids: (state at the next tile start, cycles to it, last
        data relative to it or None)."""
        key = (sid << _SIG_BITS | sig) << 1 | ref
        tr = self._trans.get(key)
        if tr is None:
            nxt, last, last_data, _ = self._tile(self._sigs[sig], self._rels[sid], bool(ref))
            dt = last + 1
            tr = (self._state(tuple(v - dt if v > dt else 0 for v in nxt)), dt,
                  None if last_data is None else last_data - dt)
            self._trans[key] = tr
        return tr

    def _episode(self, sig: int, fixed: int) -> tuple | None:
        """A REF landing in a run of identical tiles at their fixed point `fixed`: the REF tile
        and the tiles after it until the state is back at `fixed`, as (tiles, cycles, start of the
        last of them, last data relative to the end or None). None if it does not return within
        a few tiles."""
        key = fixed << _SIG_BITS | sig
        if key in self._episodes:
            return self._episodes[key]
        sid, t, ld = self._next(sig, fixed, 1)
        tiles, last_start = 1, 0
        while sid != fixed and tiles < _EPISODE_TILES:
            last_start = t
            sid, dt, tld = self._next(sig, sid, 0)
            ld = tld if tld is not None else (None if ld is None else ld - dt)
            t += dt
            tiles += 1
        out = (tiles, t, last_start, ld) if sid == fixed else None
        self._episodes[key] = out
        return out

    def _channel_step(self, runs: tuple, sid: int, due: int, t: int) -> tuple:
        """One channel class over a step's runs from barrier t in state `sid` (relative to t).
        Returns (end of the last tile, state relative to it, finish cycle, due, REFs, lo, hi).

        In a run of identical tiles at a fixed point (period dt) the REFs are placed in closed
        form: the next REF opens the first tile starting at or after `due`, k = ceil((due - t)
        / dt) tiles on, and its episode (REF tile plus the tiles back to the fixed point) is a
        memoized constant, so each REF costs O(1) and the tiles between REFs cost nothing.

        `due` enters only through comparisons with tile start cycles (a REF waits for a tile
        boundary), so every due in (lo, hi] takes the same path: same cycles, REFs and end
        state, the due after shifted by the same amount. (lo, hi] is the intersection of the
        half-lines each comparison taken implies (`off` = REFs so far x nREFI).

        Why one function: it is the analytic path's inner loop over tile runs (called once per
        channel class per PIM step, millions of times in a 1,024-token decode); the REF branch,
        the fixed-point jump, the episode loop and the due interval share the local state (t,
        sid, due, off, lo, hi, ld) and a helper call per run would cost more than the loop body."""
        refresh, refi = self.refresh, self.timing.refi_cycles
        ld = None
        refs = off = 0
        lo, hi = -_INF, _INF
        nxt_of = self._next
        for sig, n in runs:
            i = 0
            while i < n:
                if refresh:
                    if due <= t:
                        hi = min(hi, t - off)
                        sid, dt, tld = nxt_of(sig, sid, 1)
                        due += refi
                        off += refi
                        refs += 1
                        t += dt
                        if tld is not None:
                            ld = t + tld
                        i += 1
                        continue
                    lo = max(lo, t - off)
                sid2, dt, tld = nxt_of(sig, sid, 0)
                if sid2 != sid:
                    sid = sid2
                    t += dt
                    if tld is not None:
                        ld = t + tld
                    i += 1
                    continue
                k = (due - 1 - t) // dt + 1 if refresh else n
                if k >= n - i:
                    if refresh:
                        lo = max(lo, t + (n - i - 1) * dt - off)
                    t += (n - i) * dt
                    if tld is not None:
                        ld = t + tld
                    break
                lo, hi = max(lo, t + (k - 1) * dt - off), min(hi, t + k * dt - off)
                ep = self._episode(sig, sid)
                while True:
                    t += k * dt
                    i += k
                    if tld is not None:
                        ld = t + tld
                    if ep is None or i + ep[0] > n:
                        break
                    if due + refi <= t + ep[2]:
                        hi = min(hi, t + ep[2] - refi - off)
                        break
                    lo = max(lo, t + ep[2] - refi - off)
                    due += refi
                    off += refi
                    refs += 1
                    t += ep[1]
                    i += ep[0]
                    if ep[3] is not None:
                        ld = t + ep[3]
                    if due <= t:
                        hi = min(hi, t - off)
                        break
                    lo = max(lo, t - off)
                    k = (due - 1 - t) // dt + 1
                    if k >= n - i:
                        lo = max(lo, t + (n - i - 1) * dt - off)
                        t += (n - i) * dt
                        if tld is not None:
                            ld = t + tld
                        i = n
                        break
                    lo, hi = max(lo, t + (k - 1) * dt - off), min(hi, t + k * dt - off)
        fin = t if ld is None or ld < t else ld
        return t, sid, fin, due, refs, lo, hi

    # --- steps ----------------------------------------------------------------------------
    def _compile_runs(self, per_chan: tuple) -> _Compiled:
        hit = self._by_runs.get(per_chan)
        if hit is not None:
            return hit
        groups: dict[tuple, int] = {}
        io, counts = [], [0] * len(self._names)
        for ch, runs in enumerate(per_chan):
            io.append(sum(n * _sig_io(sig) for sig, n in runs))
            if not runs:
                continue
            groups[runs] = groups.get(runs, 0) | (1 << ch)
            for sig, n in runs:
                for cmd, c in _tile_counts(sig, False):
                    counts[self._index[cmd]] += n * c
        interned = []
        for runs, mask in groups.items():
            ids = []
            for sig, n in runs:
                if sig not in self._sig_id:
                    self._sig_id[sig] = len(self._sigs)
                    self._sigs.append(sig)
                ids.append((self._sig_id[sig], n))
            interned.append((tuple(ids), mask))
        if len(self._sigs) >= 1 << _SIG_BITS:
            raise ValueError("too many distinct tile signatures")
        out = _Compiled(tuple(interned), tuple(io), tuple(counts))
        self._by_runs[per_chan] = out
        return out

    def _compile(self, step) -> _Compiled:
        hit = self._compiled.get(id(step))
        if hit is not None and hit[0] is step:
            return hit[1]
        if isinstance(step, PimRuns):
            hit = self._compiled.get(id(step.runs))
            if hit is not None and hit[0] is step.runs:
                self._compiled[id(step)] = (step, hit[1])
                return hit[1]
            out = self._compile_runs(step.runs)
            self._compiled[id(step.runs)] = (step.runs, out)
            self._compiled[id(step)] = (step, out)
            return out
        out = self._compile_runs(tuple(channel_runs(tiles) for tiles in step.tiles))
        self._compiled[id(step)] = (step, out)
        return out

    def _at(self, base: int, sid: int, start: int) -> int:
        """State `sid` held relative to cycle `base`, renormalized to `start` >= base."""
        delta = start - base
        if delta <= 0:
            return sid
        if delta >= self._reach[sid]:
            return self._zero
        key = sid << 32 | delta
        out = self._shift.get(key)
        if out is None:
            out = self._shift[key] = self._state(
                tuple(v - delta if v > delta else 0 for v in self._rels[sid]))
        return out

    def _pim_step(self, cs: _Compiled) -> tuple[int, int, int]:
        """Runs a compiled step from self.now; returns (end, refresh cycles, transfer cycles).

        The outcome depends only on the classes' states normalized to the step start and their
        refresh due cycles relative to it, so it is memoized on those (a decode repeats the same
        weight GEMVs 48 x 1,024 times over at most nREFI refresh phases). When every class has
        the same due, an outcome also holds for every due in the interval its comparisons
        allow (`_channel_step`), with the dues after shifted alike: a second memo keeps those
        intervals per (step, states), so a score step at a new refresh phase usually hits."""
        start = self.now
        self._uses[cs] = self._uses.get(cs, 0) + 1
        refresh = self.refresh
        merged: dict[tuple, int] = {}
        for m, base, sid, due in self.classes:
            k = (self._at(base, sid, start) if start > base else sid, due - start if refresh else 0)
            merged[k] = merged.get(k, 0) | m
        if len(merged) == 1:
            ((sid, d), m), = merged.items()
            key = (id(cs), m, sid, d)
        else:
            key = (id(cs), *sorted((m, sid, due) for (sid, due), m in merged.items()))
        hit = self._steps.get(key)
        if hit is None or hit[0] is not cs:
            hit = self._steps[key] = (cs, self._interval_outcome(cs, merged))
        dur, refresh_cycles, transfer, refs, out, min_due = hit[1]
        self.refs += refs
        self.classes = [(m, start + b, sid, start + d) for m, b, sid, d in out]
        self._min_due = start + min_due
        return start + dur, refresh_cycles, transfer

    def _interval_outcome(self, cs: _Compiled, merged: dict[tuple, int]) -> tuple:
        """`_pim_step_outcome`, looked up first among the outcomes computed at other dues of the
        same (step, class states) whose due interval holds this due (see `_pim_step`)."""
        dues = {d for _, d in merged}
        if not self.refresh or len(dues) != 1:
            return self._pim_step_outcome(cs, merged)[0]
        (d,) = dues
        key = (id(cs), tuple(sorted((m, sid) for (sid, _), m in merged.items())))
        table = self._intervals.get(key)
        if table is None:
            table = self._intervals[key] = ([], [])
        los, entries = table
        j = bisect_left(los, d) - 1
        if j >= 0 and d <= entries[j][0]:
            _, d_ref, ref_out = entries[j]
            return _shifted(ref_out, d - d_ref)
        out, lo, hi = self._pim_step_outcome(cs, merged)
        j = bisect_left(los, lo)
        los.insert(j, lo)
        entries.insert(j, (hi, d, out))
        return out

    def _pim_step_outcome(self, cs: _Compiled, merged: dict[tuple, int]) -> tuple:
        """The step from cycle 0 for classes {(state, due): mask}: ((duration, refresh cycles,
        transfer cycles, REFs over all channels, classes after as (mask, base, state, due), least
        due after), lo, hi), every class's due in (lo, hi] taking the same path."""
        tm = self.timing
        out = []
        refs_all = 0
        lo_all, hi_all = -_INF, _INF
        best, best_low = (0, 0, 0), -1
        for (sid, due), cmask in merged.items():
            rest = cmask
            for runs, gmask in cs.groups:
                m = cmask & gmask
                if not m:
                    continue
                rest &= ~gmask
                t_end, sid_end, fin, due_end, refs, lo, hi = self._channel_step(runs, sid, due, 0)
                lo_all, hi_all = max(lo_all, lo), min(hi_all, hi)
                refs_all += refs * bin(m).count("1")
                low = (m & -m).bit_length() - 1
                if fin > best[0] or (fin == best[0] and low < best_low):
                    best, best_low = (fin, refs, cs.io[low]), low
                out.append((m, t_end, sid_end, due_end))
            if rest:
                out.append((rest, 0, sid, due))
        end, refs, io = best
        return ((end, refs * tm.rfc_cycles, io * tm.bl_cycles + (tm.tail_cycles if io else 0),
                 refs_all, tuple(out), min(d for *_, d in out)), lo_all, hi_all)

    def _idle(self) -> None:
        """The channels sit idle for the pending ASIC/transfer cycles, issuing REFs as they fall
        due; consecutive idle steps are one span (a REF's cycle does not depend on the split)."""
        start, end = self.now - self._pending_idle, self.now
        out = []
        for m, base, sid, due in self.classes:
            if due >= end:
                out.append((m, base, sid, due))
                continue
            sid, due, n = self._idle_class(base, sid, due, start, end)
            self.refs += n * bin(m).count("1")
            out.append((m, end, sid, due))
        if len(out) > 1:
            out = _merged(out, end)
        self.classes = out
        self._min_due = min(due for *_, due in out)

    def _idle_class(self, base: int, sid: int, due: int, start: int, end: int) -> tuple:
        """One class idle over [start, end): (state relative to end, due after, REFs issued).

        REFs issue one by one while they are late (issued after their due cycle); once one
        issues at its due cycle, and a REF's own spacing is below nREFI, every later REF issues
        at its due cycle too, so they are counted in closed form and only the last one's bounds
        matter (max-plus: later REFs raise the same bounds further)."""
        refi = self.timing.refi_cycles
        lat = self.timing.latency[REF]
        nxt = [base + v for v in self._rels[sid]]
        last = start - 1
        n = 0
        while True:
            c = max(nxt[REF], last + 1, due, start)
            if c >= end:
                break
            if c == due and self.timing.spacing[REF] <= refi:
                more = (end - 1 - due) // refi
                c = due + more * refi
                n += more
                due += more * refi
            for b, d in lat:
                if c + d > nxt[b]:
                    nxt[b] = c + d
            last = c
            due += refi
            n += 1
        return self._state(tuple(v - end if v > end else 0 for v in nxt)), due, n

    def run_segments(self, lead: int, items, cycles: list, refresh_cycles: list,
                     transfer_cycles: list) -> None:
        """Advance over `lead` idle cycles, then each (position, PIM step, idle cycles after it)
        of `items`, adding each PIM step's cycles and its critical channel's refresh and bus
        cycles at `position` of the three lists. The same stream as `run` over the PIM steps
        with the ASIC/transfer steps between them summed (an idle span may be split anywhere),
        without per-step objects: the decode's loop (`sim.pim.simulate`).

        A PIM step and the idle span after it are one memoized transition keyed on (step, idle
        cycles, the classes' masks, states and dues relative to the start), its outcome holds
        the classes after the idle span (`_segment`); the runner's state is held in locals and
        written back only around a miss.

        Why one function: it is the per-step loop of a whole decode (about 400 PIM steps per
        GPT-2 XL token: 385 of 1,689); the memo hit is inlined so that a hit costs no extra Python call."""
        refresh = self.refresh
        compiled, fused, at = self._compiled, self._fused, self._at
        self.now += lead
        self._pending_idle += lead
        if self._pending_idle:
            if refresh and self._min_due < self.now:
                self._idle()
            self._pending_idle = 0
        now, classes, refs_total, least_due = self.now, self.classes, self.refs, self._min_due
        for pos, step, idle in items:
            hit = compiled.get(id(step))
            cs = hit[1] if hit is not None and hit[0] is step else self._compile(step)
            if len(classes) == 1:
                m, base, sid, due = classes[0]
                if now > base:
                    sid = at(base, sid, now)
                key = (id(cs), idle, m, sid, due - now if refresh else 0)
            else:
                self.now, self.classes = now, classes
                key = self._fused_key(cs, idle, now)
                classes = self.classes
            hit = fused.get(key)
            if hit is None or hit[0] is not cs:
                self.now, self.classes, self.refs, self._min_due = now, classes, refs_total, least_due
                hit = fused[key] = (cs, self._segment(cs, idle))
            dur, rc, tc, refs, out, min_due = hit[1]
            refs_total += refs
            if len(out) == 1:
                m, b, sid, d = out[0]
                classes = [(m, now + b, sid, now + d)]
            else:
                classes = [(m, now + b, sid, now + d) for m, b, sid, d in out]
            least_due = now + min_due
            now += dur + idle
            cycles[pos] += dur
            refresh_cycles[pos] += rc
            transfer_cycles[pos] += tc
        self.now, self.classes, self.refs, self._min_due = now, classes, refs_total, least_due

    def _fused_key(self, cs: _Compiled, idle: int, start: int) -> tuple:
        """The `run_segments` memo key of several classes: their masks, states normalized to
        `start` and dues relative to it (classes with equal (state, due) joined; the runner's
        classes are replaced by the normalized ones)."""
        refresh, joined = self.refresh, {}
        for m, base, sid, due in self.classes:
            k = (self._at(base, sid, start) if start > base else sid, due - start if refresh else 0)
            joined[k] = joined.get(k, 0) | m
        if len(joined) == 1:
            ((sid, d), m), = joined.items()
            self.classes = [(m, start, sid, start + d if refresh else self.classes[0][3])]
            return (id(cs), idle, m, sid, d)
        self.classes = [(m, start, sid, start + d) for (sid, d), m in joined.items()]
        return (id(cs), idle, *sorted((m, sid, d) for (sid, d), m in joined.items()))

    def _segment(self, cs: _Compiled, idle: int) -> tuple:
        """Runs step `cs` from self.now, then `idle` idle cycles; returns (PIM cycles, refresh
        cycles, transfer cycles, REFs, classes after relative to the start, least due after) and
        leaves the runner at the start (the caller applies the outcome)."""
        start, refs0, saved = self.now, self.refs, (self.classes, self._min_due)
        end, rc, tc = self._pim_step(cs)
        self.now = end + idle
        if idle and self.refresh and self._min_due < self.now:
            self._pending_idle = idle
            self._idle()
            self._pending_idle = 0
        out = (end - start, rc, tc, self.refs - refs0,
               tuple((m, b - start, sid, d - start) for m, b, sid, d in self.classes), self._min_due - start)
        self.now, self.refs, (self.classes, self._min_due) = start, refs0, saved
        return out

    def run(self, steps: list, *, detail: bool = True) -> RunResult:
        """Advance over `steps` (PimStep, PimRuns, AsicStep) from the current state; cycles and
        counts of this call only. `detail=False` skips the per-step timings and reports the
        per-kind cycle totals only (`RunResult.breakdown`).

        Why one function: this is the per-step loop of every decode (about 1,700 steps per GPT-2 XL
        token); the step-memo hit is inlined on purpose (it is the common case, 88 % of PIM steps)
        so that a hit costs no extra Python call; the miss path is `_pim_step`."""
        t_start, refs0 = self.now, self.refs
        self._uses = {}
        pim = pim_refresh = pim_transfer = 0
        asic = transfer_steps = 0
        timings: list[StepTiming] = []
        refresh = self.refresh
        compiled, memo, uses = self._compiled, self._steps, self._uses
        for step in steps:
            if type(step) is AsicStep:
                if detail:
                    timings.append(StepTiming(step.name, step.category, self.now,
                                              self.now + step.cycles))
                if step.category == "transfer":
                    transfer_steps += step.cycles
                else:
                    asic += step.cycles
                self.now += step.cycles
                self._pending_idle += step.cycles
                continue
            if self._pending_idle:
                if refresh and self._min_due < self.now:
                    self._idle()
                self._pending_idle = 0
            start = self.now
            hit = compiled.get(id(step))
            cs = hit[1] if hit is not None and hit[0] is step else self._compile(step)
            classes = self.classes
            if len(classes) == 1:
                m, base, sid, due = classes[0]
                if start > base:
                    sid = self._at(base, sid, start)
                hit = memo.get((id(cs), m, sid, due - start if refresh else 0))
                if hit is not None and hit[0] is cs and len(hit[1][4]) == 1:
                    dur, refresh_cycles, transfer, refs, ((m, b, sid, d),), min_due = hit[1]
                    uses[cs] = uses.get(cs, 0) + 1
                    self.refs += refs
                    self.classes = [(m, start + b, sid, start + d)]
                    self._min_due = start + min_due
                    end = start + dur
                    if detail:
                        timings.append(StepTiming(step.name, "pim", start, end, refresh_cycles,
                                                  transfer))
                    pim += dur
                    pim_refresh += refresh_cycles
                    pim_transfer += transfer
                    self.now = end
                    continue
            end, refresh_cycles, transfer = self._pim_step(cs)
            if detail:
                timings.append(StepTiming(step.name, "pim", start, end, refresh_cycles, transfer))
            pim += end - start
            pim_refresh += refresh_cycles
            pim_transfer += transfer
            self.now = end
        if self._pending_idle:
            if refresh and self._min_due < self.now:
                self._idle()
            self._pending_idle = 0
        counts = [0] * len(self._names)
        for cs, n in self._uses.items():
            for i, c in enumerate(cs.counts):
                counts[i] += n * c
        counts[REF] = self.refs - refs0
        out = {name: c for name, c in zip(self._names, counts) if c}
        kinds = {"pim": pim, "pim_refresh": pim_refresh, "pim_transfer": pim_transfer,
                 "asic": asic, "transfer": transfer_steps}
        return RunResult(self.now - t_start, timings, out, breakdown=kinds)


def run_analytic(standard: DramStandard, steps: list, channels: int, *, refresh: bool = True
                 ) -> RunResult:
    """Same cycles, step timings and command counts as `run_fast` / `run_event` (no trace)."""
    return AnalyticRunner(standard, channels, refresh=refresh).run(steps)


def no_refresh_cycles(standard: DramStandard, step: PimStep) -> int:
    """Cycles of one PIM step from an idle system with refresh off (the closed form's base)."""
    return run_analytic(standard, [step], len(step.tiles), refresh=False).cycles

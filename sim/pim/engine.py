"""Timing of PIM command streams on a GDDR6-AiM channel model: event-driven reference and fast path.

Both engines share one issue rule. Each channel executes its commands in order; a command issues
at the first cycle that the constraint-table device model (`sim.dram.device.ChannelDevice`)
allows, no earlier than one cycle after the channel's previous command and no earlier than the
step barrier. All channels of a step start at the barrier; the step ends when every channel has
issued its last command and its last RD_MAC burst has returned (RD_MAC + nCL + nBL). ASIC and
transfer steps hold the whole system for their cycle count (no overlap with PIM work, as in
PIM-GPT's sequential dataflow). Refresh: at the start of each tile (all banks closed) a channel
whose refresh is due (cycle >= k x tREFI for its k-th REF) issues an all-bank REF first; while the
system works off the PIM bus (ASIC/transfer steps) every channel issues its REFs as they fall due.

* `run_event` is the reference: one simpy process per channel, one simpy event per command, and
  it records the full command trace for `sim.dram.checker.check_trace`.
* `run_fast` computes the same cycles without simpy and without expanding commands: a run of n
  identical commands issues at c1, c1 + d, ..., where d is the command's self-spacing from the
  table (exact because every other bound is already met by the first command and PIM commands
  have no windowed rows), and a run of identical tiles whose normalized device state repeats is
  skipped period by period up to the next refresh. Tests prove equal cycles and counts.

AiM controller semantics (GDDR6-AiM-CENT, `sim.pim.isr`): a TMOD mode switch issues once the
command after it is ready (`_Channel.issue_cycle`), and RD_MAC/RD_AF data return after
`read_tail_cycles` (nCLREG + nBL there). Both engines apply the same rule.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import simpy

from sim.dram.device import ChannelDevice
from sim.dram.spec import DramStandard
from sim.pim.stream import BUS_COMMANDS, MODE_SWITCH, READ_COMMANDS, AsicStep, Tile, read_tail_cycles


@dataclass
class StepTiming:
    """Cycles of one step; for PIM steps the critical channel's refresh and bus-transfer share."""

    name: str
    kind: str
    start_cycle: int
    end_cycle: int
    refresh_cycles: int = 0
    transfer_cycles: int = 0

    @property
    def cycles(self) -> int:
        return self.end_cycle - self.start_cycle


BREAKDOWN_KINDS = ("pim", "pim_refresh", "pim_transfer", "asic", "transfer")


def breakdown_of(steps: list[StepTiming]) -> dict[str, int]:
    """Cycles per kind: PIM steps (and the critical channel's refresh and bus-transfer shares of
    them), ASIC steps, transfer steps."""
    out = dict.fromkeys(BREAKDOWN_KINDS, 0)
    for s in steps:
        out[s.kind] += s.cycles
        if s.kind == "pim":
            out["pim_refresh"] += s.refresh_cycles
            out["pim_transfer"] += s.transfer_cycles
    return out


@dataclass
class RunResult:
    """Total cycles, per-step timings, command counts and (event engine) the command trace.

    `breakdown` holds the per-kind cycle totals when an engine reports them without per-step
    timings; otherwise they are derived from `steps`."""

    cycles: int
    steps: list[StepTiming]
    counts: dict[str, int]
    trace: list[tuple] = field(default_factory=list)
    breakdown: dict[str, int] | None = None

    def cycles_by_kind(self) -> dict[str, int]:
        return dict(self.breakdown) if self.breakdown is not None else breakdown_of(self.steps)


class _Channel:
    """Issue state of one channel, shared by both engines."""

    def __init__(self, standard: DramStandard, index: int, refresh: bool, record: bool) -> None:
        self.standard = standard
        self.index = index
        self.dev = ChannelDevice(standard)
        self.cid = self.dev.command_id
        self.last = -1
        self.refresh = refresh
        self.interval = standard.timing("nREFI")
        self.due = self.interval
        self.tail = read_tail_cycles(standard)
        self.last_data = -1
        self.counts: dict[str, int] = {}
        self.trace: list[tuple] | None = [] if record else None
        self.step_refs = 0
        self.step_io = 0

    def earliest(self, name: str, barrier: int) -> int:
        c = self.dev.earliest(self.cid[name], 0, 0, 0)
        return max(c, self.last + 1, barrier)

    def issue_cycle(self, name: str, following: str | None, barrier: int) -> int:
        """Issue cycle of `name`; a mode switch (TMOD) waits until the command it precedes,
        `following`, is ready (the AiM controller issues it in that command's place)."""
        c = self.earliest(name, barrier)
        if name == MODE_SWITCH and following is not None:
            c = max(c, self.earliest(following, barrier))
        return c

    def issue(self, name: str, cycle: int, row: int = 0, column: int = 0, n: int = 1) -> None:
        self.dev.issue(self.cid[name], 0, 0, 0, row, cycle)
        self.last = cycle
        self.counts[name] = self.counts.get(name, 0) + n
        if name in BUS_COMMANDS:
            self.step_io += n
            if name in READ_COMMANDS:
                self.last_data = cycle + self.tail
        elif name == "REF":
            self.due += self.interval
            self.step_refs += 1
        if self.trace is not None:
            self.trace.append((cycle, name, self.index, 0, 0, 0, row, column))

    def refresh_due(self, barrier: int) -> bool:
        return self.refresh and self.due <= max(self.last + 1, barrier)

    def idle_refresh_cycle(self, now: int, end: int) -> int | None:
        """Cycle of the next REF a channel idle over [now, end) issues, or None."""
        if not self.refresh:
            return None
        c = max(self.dev.earliest(self.cid["REF"], 0, 0, 0), self.last + 1, self.due, now)
        return c if c < end else None

    def finish(self) -> int:
        return max(self.last + 1, self.last_data)

    def state_key(self, t0: int) -> tuple:
        return tuple(v - t0 if v > t0 else 0 for level in self.dev.next_ok for node in level
                     for v in node)

    def shift(self, delta: int) -> None:
        for level in self.dev.next_ok:
            for node in level:
                for i in range(len(node)):
                    node[i] += delta
        self.last += delta
        if self.last_data >= 0:
            self.last_data += delta


def _self_spacing(standard: DramStandard) -> dict[str, int]:
    """Minimum gap between two consecutive identical commands on one rank, from the table."""
    out = {}
    for name, spec in standard.commands.items():
        gap = 1
        for row in standard.constraints:
            if (name in row.preceding and name in row.following and not row.sibling
                    and row.depth <= spec.depth):
                gap = max(gap, row.latency_cycles)
        out[name] = gap
    return out


def _step_timing(name: str, start: int, channels: list[_Channel], nbl: int) -> StepTiming:
    end = max(max(ch.finish() for ch in channels), start)
    crit = max(channels, key=lambda ch: ch.finish())
    refresh = crit.step_refs * crit.standard.timing("nRFC")
    transfer = crit.step_io * nbl + (crit.tail if crit.step_io else 0)
    return StepTiming(name, "pim", start, end, refresh, transfer)


def _merge(channels: list[_Channel]) -> dict[str, int]:
    total: dict[str, int] = {}
    for ch in channels:
        for k, v in ch.counts.items():
            total[k] = total.get(k, 0) + v
    return total


def run_event(standard: DramStandard, steps: list, channels: int, *, refresh: bool = True,
              record: bool = True) -> RunResult:
    """Event-driven reference: simpy, one event per command; returns the trace when `record`."""
    env = simpy.Environment()
    chans = [_Channel(standard, i, refresh, record) for i in range(channels)]
    timings: list[StepTiming] = []
    nbl = standard.timing("nBL")

    def channel_proc(ch: _Channel, tiles: tuple[Tile, ...], barrier: int):
        for tile in tiles:
            if ch.refresh_due(barrier):
                c = ch.earliest("REF", barrier)
                if c > env.now:
                    yield env.timeout(c - env.now)
                ch.issue("REF", c)
            cmds = list(tile.commands())
            for k, (name, row, col) in enumerate(cmds):
                c = ch.issue_cycle(name, cmds[k + 1][0] if k + 1 < len(cmds) else None, barrier)
                if c > env.now:
                    yield env.timeout(c - env.now)
                ch.issue(name, c, row, col)

    def idle_proc(ch: _Channel, end: int):
        while (c := ch.idle_refresh_cycle(int(env.now), end)) is not None:
            if c > env.now:
                yield env.timeout(c - env.now)
            ch.issue("REF", c)
        yield env.timeout(0)

    def top():
        for step in steps:
            start = int(env.now)
            if isinstance(step, AsicStep):
                end = start + step.cycles
                yield simpy.AllOf(env, [env.process(idle_proc(ch, end)) for ch in chans])
                yield env.timeout(end - env.now)
                timings.append(StepTiming(step.name, step.category, start, int(env.now)))
                continue
            for ch in chans:
                ch.step_refs = ch.step_io = 0
            procs = [env.process(channel_proc(ch, tiles, start))
                     for ch, tiles in zip(chans, step.tiles)]
            yield simpy.AllOf(env, procs)
            timing = _step_timing(step.name, start, chans[:len(step.tiles)], nbl)
            if timing.end_cycle > env.now:
                yield env.timeout(timing.end_cycle - env.now)
            timings.append(timing)

    env.process(top())
    env.run()
    trace = sorted((t for ch in chans for t in (ch.trace or [])), key=lambda t: (t[0], t[2]))
    return RunResult(int(env.now), timings, _merge(chans), trace)


def _fast_channel(ch: _Channel, tiles: tuple[Tile, ...], barrier: int,
                  spacing: dict[str, int]) -> None:
    i, n = 0, len(tiles)
    prev_sig, prev_key, prev_t0 = None, None, None
    while i < n:
        tile = tiles[i]
        t0 = max(ch.last + 1, barrier)
        sig = tile.signature
        if sig == prev_sig and not ch.refresh_due(barrier):
            key = ch.state_key(t0)
            if key == prev_key:
                period = t0 - prev_t0
                j = i
                while j < n and tiles[j].signature == sig:
                    j += 1
                m = j - i
                if ch.refresh:
                    m = min(m, (ch.due - 1 - t0) // period + 1)
                if m > 0:
                    ch.shift(m * period)
                    for name, count in tile.counts().items():
                        ch.counts[name] = ch.counts.get(name, 0) + m * count
                        if name in BUS_COMMANDS:
                            ch.step_io += m * count
                    i += m
                    prev_t0 = t0 + (m - 1) * period
                    continue
            prev_key, prev_t0 = key, t0
        else:
            prev_key, prev_t0 = (ch.state_key(t0), t0) if not ch.refresh_due(barrier) else (None, None)
        prev_sig = sig
        if ch.refresh_due(barrier):
            ch.issue("REF", ch.earliest("REF", barrier))
            prev_key = None
        runs = tile.runs()
        for k, (name, count) in enumerate(runs):
            c1 = ch.issue_cycle(name, runs[k + 1][0] if k + 1 < len(runs) else None, barrier)
            cn = c1 + (count - 1) * max(1, spacing[name])
            ch.issue(name, cn, tile.row, 0, count)
        i += 1


def _asic_step(chans: list, step: AsicStep, now: int, timings: list) -> int:
    """An ASIC step: the PIM channels sit idle for its cycles, issuing any refresh that falls due.
    Appends its timing and returns the cycle it ends."""
    end = now + step.cycles
    for ch in chans:
        t = now
        while (c := ch.idle_refresh_cycle(t, end)) is not None:
            ch.issue("REF", c)
            t = c
    timings.append(StepTiming(step.name, step.category, now, end))
    return end


def run_fast(standard: DramStandard, steps: list, channels: int, *, refresh: bool = True
             ) -> RunResult:
    """Fast path with the same cycles and command counts as `run_event` (no trace)."""
    chans = [_Channel(standard, i, refresh, False) for i in range(channels)]
    spacing = _self_spacing(standard)
    nbl = standard.timing("nBL")
    now = 0
    timings: list[StepTiming] = []
    for step in steps:
        if isinstance(step, AsicStep):
            now = _asic_step(chans, step, now, timings)
            continue
        for ch, tiles in zip(chans, step.tiles):
            ch.step_refs = ch.step_io = 0
            _fast_channel(ch, tiles, now, spacing)
        timing = _step_timing(step.name, now, chans[:len(step.tiles)], nbl)
        timings.append(timing)
        now = timing.end_cycle
    return RunResult(now, timings, _merge(chans))

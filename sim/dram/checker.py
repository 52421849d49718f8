"""Independent checker of DRAM command traces against a standard.

Given any trace of (cycle, command, channel, rank, bankgroup, bank, row, column) it reports:
* every timing-table row violated — which row, which two commands, required vs actual gap;
* illegal bank states (RD/WR to a closed bank or another row, ACT to an open bank, REF with a
  bank open), from each command's `requires` rule;
* two commands on one channel in the same cycle (one command bus per channel);
* missing refresh: every bank must be refreshed (REF of its rank or REFpb of the bank) at the
  tREFI cadence, allowing `max_postponed` postponed refreshes (JEDEC's limit by default).

It shares only the standard's data (commands and constraint rows) with the model. It keeps its
own per-node history of issued commands and evaluates each row directly on pairs of commands,
instead of the device's forward-propagated earliest-issue bounds.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable

from sim.dram.spec import CommandSpec, Constraint, DramStandard, Organization


@dataclass(frozen=True)
class Violation:
    """One broken rule. Gaps are in cycles; `preceding` is None for state/refresh rules."""

    kind: str
    constraint: str
    index: int
    command: tuple
    preceding: tuple | None
    required_gap: int | None
    actual_gap: int | None
    message: str


def _as_tuple(cmd) -> tuple:
    if isinstance(cmd, tuple) and not hasattr(cmd, "cycle"):
        return tuple(cmd)
    return (cmd.cycle, cmd.command, cmd.channel, cmd.rank, cmd.bankgroup, cmd.bank, cmd.row,
            cmd.column)


def _prefix(cmd: tuple, depth: int) -> tuple:
    """Node key of `cmd` at `depth` (0 channel .. 3 bank), channel included."""
    return tuple(cmd[2:3 + depth])


@dataclass
class TraceHistory:
    """What the checker remembers of the trace so far, per channel, node and bank."""

    by_following: dict[str, list[Constraint]]
    depth_of: dict[str, int]
    history: dict[tuple, list[tuple[int, int]]] = field(default_factory=lambda: defaultdict(list))
    children: dict[tuple, set] = field(default_factory=lambda: defaultdict(set))
    bank_state: dict[tuple, int | None] = field(default_factory=dict)
    last_cycle: dict[int, tuple[int, int]] = field(default_factory=dict)
    refreshes: dict[tuple, list[int]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def for_standard(cls, standard: DramStandard) -> "TraceHistory":
        """Empty history, with the constraint rows indexed by the command they restrict."""
        by_following: dict[str, list[Constraint]] = defaultdict(list)
        for row in standard.constraints:
            for follow in row.following:
                by_following[follow].append(row)
        depth_of = {name: spec.depth for name, spec in standard.commands.items()}
        return cls(by_following, depth_of)


def check_trace(standard: DramStandard, trace: Iterable, *, check_refresh: bool = True,
                max_postponed: int | None = None, end_cycle: int | None = None
                ) -> list[Violation]:
    """All violations of `standard` in `trace` (any order of channels; cycles per channel
    must not decrease)."""
    commands = [_as_tuple(c) for c in trace]
    state = TraceHistory.for_standard(standard)
    violations: list[Violation] = []
    for index, cmd in enumerate(commands):
        name = cmd[1]
        if name not in standard.commands:
            violations.append(Violation("state", "unknown-command", index, cmd, None, None, None,
                                        f"command {name!r} is not part of {standard.name}"))
            continue
        spec = standard.commands[name]
        violations.extend(check_command_bus(state, commands, index))
        violations.extend(check_timing_constraints(state, commands, index, spec.depth))
        targets = list(banks_under(standard.organization, cmd, spec.depth))
        violations.extend(check_bank_state(spec, cmd, index, targets, state.bank_state))
        apply_bank_effect(state, spec, cmd, targets)
        record_command(state, cmd, index, spec.depth)

    if check_refresh and commands:
        end = end_cycle if end_cycle is not None else max(c[0] for c in commands)
        allowed = standard.refresh.max_postponed if max_postponed is None else max_postponed
        violations.extend(check_refresh_deadlines(standard, commands, state.refreshes, end,
                                                  allowed))
    return violations


def banks_under(org: Organization, cmd: tuple, depth: int):
    """Every (channel, rank, bankgroup, bank) a command at `depth` acts on."""
    ch, rank, bg, bank = cmd[2], cmd[3], cmd[4], cmd[5]
    ranks = [rank] if depth >= 1 else range(org.ranks)
    for r in ranks:
        groups = [bg] if depth >= 2 else range(org.bankgroups)
        for g in groups:
            banks = [bank] if depth >= 3 else range(org.banks_per_group)
            for b in banks:
                yield (ch, r, g, b)


def check_command_bus(state: TraceHistory, commands: list[tuple], index: int) -> list[Violation]:
    """One command per channel per cycle, in non-decreasing cycle order (one command bus)."""
    cmd = commands[index]
    cycle, channel = cmd[0], cmd[2]
    found = []
    if channel in state.last_cycle:
        prev_cycle, prev_index = state.last_cycle[channel]
        if cycle < prev_cycle:
            found.append(Violation("order", "cycle-order", index, cmd, commands[prev_index], 0,
                                   cycle - prev_cycle, "trace goes back in time on this channel"))
        elif cycle == prev_cycle:
            found.append(Violation("bus", "command-bus", index, cmd, commands[prev_index], 1, 0,
                                   "two commands on one channel in the same cycle"))
    state.last_cycle[channel] = (cycle, index)
    return found


def check_timing_constraints(state: TraceHistory, commands: list[tuple], index: int,
                             depth: int) -> list[Violation]:
    """Every timing-table row that restricts this command, against its latest preceding one."""
    cmd = commands[index]
    found = []
    for row in state.by_following[cmd[1]]:
        if depth < row.depth:
            continue
        worst = latest_preceding(state, row, cmd)
        if worst is not None:
            violation = check_timing_constraint(row, commands, index, worst)
            if violation is not None:
                found.append(violation)
    return found


def latest_preceding(state: TraceHistory, row: Constraint, cmd: tuple) -> tuple[int, int] | None:
    """(cycle, index) of the latest command that starts `row`'s window for `cmd`: on the same
    node, or on a sibling node for sibling rows (e.g. tRRD_S across bank groups)."""
    worst = None
    for prev in row.preceding:
        if state.depth_of[prev] < row.depth:
            continue
        if row.sibling:
            parent = _prefix(cmd, row.depth - 1)
            own = cmd[2 + row.depth]
            keys = [parent + (c,) for c in state.children[(row.depth, parent)] if c != own]
        else:
            keys = [_prefix(cmd, row.depth)]
        for key in keys:
            past = state.history.get((row.depth, key, prev))
            if not past or len(past) < row.window:
                continue
            ref_cycle, ref_index = past[-row.window]
            if worst is None or ref_cycle > worst[0]:
                worst = (ref_cycle, ref_index)
    return worst


def check_timing_constraint(row: Constraint, commands: list[tuple], index: int,
                            preceding: tuple[int, int]) -> Violation | None:
    """The gap from the preceding command to this one must be at least the row's latency."""
    cmd = commands[index]
    cycle, name = cmd[0], cmd[1]
    ref_cycle, ref_index = preceding
    if cycle - ref_cycle >= row.latency_cycles:
        return None
    return Violation(
        "timing", row.name, index, cmd, commands[ref_index], row.latency_cycles,
        cycle - ref_cycle,
        f"{row.name} ({row.level}, {row.expression}): {commands[ref_index][1]} at "
        f"{ref_cycle} -> {name} at {cycle} is {cycle - ref_cycle} cycles, "
        f"needs {row.latency_cycles}")


def check_bank_state(spec: CommandSpec, cmd: tuple, index: int, targets: list[tuple],
                     bank_state: dict[tuple, int | None]) -> list[Violation]:
    """The command's `requires` rule: RD/WR to the open row, ACT/REF to closed bank(s)."""
    cycle, name = cmd[0], cmd[1]
    if spec.requires in ("closed", "all_closed"):
        open_banks = [b for b in targets if bank_state.get(b) is not None]
        if open_banks:
            return [Violation("state", f"{name}-needs-closed", index, cmd, None, None, None,
                              f"{name} at {cycle} with bank(s) {open_banks} open")]
    elif spec.requires == "open_row":
        state = bank_state.get(targets[0])
        if state is None:
            return [Violation("state", f"{name}-to-closed-bank", index, cmd, None, None, None,
                              f"{name} at {cycle} to a closed bank")]
        if state != cmd[6]:
            return [Violation("state", f"{name}-wrong-row", index, cmd, None, None, None,
                              f"{name} at {cycle} to row {cmd[6]} while row {state} is open")]
    return []


def apply_bank_effect(state: TraceHistory, spec: CommandSpec, cmd: tuple, targets: list[tuple]) -> None:
    """Open (ACT) or close (PRE, auto-precharge) the target banks; note refreshes per bank."""
    if spec.effect == "open":
        for b in targets:
            state.bank_state[b] = cmd[6]
    elif spec.effect == "close":
        for b in targets:
            state.bank_state[b] = None
    if spec.refresh:
        for b in targets:
            state.refreshes[b].append(cmd[0])


def record_command(state: TraceHistory, cmd: tuple, index: int, depth: int) -> None:
    """Add the command to the history of its channel, rank, bank group and bank nodes."""
    name, cycle = cmd[1], cmd[0]
    for d in range(depth + 1):
        key = _prefix(cmd, d)
        state.history[(d, key, name)].append((cycle, index))
        if d >= 1:
            state.children[(d, key[:-1])].add(key[-1])


def check_refresh_deadlines(standard: DramStandard, commands: list[tuple], refreshes: dict,
                            end: int, max_postponed: int) -> list[Violation]:
    """The k-th refresh of every bank must come by (k + 1 + max_postponed) x tREFI."""
    org = standard.organization
    interval = standard.timing("nREFI")
    channels = sorted({c[2] for c in commands})
    found = []
    for ch in channels:
        for r in range(org.ranks):
            for g in range(org.bankgroups):
                for b in range(org.banks_per_group):
                    times = sorted(refreshes.get((ch, r, g, b), []))
                    k = 1
                    while (k + 1 + max_postponed) * interval <= end:
                        deadline = (k + 1 + max_postponed) * interval
                        actual = times[k - 1] if len(times) >= k else None
                        if actual is None or actual > deadline:
                            found.append(Violation(
                                "refresh", "tREFI", -1, (deadline, "REF", ch, r, g, b, -1, -1),
                                None, deadline, actual,
                                f"bank (ch {ch}, rank {r}, bg {g}, bank {b}): refresh #{k} due "
                                f"by cycle {deadline} (tREFI {interval}, {max_postponed} "
                                f"postponed allowed), got {actual}"))
                            break
                        k += 1
    return found


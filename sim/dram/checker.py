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
from dataclasses import dataclass
from typing import Iterable

from sim.dram.spec import DramStandard


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


def check_trace(standard: DramStandard, trace: Iterable, *, check_refresh: bool = True,
                max_postponed: int | None = None, end_cycle: int | None = None
                ) -> list[Violation]:
    """All violations of `standard` in `trace` (any order of channels; cycles per channel
    must not decrease)."""
    commands = [_as_tuple(c) for c in trace]
    org = standard.organization
    by_following: dict[str, list] = defaultdict(list)
    for row in standard.constraints:
        for follow in row.following:
            by_following[follow].append(row)
    depth_of = {name: spec.depth for name, spec in standard.commands.items()}
    violations: list[Violation] = []

    # history[(depth, node key, command)] = [(cycle, index), ...]
    history: dict[tuple, list[tuple[int, int]]] = defaultdict(list)
    children: dict[tuple, set] = defaultdict(set)
    bank_state: dict[tuple, int | None] = {}
    last_cycle: dict[int, tuple[int, int]] = {}
    refreshes: dict[tuple, list[int]] = defaultdict(list)

    def banks_under(cmd: tuple, depth: int):
        ch, rank, bg, bank = cmd[2], cmd[3], cmd[4], cmd[5]
        ranks = [rank] if depth >= 1 else range(org.ranks)
        for r in ranks:
            groups = [bg] if depth >= 2 else range(org.bankgroups)
            for g in groups:
                banks = [bank] if depth >= 3 else range(org.banks_per_group)
                for b in banks:
                    yield (ch, r, g, b)

    for index, cmd in enumerate(commands):
        cycle, name, channel = cmd[0], cmd[1], cmd[2]
        if name not in standard.commands:
            violations.append(Violation("state", "unknown-command", index, cmd, None, None, None,
                                        f"command {name!r} is not part of {standard.name}"))
            continue
        spec = standard.commands[name]
        depth = spec.depth
        if channel in last_cycle:
            prev_cycle, prev_index = last_cycle[channel]
            if cycle < prev_cycle:
                violations.append(Violation("order", "cycle-order", index, cmd,
                                            commands[prev_index], 0, cycle - prev_cycle,
                                            "trace goes back in time on this channel"))
            elif cycle == prev_cycle:
                violations.append(Violation("bus", "command-bus", index, cmd,
                                            commands[prev_index], 1, 0,
                                            "two commands on one channel in the same cycle"))
        last_cycle[channel] = (cycle, index)

        # timing rows
        for row in by_following[name]:
            if depth < row.depth:
                continue
            worst = None
            for prev in row.preceding:
                if depth_of[prev] < row.depth:
                    continue
                if row.sibling:
                    parent = _prefix(cmd, row.depth - 1)
                    own = cmd[2 + row.depth]
                    keys = [parent + (c,) for c in children[(row.depth, parent)] if c != own]
                else:
                    keys = [_prefix(cmd, row.depth)]
                for key in keys:
                    past = history.get((row.depth, key, prev))
                    if not past or len(past) < row.window:
                        continue
                    ref_cycle, ref_index = past[-row.window]
                    if worst is None or ref_cycle > worst[0]:
                        worst = (ref_cycle, ref_index)
            if worst is not None and cycle - worst[0] < row.latency_cycles:
                violations.append(Violation(
                    "timing", row.name, index, cmd, commands[worst[1]], row.latency_cycles,
                    cycle - worst[0],
                    f"{row.name} ({row.level}, {row.expression}): {commands[worst[1]][1]} at "
                    f"{worst[0]} -> {name} at {cycle} is {cycle - worst[0]} cycles, "
                    f"needs {row.latency_cycles}"))

        # bank-state legality
        targets = list(banks_under(cmd, depth))
        if spec.requires in ("closed", "all_closed"):
            open_banks = [b for b in targets if bank_state.get(b) is not None]
            if open_banks:
                violations.append(Violation(
                    "state", f"{name}-needs-closed", index, cmd, None, None, None,
                    f"{name} at {cycle} with bank(s) {open_banks} open"))
        elif spec.requires == "open_row":
            state = bank_state.get(targets[0])
            if state is None:
                violations.append(Violation("state", f"{name}-to-closed-bank", index, cmd, None,
                                            None, None, f"{name} at {cycle} to a closed bank"))
            elif state != cmd[6]:
                violations.append(Violation(
                    "state", f"{name}-wrong-row", index, cmd, None, None, None,
                    f"{name} at {cycle} to row {cmd[6]} while row {state} is open"))
        if spec.effect == "open":
            for b in targets:
                bank_state[b] = cmd[6]
        elif spec.effect == "close":
            for b in targets:
                bank_state[b] = None
        if spec.refresh:
            for b in targets:
                refreshes[b].append(cycle)

        for d in range(depth + 1):
            key = _prefix(cmd, d)
            history[(d, key, name)].append((cycle, index))
            if d >= 1:
                children[(d, key[:-1])].add(key[-1])

    if check_refresh and commands:
        end = end_cycle if end_cycle is not None else max(c[0] for c in commands)
        allowed = standard.refresh.max_postponed if max_postponed is None else max_postponed
        violations.extend(_check_refresh(standard, commands, refreshes, end, allowed))
    return violations


def _check_refresh(standard: DramStandard, commands: list[tuple], refreshes: dict, end: int,
                   max_postponed: int) -> list[Violation]:
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


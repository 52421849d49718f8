"""State of one DRAM channel: open rows and the earliest legal cycle of every command per node.

Nodes are the channel, its ranks, bank groups and banks. Each node keeps, per command kind, the
first cycle at which that command may be issued to an address under it. Issuing a command walks
the constraint table rows whose preceding command it is, on every level down to the command's
scope, and raises those bounds (for its own node, its siblings for `sibling` rows, and from the
w-th most recent issue for windowed rows such as tFAW). The earliest cycle of a command is the
maximum of its bounds over the nodes on its path — the Ramulator 2.0 organisation, driven here
entirely by the standard's table.
"""
from __future__ import annotations

from collections import deque

from sim.dram.spec import LEVEL_DEPTH, DramStandard


class ChannelDevice:
    """Timing bounds and bank states of one channel of `standard`."""

    def __init__(self, standard: DramStandard) -> None:
        org = standard.organization
        self.standard = standard
        self.command_names: list[str] = list(standard.commands)
        self.command_id: dict[str, int] = {n: i for i, n in enumerate(self.command_names)}
        specs = [standard.commands[n] for n in self.command_names]
        self.depth = [s.depth for s in specs]
        self.effect = [s.effect for s in specs]
        self.ranks, self.bankgroups, self.banks = org.ranks, org.bankgroups, org.banks_per_group
        n_cmd = len(specs)
        counts = (1, self.ranks, self.ranks * self.bankgroups,
                  self.ranks * self.bankgroups * self.banks)
        self.next_ok: list[list[list[int]]] = [[[0] * n_cmd for _ in range(c)] for c in counts]
        self.open_row: list[int] = [-1] * counts[3]
        # per preceding command and level: plain, sibling and windowed (following, latency[, w])
        self._plain = [[[] for _ in range(4)] for _ in range(n_cmd)]
        self._sibling = [[[] for _ in range(4)] for _ in range(n_cmd)]
        self._window = [[[] for _ in range(4)] for _ in range(n_cmd)]
        for row in standard.constraints:
            level = LEVEL_DEPTH[row.level]
            for prev in row.preceding:
                p = self.command_id[prev]
                for follow in row.following:
                    f = self.command_id[follow]
                    if row.window > 1:
                        self._window[p][level].append((f, row.latency_cycles, row.window))
                    elif row.sibling:
                        self._sibling[p][level].append((f, row.latency_cycles))
                    else:
                        self._plain[p][level].append((f, row.latency_cycles))
        self._history: dict[tuple[int, int, int], deque] = {}

    def node_index(self, level: int, rank: int, bankgroup: int, bank: int) -> int:
        if level == 0:
            return 0
        if level == 1:
            return rank
        if level == 2:
            return rank * self.bankgroups + bankgroup
        return (rank * self.bankgroups + bankgroup) * self.banks + bank

    def _siblings(self, level: int, rank: int, bankgroup: int, bank: int) -> list[int]:
        if level == 1:
            return [r for r in range(self.ranks) if r != rank]
        if level == 2:
            return [rank * self.bankgroups + g for g in range(self.bankgroups) if g != bankgroup]
        if level == 3:
            base = (rank * self.bankgroups + bankgroup) * self.banks
            return [base + b for b in range(self.banks) if b != bank]
        return []

    def earliest(self, command: int, rank: int, bankgroup: int, bank: int) -> int:
        """First cycle at which `command` may be issued to the given address."""
        nxt = self.next_ok
        bound = nxt[0][0][command]
        depth = self.depth[command]
        if depth >= 1:
            v = nxt[1][rank][command]
            if v > bound:
                bound = v
            if depth >= 2:
                g = rank * self.bankgroups + bankgroup
                v = nxt[2][g][command]
                if v > bound:
                    bound = v
                if depth >= 3:
                    v = nxt[3][g * self.banks + bank][command]
                    if v > bound:
                        bound = v
        return bound

    def issue(self, command: int, rank: int, bankgroup: int, bank: int, row: int,
              cycle: int) -> None:
        """Record `command` at `cycle`: raise the bounds it imposes and apply its effect."""
        nxt = self.next_ok
        for level in range(self.depth[command] + 1):
            node = self.node_index(level, rank, bankgroup, bank)
            bounds = nxt[level][node]
            for follow, latency in self._plain[command][level]:
                if cycle + latency > bounds[follow]:
                    bounds[follow] = cycle + latency
            sibling_rows = self._sibling[command][level]
            if sibling_rows:
                for other in self._siblings(level, rank, bankgroup, bank):
                    other_bounds = nxt[level][other]
                    for follow, latency in sibling_rows:
                        if cycle + latency > other_bounds[follow]:
                            other_bounds[follow] = cycle + latency
            window_rows = self._window[command][level]
            if window_rows:
                key = (level, node, command)
                history = self._history.get(key)
                if history is None:
                    history = self._history[key] = deque(maxlen=max(w for _, _, w in window_rows))
                history.append(cycle)
                for follow, latency, window in window_rows:
                    if len(history) >= window:
                        bound = history[-window] + latency
                        if bound > bounds[follow]:
                            bounds[follow] = bound
        effect = self.effect[command]
        if effect != "none":
            value = row if effect == "open" else -1
            for b in self.banks_under(self.depth[command], rank, bankgroup, bank):
                self.open_row[b] = value

    def banks_under(self, depth: int, rank: int, bankgroup: int, bank: int) -> range | list[int]:
        """Flat bank indices addressed by a command of scope `depth`."""
        per_rank = self.bankgroups * self.banks
        if depth >= 3:
            return [(rank * self.bankgroups + bankgroup) * self.banks + bank]
        if depth == 2:
            base = (rank * self.bankgroups + bankgroup) * self.banks
            return range(base, base + self.banks)
        if depth == 1:
            return range(rank * per_rank, (rank + 1) * per_rank)
        return range(len(self.open_row))

    def any_open(self, rank: int) -> bool:
        per_rank = self.bankgroups * self.banks
        return any(r != -1 for r in self.open_row[rank * per_rank:(rank + 1) * per_rank])

"""One channel's memory controller: queues, FR-FCFS, page policy, write draining, refresh.

The controller is a pure decision function of the cycle: `step(cycle)` admits arrived requests,
issues at most one command (the channel has one command bus) and returns the next cycle at which
anything can change, or None when every request has been served. The engines only decide how to
jump between those cycles, so the event-driven (simpy) and plain-loop engines share every
scheduling decision.

Policies modeled:
* FR-FCFS (Rixner et al., ISCA 2000): among requests whose next command can issue now, the
  oldest row hit first, else the oldest of any kind. A bank's open row is not precharged while
  a queued request still hits it (open-row protection).
* Page policy: ``open`` keeps rows open (RD/WR); ``closed`` auto-precharges (RDA/WRA).
* Reads and writes wait in separate queues; the controller drains writes when the write queue
  reaches its high watermark (or no read waits) and returns to reads at the low watermark.
* Refresh: all-bank REF to each rank every tREFI (banks closed with PREA first), or per-bank
  REFpb round-robin every tREFIpb where the standard has it. A pending refresh takes priority
  and blocks new commands to the rank (all-bank) or bank (per-bank) it needs closed.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from sim.dram.device import ChannelDevice
from sim.dram.spec import DramStandard
from workloads.errors import SpecError

POLICIES = ("open", "closed")
REFRESH_MODES = ("all_bank", "per_bank", "none")


@dataclass(slots=True, eq=False)
class Request:
    """One burst-sized access; cycles are filled in as the controller serves it."""

    index: int
    address: int
    is_write: bool
    arrival: int
    channel: int
    rank: int
    bankgroup: int
    bank: int
    row: int
    column: int
    bank_flat: int = 0
    enqueued: int = -1
    issued: int = -1
    done: int = -1
    outcome: str = ""


@dataclass(frozen=True, slots=True)
class Command:
    """One issued DRAM command, the unit of a command trace."""

    cycle: int
    command: str
    channel: int
    rank: int
    bankgroup: int
    bank: int
    row: int
    column: int


@dataclass
class ControllerConfig:
    """Queue sizes and policies (defaults follow Ramulator 2.0's generic controller)."""

    policy: str = "open"
    refresh: str = "all_bank"
    read_queue_size: int = 32
    write_queue_size: int = 32
    write_high_watermark: float = 0.8
    write_low_watermark: float = 0.2

    def validate(self, standard: DramStandard) -> None:
        if self.policy not in POLICIES:
            raise SpecError(f"page policy {self.policy!r}; allowed: {', '.join(POLICIES)}")
        if self.refresh not in REFRESH_MODES:
            raise SpecError(f"refresh mode {self.refresh!r}; allowed: {', '.join(REFRESH_MODES)}")
        if self.refresh == "per_bank" and standard.refresh.per_bank_command is None:
            raise SpecError(f"refresh mode 'per_bank': {standard.name} has no per-bank refresh; "
                            "allowed: all_bank, none")


@dataclass
class ChannelController:
    """Scheduler of one channel; feed it requests (in arrival order) and call `step`."""

    standard: DramStandard
    channel: int
    config: ControllerConfig
    requests: list[Request]
    device: ChannelDevice = field(init=False)
    trace: list[Command] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        std = self.standard
        self.device = ChannelDevice(std)
        cid = self.device.command_id
        self._rd = cid["RDA"] if self.config.policy == "closed" else cid["RD"]
        self._wr = cid["WRA"] if self.config.policy == "closed" else cid["WR"]
        self._act, self._pre = cid["ACT"], cid["PRE"]
        self._prea = cid.get("PREA")
        self._ref = cid[std.refresh.all_bank_command]
        self._refpb = cid.get(std.refresh.per_bank_command or "")
        self._read_delay = std.timing("nCL") + std.timing("nBL")
        org = std.organization
        self._per_rank = org.banks_per_rank
        self._banks_per_group = org.banks_per_group
        if self.config.refresh == "per_bank":
            self._ref_interval = std.timing("nREFIpb")
        else:
            self._ref_interval = std.timing("nREFI")
        self._ref_due = [self._ref_interval] * org.ranks
        self._ref_bank = [0] * org.ranks
        for req in self.requests:
            req.bank_flat = ((req.rank * org.bankgroups + req.bankgroup) * org.banks_per_group
                             + req.bank)
        self._pending = deque(sorted(self.requests, key=lambda r: (r.arrival, r.index)))
        self._readq: list[Request] = []
        self._writeq: list[Request] = []
        self._write_mode = False
        self._high = max(1, int(self.config.write_queue_size * self.config.write_high_watermark))
        self._low = int(self.config.write_queue_size * self.config.write_low_watermark)
        self.outstanding = len(self.requests)

    # -- refresh -------------------------------------------------------------------------------
    def _refresh_candidate(self, cycle: int):
        """(command, rank, bankgroup, bank, earliest) of the most urgent refresh step, blocked
        ranks, blocked banks."""
        if self.config.refresh == "none":
            return None, (), ()
        dev = self.device
        best = None
        blocked_ranks: list[int] = []
        blocked_banks: list[int] = []
        for rank, due in enumerate(self._ref_due):
            if cycle < due:
                continue
            if self.config.refresh == "all_bank":
                blocked_ranks.append(rank)
                if dev.any_open(rank):
                    if self._prea is not None:
                        cand = (self._prea, rank, 0, 0, dev.earliest(self._prea, rank, 0, 0))
                    else:
                        cand = self._close_one_bank(rank)
                else:
                    cand = (self._ref, rank, 0, 0, dev.earliest(self._ref, rank, 0, 0))
            else:
                flat = rank * self._per_rank + self._ref_bank[rank]
                blocked_banks.append(flat)
                bg, bank = divmod(self._ref_bank[rank], self._banks_per_group)
                cmd = self._pre if dev.open_row[flat] != -1 else self._refpb
                cand = (cmd, rank, bg, bank, dev.earliest(cmd, rank, bg, bank))
            if best is None or cand[4] < best[4]:
                best = cand
        return best, blocked_ranks, blocked_banks

    def _close_one_bank(self, rank: int):
        dev = self.device
        best = None
        for flat in range(rank * self._per_rank, (rank + 1) * self._per_rank):
            if dev.open_row[flat] == -1:
                continue
            bg, bank = divmod(flat - rank * self._per_rank, self._banks_per_group)
            cand = (self._pre, rank, bg, bank, dev.earliest(self._pre, rank, bg, bank))
            if best is None or cand[4] < best[4]:
                best = cand
        return best

    # -- one decision --------------------------------------------------------------------------
    def step(self, cycle: int) -> int | None:
        """Serve cycle `cycle`; return the next cycle worth a step, or None when done."""
        self.admit_arrivals(cycle)
        if self.outstanding == 0:
            return None
        refresh, blocked_ranks, blocked_banks = self._refresh_candidate(cycle)
        if refresh is not None and refresh[4] <= cycle:
            self.issue_refresh(refresh, cycle)
            return cycle + 1
        wake = refresh[4] if refresh is not None else None
        cmd, req, wake = self.pick_request(self.select_queue(), cycle, blocked_ranks,
                                           blocked_banks, wake)
        if req is not None:
            self._issue(cmd, req.rank, req.bankgroup, req.bank, req.row, req.column, cycle, req)
            return cycle + 1
        return self.next_wake(cycle, wake)

    def admit_arrivals(self, cycle: int) -> None:
        """Move requests that have arrived by `cycle` into the read or write queue, in arrival
        order, until the queue they need is full."""
        cfg = self.config
        pending, readq, writeq = self._pending, self._readq, self._writeq
        while pending and pending[0].arrival <= cycle:
            req = pending[0]
            queue, cap = (writeq, cfg.write_queue_size) if req.is_write else (
                readq, cfg.read_queue_size)
            if len(queue) >= cap:
                break
            pending.popleft()
            req.enqueued = cycle
            queue.append(req)

    def issue_refresh(self, refresh: tuple, cycle: int) -> None:
        """Issue the pending refresh step (PREA/PRE to close banks, then REF or REFpb)."""
        self._issue(refresh[0], refresh[1], refresh[2], refresh[3], -1, -1, cycle, None)

    def select_queue(self) -> list[Request]:
        """The queue to serve: writes drain from the high watermark (or when no read waits)
        down to the low watermark, otherwise reads."""
        readq, writeq = self._readq, self._writeq
        if self._write_mode:
            if not writeq or (len(writeq) <= self._low and readq):
                self._write_mode = False
        elif len(writeq) >= self._high or (writeq and not readq):
            self._write_mode = True
        return writeq if self._write_mode else readq

    def pick_request(self, queue: list[Request], cycle: int, blocked_ranks: list[int],
                     blocked_banks: list[int], wake: int | None
                     ) -> tuple[int | None, Request | None, int | None]:
        """FR-FCFS: the oldest request whose next command (RD/WR on a row hit, else ACT or PRE)
        can issue at `cycle`, row hits first; a row still demanded by the queue is not
        precharged. Returns (command, request or None, earliest cycle another can issue)."""
        dev = self.device
        open_row = dev.open_row
        demanded = {(r.bank_flat, r.row) for r in queue}
        ready_cmd = ready_req = None
        for req in queue:
            if blocked_ranks and req.rank in blocked_ranks:
                continue
            if blocked_banks and req.bank_flat in blocked_banks:
                continue
            current = open_row[req.bank_flat]
            if current == req.row:
                cmd = self._wr if req.is_write else self._rd
            elif current == -1:
                cmd = self._act
            elif (req.bank_flat, current) in demanded:
                continue
            else:
                cmd = self._pre
            at = dev.earliest(cmd, req.rank, req.bankgroup, req.bank)
            if at <= cycle:
                if current == req.row:
                    return cmd, req, wake
                if ready_req is None:
                    ready_cmd, ready_req = cmd, req
            elif wake is None or at < wake:
                wake = at
        return ready_cmd, ready_req, wake

    def next_wake(self, cycle: int, wake: int | None) -> int:
        """Next cycle worth a step when nothing issues now: the earliest of a command becoming
        legal, a refresh falling due and the next request arriving."""
        for due in self._ref_due:
            if due > cycle and (wake is None or due < wake):
                wake = due
        pending = self._pending
        if pending and pending[0].arrival > cycle:
            if wake is None or pending[0].arrival < wake:
                wake = pending[0].arrival
        if wake is None:
            wake = cycle + 1
        return max(wake, cycle + 1)

    def _issue(self, cmd: int, rank: int, bankgroup: int, bank: int, row: int, column: int,
               cycle: int, req: Request | None) -> None:
        dev = self.device
        dev.issue(cmd, rank, bankgroup, bank, row, cycle)
        self.trace.append(Command(cycle, dev.command_names[cmd], self.channel, rank, bankgroup,
                                  bank, row, column))
        if req is None:
            if cmd == self._ref:
                self._ref_due[rank] += self._ref_interval
            elif cmd == self._refpb:
                self._ref_due[rank] += self._ref_interval
                self._ref_bank[rank] = (self._ref_bank[rank] + 1) % self._per_rank
            return
        if cmd == self._pre:
            req.outcome = "conflict"
        elif cmd == self._act:
            if not req.outcome:
                req.outcome = "miss"
        else:
            if not req.outcome:
                req.outcome = "hit"
            req.issued = cycle
            if req.is_write:
                req.done = cycle + self.standard.timing("nCWL") + self.standard.timing("nBL")
                self._writeq.remove(req)
            else:
                req.done = cycle + self._read_delay
                self._readq.remove(req)
            self.outstanding -= 1

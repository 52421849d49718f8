"""The `fast` engine: the reference controller's decisions, compiled, over a streamed input.

`FastTables` turns a standard's constraint table and a `ControllerConfig` into flat integer
arrays (`sim/dram/fastkernel.py` documents them); `FastChannel` holds one channel's state
(device bounds, open rows, queues, refresh counters) and runs the compiled loop on it;
`run_stream` feeds request chunks (address, is_write, arrival arrays; see
`trace.entry_chunks` / `trace.synthetic_chunks`) through the address mapping into the channels.

Streaming. A channel may run ahead only while it knows its next pending request (the reference
admits requests from a queue sorted by arrival, so arrival cycles must not decrease along the
stream). When its pending requests run out the compiled loop returns and the next chunk is
decoded; memory is O(chunk + queues), flat in trace length.

Outputs equal the reference's: command counts, row outcomes, the largest completion cycle and a
histogram of read latencies (exact integers; `stats.latency_summary` reads the mean and the
percentiles off it exactly). The command trace is recorded only on request.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from sim.dram import fastkernel as fk
from sim.dram.address import AddressMapping
from sim.dram.controller import Command, ControllerConfig
from sim.dram.device import ChannelDevice
from sim.dram.spec import LEVEL_DEPTH, DramStandard
from workloads.errors import SpecError

TRACE_BUFFER = 1 << 16
LATENCY_BUFFER = 1 << 16
EFFECT_CODES = {"none": 0, "open": 1, "close": 2}
REFRESH_CODES = {"none": fk.REFRESH_NONE, "all_bank": fk.REFRESH_ALL_BANK,
                 "per_bank": fk.REFRESH_PER_BANK}


def rule_tables(standard: DramStandard, command_id: dict[str, int]):
    """The constraint table as CSR arrays per (preceding command, level): plain rows, sibling
    rows, windowed rows -- the split and order of `ChannelDevice`'s per-command lists."""
    n_cmd = len(command_id)
    groups: list[list[list[tuple[int, int, int]]]] = [[[], [], []] for _ in range(n_cmd * 4)]
    for row in standard.constraints:
        level = LEVEL_DEPTH[row.level]
        kind = 2 if row.window > 1 else (1 if row.sibling else 0)
        for prev in row.preceding:
            for follow in row.following:
                groups[command_id[prev] * 4 + level][kind].append(
                    (command_id[follow], row.latency_cycles, row.window))
    rules = np.zeros((n_cmd * 4, 6), dtype=np.int64)
    flat: list[tuple[int, int, int]] = []
    hcap = np.ones(n_cmd * 4, dtype=np.int64)
    for k, kinds in enumerate(groups):
        for j, rows in enumerate(kinds):
            rules[k, 2 * j] = len(flat)
            flat.extend(rows)
            rules[k, 2 * j + 1] = len(flat)
        if kinds[2]:
            hcap[k] = max(w for _, _, w in kinds[2])
    arr = np.array(flat, dtype=np.int64).reshape(-1, 3)
    return rules, arr[:, 0].copy(), arr[:, 1].copy(), arr[:, 2].copy(), hcap


class FastTables:
    """Everything constant about one (standard, controller config): geometry, command ids, the
    flat constraint table."""

    def __init__(self, standard: DramStandard, config: ControllerConfig, record: bool) -> None:
        org = standard.organization
        ref = ChannelDevice(standard)  # the reference's command numbering
        self.standard, self.config = standard, config
        self.command_names = ref.command_names
        cid = ref.command_id
        self.n_cmd = len(cid)
        r, g, k = org.ranks, org.bankgroups, org.banks_per_group
        self.geo = np.array([r, g, k, g * k, 1, 1 + r, 1 + r + r * g, r * g * k], dtype=np.int64)
        self.n_nodes = 1 + r + r * g + r * g * k
        self.depth = np.array(ref.depth, dtype=np.int64)
        self.effect = np.array([EFFECT_CODES[e] for e in ref.effect], dtype=np.int64)
        self.rules, self.rule_f, self.rule_l, self.rule_w, self.hcap = rule_tables(standard, cid)
        self.max_window = int(self.hcap.max())
        closed = config.policy == "closed"
        per_bank = config.refresh == "per_bank"
        cfg = np.zeros(fk.N_CFG, dtype=np.int64)
        cfg[fk.K_RD] = cid["RDA"] if closed else cid["RD"]
        cfg[fk.K_WR] = cid["WRA"] if closed else cid["WR"]
        cfg[fk.K_ACT], cfg[fk.K_PRE] = cid["ACT"], cid["PRE"]
        cfg[fk.K_PREA] = cid.get("PREA", fk.NONE)
        cfg[fk.K_REF] = cid[standard.refresh.all_bank_command]
        cfg[fk.K_REFPB] = cid.get(standard.refresh.per_bank_command or "", fk.NONE)
        cfg[fk.K_REFRESH] = REFRESH_CODES[config.refresh]
        cfg[fk.K_REF_INTERVAL] = standard.timing("nREFIpb" if per_bank else "nREFI")
        cfg[fk.K_READ_DELAY] = standard.timing("nCL") + standard.timing("nBL")
        cfg[fk.K_WRITE_DELAY] = standard.timing("nCWL") + standard.timing("nBL")
        cfg[fk.K_RQ_CAP], cfg[fk.K_WQ_CAP] = config.read_queue_size, config.write_queue_size
        cfg[fk.K_HIGH] = max(1, int(config.write_queue_size * config.write_high_watermark))
        cfg[fk.K_LOW] = int(config.write_queue_size * config.write_low_watermark)
        cfg[fk.K_RECORD] = int(record)
        self.cfg = cfg


class FastChannel:
    """One channel's mutable state, its statistics and (optionally) its recorded commands."""

    def __init__(self, tables: FastTables, channel: int) -> None:
        t, org = tables, tables.standard.organization
        self.tables, self.channel = t, channel
        z = np.zeros
        n_banks = int(t.geo[fk.G_BANKS])
        self.dev = (z((t.n_nodes, t.n_cmd), np.int64), np.full(n_banks, fk.NONE, np.int64), t.geo,
                    t.depth, t.effect, t.rules, t.rule_f, t.rule_l, t.rule_w,
                    z((t.n_nodes, t.n_cmd, t.max_window), np.int64),
                    z((t.n_nodes, t.n_cmd), np.int64), z((t.n_nodes, t.n_cmd), np.int64), t.hcap)
        self.ctl = z(fk.N_CTL, np.int64)
        self.ref_due = np.full(org.ranks, t.cfg[fk.K_REF_INTERVAL], np.int64)
        self.ref_bank = z(org.ranks, np.int64)
        self.rq = z((max(1, t.config.read_queue_size), fk.N_Q), np.int64)
        self.wq = z((max(1, t.config.write_queue_size), fk.N_Q), np.int64)
        self.counts = z(t.n_cmd, np.int64)
        self.trace_buf = z((TRACE_BUFFER if t.cfg[fk.K_RECORD] else 1, 7), np.int64)
        self.lat_buf = z(LATENCY_BUFFER, np.int64)
        self.scratch = (z(5, np.int64), z(5, np.int64), z(org.ranks, np.int64),
                        z(org.ranks, np.int64), z(n_banks, np.int64), z(3, np.int64))
        self.latency_hist = z(0, np.int64)
        self.trace_parts: list[np.ndarray] = []
        self.cached = z((3, max(self.rq.shape[0], self.wq.shape[0])), np.int64)
        self.ctl[fk.C_CACHE_GEN] = -1
        self.pend = z((fk.N_P, 0), np.int64)
        self.requests = self.reads = 0

    def feed(self, pend: np.ndarray, final: bool) -> None:
        """Queue `pend` (columns of `fk.P_*` fields) behind the remaining pending requests and run
        until they are used up (or, with `final`, until every request is served)."""
        rest = self.pend[:, self.ctl[fk.C_PEND_START]:]
        self.pend = np.ascontiguousarray(pend if rest.shape[1] == 0 else np.concatenate([rest, pend], axis=1))
        self.ctl[fk.C_PEND_START] = 0
        self.requests += pend.shape[1]
        self.reads += int(pend.shape[1] - np.count_nonzero(pend[fk.P_WRITE]))
        if self.pend.shape[1] == 0 and not final:
            return
        while True:
            status = fk.run(self.dev, self.tables.cfg, self.ctl, self.ref_due, self.ref_bank,
                            self.rq, self.wq, self.pend, final, self.counts, self.trace_buf,
                            self.lat_buf, self.scratch, self.cached)
            self.drain()
            if status != fk.BUFFER_FULL:
                return

    def drain(self) -> None:
        """Fold the latency buffer into the histogram and keep the recorded commands."""
        n = int(self.ctl[fk.C_LAT_LEN])
        if n:
            add = np.bincount(self.lat_buf[:n])
            if add.size > self.latency_hist.size:
                add[:self.latency_hist.size] += self.latency_hist
                self.latency_hist = add
            else:
                self.latency_hist[:add.size] += add
            self.ctl[fk.C_LAT_LEN] = 0
        n = int(self.ctl[fk.C_TRACE_LEN])
        if n:
            self.trace_parts.append(self.trace_buf[:n].copy())
            self.ctl[fk.C_TRACE_LEN] = 0


def decode_arrays(amap: AddressMapping, addresses: np.ndarray) -> dict[str, np.ndarray]:
    """`AddressMapping.decode` on an array of byte addresses (uint64): field name -> int64 array,
    with ``Bg``/``Ba`` split as the scalar decode splits them."""
    burst = addresses >> np.uint64(amap.offset_bits)
    values = {name: ((burst >> np.uint64(shift)) & np.uint64(mask)).astype(np.int64)
              for name, shift, mask in amap.fields}
    if not amap.split_bank:
        values["Bg"] = values["Ba"] // amap.banks_per_group
        values["Ba"] = values["Ba"] % amap.banks_per_group
    return values


def pending_rows(values: dict[str, np.ndarray], is_write: np.ndarray, arrivals: np.ndarray,
                 org) -> np.ndarray:
    """Pending requests as a (field, request) array of `fk.P_*` fields."""
    pend = np.empty((fk.N_P, is_write.shape[0]), dtype=np.int64)
    pend[fk.P_RANK] = values["Ra"]
    pend[fk.P_BG] = values["Bg"]
    pend[fk.P_BANK] = values["Ba"]
    pend[fk.P_FLAT] = (values["Ra"] * org.bankgroups + values["Bg"]) * org.banks_per_group \
        + values["Ba"]
    pend[fk.P_ROW] = values["Ro"]
    pend[fk.P_COL] = values["Co"]
    pend[fk.P_WRITE] = is_write
    pend[fk.P_ARRIVAL] = arrivals
    return pend


class ArrivalOrder:
    """Arrival cycles must not decrease along a stream (the controller's pending queue is in
    arrival order); a `SpecError` names the first request that goes back in time."""

    def __init__(self) -> None:
        self.last, self.seen = 0, 0

    def check(self, arrivals: np.ndarray) -> None:
        if arrivals.size:
            steps = np.diff(arrivals, prepend=self.last)
            if (steps < 0).any() or arrivals[0] < 0:
                bad = int(np.flatnonzero(steps < 0)[0]) if (steps < 0).any() else 0
                raise SpecError(f"request {self.seen + bad}: arrival cycle {int(arrivals[bad])} is "
                                "before the previous request's; the fast engine streams requests "
                                "in arrival order")
            self.last = int(arrivals[-1])
        self.seen += arrivals.size


def run_stream(standard: DramStandard, chunks: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]],
               mapping: str, config: ControllerConfig, record: bool) -> list[FastChannel]:
    """Simulate request chunks (addresses uint64, is_write bool, arrivals int64) to the end;
    returns the finished channels."""
    org = standard.organization
    amap = AddressMapping.parse(mapping, org)
    tables = FastTables(standard, config, record)
    channels = [FastChannel(tables, ch) for ch in range(org.channels)]
    order = ArrivalOrder()
    for addresses, is_write, arrivals in chunks:
        order.check(arrivals)
        values = decode_arrays(amap, addresses)
        pend = pending_rows(values, is_write, arrivals, org)
        if org.channels == 1:
            channels[0].feed(pend, False)
            continue
        for ch, channel in enumerate(channels):
            channel.feed(pend[:, values["Ch"] == ch], False)
    empty = np.zeros((fk.N_P, 0), dtype=np.int64)
    for channel in channels:
        channel.feed(empty, True)
    return channels


def command_trace(channels: list[FastChannel]) -> Iterator[Command]:
    """The recorded commands of all channels ordered by (cycle, channel), as the reference's
    `stats.collect` orders them."""
    parts = [np.column_stack([p, np.full(p.shape[0], c.channel, np.int64)])
             for c in channels for p in c.trace_parts]
    if not parts:
        return
    rows = np.concatenate(parts)
    rows = rows[np.lexsort((rows[:, 7], rows[:, 0]))]
    names = channels[0].tables.command_names
    for cycle, cmd, rank, bg, bank, row, col, ch in rows.tolist():
        yield Command(cycle, names[cmd], ch, rank, bg, bank, row, col)

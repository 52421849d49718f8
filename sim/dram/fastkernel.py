"""The compiled hot loop of the `fast` engine: `controller.ChannelController.step` and
`device.ChannelDevice` over flat integer arrays, compiled by numba.

Every function here mirrors one method of the reference (named in its docstring) decision for
decision, so that the engine issues the same commands at the same cycles; `sim/dram/fast.py`
builds the arrays from the standard's constraint table and streams requests through `run`.

Arrays (all int64):
* ``nxt[node, cmd]``: earliest legal cycle of `cmd` under `node`; nodes are numbered channel (0),
  ranks (from ``geo[G_OFF1]``), bank groups (``G_OFF2``), banks (``G_OFF3``).
* ``rules[cmd * 4 + level]``: [plain start, end, sibling start, end, window start, end) into
  ``rule_f`` (following command), ``rule_l`` (latency) and ``rule_w`` (window).
* ``hist[node, cmd, :]``: ring of the last issue cycles per windowed (node, command), with
  ``hpos``/``hcnt`` and its length ``hcap[cmd * 4 + level]`` (the deque's maxlen).
* ``queue[i]``: one queued request (fields ``Q_*``); ``pend[:, i]``: one pending request
  (fields ``P_*``) not yet admitted.
* ``ctl``: the channel's scalars (``C_*``); ``cfg``: command ids and policy (``K_*``).

Without numba installed the same functions run as plain Python (correct, slow).
"""
from __future__ import annotations

import numpy as np

try:  # pragma: no cover - exercised by whichever environment runs the tests
    from numba import njit
except ImportError:  # pragma: no cover
    def njit(*args, **kwargs):
        if args and callable(args[0]):
            return args[0]
        return lambda fn: fn

NONE = -1
# run() status
NEED_INPUT, DONE, BUFFER_FULL = 0, 1, 2
# geo
G_R, G_G, G_K, G_PER_RANK, G_OFF1, G_OFF2, G_OFF3, G_BANKS = range(8)
# cfg
(K_RD, K_WR, K_ACT, K_PRE, K_PREA, K_REF, K_REFPB, K_REFRESH, K_REF_INTERVAL, K_READ_DELAY,
 K_WRITE_DELAY, K_RQ_CAP, K_WQ_CAP, K_HIGH, K_LOW, K_RECORD) = range(16)
N_CFG = 16
# ctl
(C_CYCLE, C_WRITE_MODE, C_RQ_LEN, C_WQ_LEN, C_PEND_START, C_MAX_DONE, C_TRACE_LEN, C_LAT_LEN,
 C_STAMP, C_OUT_HIT, C_OUT_MISS, C_OUT_CONFLICT, C_GEN, C_CACHE_GEN, C_CACHE_CYCLE) = range(15)
N_CTL = 15
# queue entry fields
Q_RANK, Q_BG, Q_BANK, Q_FLAT, Q_ROW, Q_COL, Q_ENQ, Q_OUT, Q_N1, Q_N2, Q_N3 = range(11)
N_Q = 11
# pending request fields
P_RANK, P_BG, P_BANK, P_FLAT, P_ROW, P_COL, P_WRITE, P_ARRIVAL = range(8)
N_P = 8
# refresh candidate fields
R_CMD, R_RANK, R_BG, R_BANK, R_AT = range(5)
# refresh modes
REFRESH_NONE, REFRESH_ALL_BANK, REFRESH_PER_BANK = 0, 1, 2


@njit(cache=True, inline="always")
def node_index(geo, level, rank, bg, bank):
    """`ChannelDevice.node_index`, with the level's offset into the flat node numbering."""
    if level == 0:
        return 0
    if level == 1:
        return geo[G_OFF1] + rank
    if level == 2:
        return geo[G_OFF2] + rank * geo[G_G] + bg
    return geo[G_OFF3] + (rank * geo[G_G] + bg) * geo[G_K] + bank


@njit(cache=True, inline="always")
def earliest(nxt, depth, geo, cmd, rank, bg, bank):
    """`ChannelDevice.earliest`: the maximum bound of `cmd` over the nodes on its path."""
    bound = nxt[0, cmd]
    d = depth[cmd]
    if d >= 1:
        v = nxt[geo[G_OFF1] + rank, cmd]
        if v > bound:
            bound = v
        if d >= 2:
            g = rank * geo[G_G] + bg
            v = nxt[geo[G_OFF2] + g, cmd]
            if v > bound:
                bound = v
            if d >= 3:
                v = nxt[geo[G_OFF3] + g * geo[G_K] + bank, cmd]
                if v > bound:
                    bound = v
    return bound


@njit(cache=True, inline="always")
def earliest_at(nxt, depth, cmd, n1, n2, n3):
    """`earliest` with the rank, bank-group and bank node numbers of the address given."""
    bound = nxt[0, cmd]
    d = depth[cmd]
    if d >= 1:
        bound = max(bound, nxt[n1, cmd])
        if d >= 2:
            bound = max(bound, nxt[n2, cmd])
            if d >= 3:
                bound = max(bound, nxt[n3, cmd])
    return bound


@njit(cache=True, inline="always")
def raise_bounds(nxt, node, lo, hi, rule_f, rule_l, cycle):
    """Apply rows lo..hi of the flat table to `node`: bound[f] = max(bound[f], cycle + l)."""
    for i in range(lo, hi):
        f = rule_f[i]
        t = cycle + rule_l[i]
        if t > nxt[node, f]:
            nxt[node, f] = t


@njit(cache=True, inline="always")
def raise_siblings(nxt, geo, level, rank, bg, bank, lo, hi, rule_f, rule_l, cycle):
    """`sibling` rows: the same bounds on every other node with the same parent
    (`ChannelDevice._siblings`, in the same order)."""
    if level == 1:
        for other in range(geo[G_R]):
            if other != rank:
                raise_bounds(nxt, geo[G_OFF1] + other, lo, hi, rule_f, rule_l, cycle)
    elif level == 2:
        base = geo[G_OFF2] + rank * geo[G_G]
        for other in range(geo[G_G]):
            if other != bg:
                raise_bounds(nxt, base + other, lo, hi, rule_f, rule_l, cycle)
    elif level == 3:
        base = geo[G_OFF3] + (rank * geo[G_G] + bg) * geo[G_K]
        for other in range(geo[G_K]):
            if other != bank:
                raise_bounds(nxt, base + other, lo, hi, rule_f, rule_l, cycle)


@njit(cache=True, inline="always")
def raise_windows(nxt, hist, hpos, hcnt, cap, node, cmd, lo, hi, rule_f, rule_l, rule_w, cycle):
    """Windowed rows (tFAW): record `cycle` in the node's ring of recent `cmd` issues, then bound
    from the w-th most recent one (the deque of `ChannelDevice.issue`)."""
    pos = hpos[node, cmd]
    hist[node, cmd, pos] = cycle
    pos = (pos + 1) % cap
    hpos[node, cmd] = pos
    if hcnt[node, cmd] < cap:
        hcnt[node, cmd] += 1
    count = hcnt[node, cmd]
    for i in range(lo, hi):
        w = rule_w[i]
        if count >= w:
            t = hist[node, cmd, (pos - w) % cap] + rule_l[i]
            f = rule_f[i]
            if t > nxt[node, f]:
                nxt[node, f] = t


@njit(cache=True, inline="always")
def set_banks(open_row, geo, d, rank, bg, bank, value):
    """Open or close the banks a command of scope depth `d` addresses
    (`ChannelDevice.banks_under`)."""
    if d >= 3:
        open_row[(rank * geo[G_G] + bg) * geo[G_K] + bank] = value
    elif d == 2:
        base = (rank * geo[G_G] + bg) * geo[G_K]
        for b in range(base, base + geo[G_K]):
            open_row[b] = value
    elif d == 1:
        for b in range(rank * geo[G_PER_RANK], (rank + 1) * geo[G_PER_RANK]):
            open_row[b] = value
    else:
        for b in range(geo[G_BANKS]):
            open_row[b] = value


@njit(cache=True, inline="always")
def device_issue(dev, cmd, rank, bg, bank, row, cycle):
    """`ChannelDevice.issue`: raise the bounds `cmd` imposes on every level down to its scope,
    then apply its effect on the bank state."""
    nxt, open_row, geo, depth, effect, rules, rule_f, rule_l, rule_w, hist, hpos, hcnt, hcap = dev
    for level in range(depth[cmd] + 1):
        node = node_index(geo, level, rank, bg, bank)
        k = cmd * 4 + level
        raise_bounds(nxt, node, rules[k, 0], rules[k, 1], rule_f, rule_l, cycle)
        if rules[k, 2] < rules[k, 3]:
            raise_siblings(nxt, geo, level, rank, bg, bank, rules[k, 2], rules[k, 3], rule_f,
                           rule_l, cycle)
        if rules[k, 4] < rules[k, 5]:
            raise_windows(nxt, hist, hpos, hcnt, hcap[k], node, cmd, rules[k, 4], rules[k, 5],
                          rule_f, rule_l, rule_w, cycle)
    e = effect[cmd]
    if e != 0:
        set_banks(open_row, geo, depth[cmd], rank, bg, bank, row if e == 1 else NONE)


@njit(cache=True, inline="always")
def close_one_bank(dev, cfg, rank, cand):
    """`ChannelController._close_one_bank`: the open bank of `rank` whose PRE is legal first."""
    nxt, open_row, geo, depth = dev[0], dev[1], dev[2], dev[3]
    pre = cfg[K_PRE]
    found = False
    base = rank * geo[G_PER_RANK]
    for flat in range(base, base + geo[G_PER_RANK]):
        if open_row[flat] == NONE:
            continue
        bg = (flat - base) // geo[G_K]
        bank = (flat - base) % geo[G_K]
        at = earliest(nxt, depth, geo, pre, rank, bg, bank)
        if not found or at < cand[R_AT]:
            found = True
            cand[R_CMD], cand[R_RANK], cand[R_BG], cand[R_BANK], cand[R_AT] = pre, rank, bg, bank, at


@njit(cache=True, inline="always")
def rank_has_open_bank(open_row, geo, rank):
    """`ChannelDevice.any_open`."""
    for flat in range(rank * geo[G_PER_RANK], (rank + 1) * geo[G_PER_RANK]):
        if open_row[flat] != NONE:
            return True
    return False


@njit(cache=True, inline="always")
def rank_refresh_step(dev, cfg, ref_bank, rank, cand):
    """The next refresh command of one due rank into `cand`; returns the blocked flat bank
    (per-bank mode) or NONE (the whole rank is blocked)."""
    nxt, open_row, geo, depth = dev[0], dev[1], dev[2], dev[3]
    if cfg[K_REFRESH] == REFRESH_ALL_BANK:
        if rank_has_open_bank(open_row, geo, rank):
            if cfg[K_PREA] != NONE:
                cmd = cfg[K_PREA]
                cand[R_CMD], cand[R_RANK], cand[R_BG], cand[R_BANK] = cmd, rank, 0, 0
                cand[R_AT] = earliest(nxt, depth, geo, cmd, rank, 0, 0)
            else:
                close_one_bank(dev, cfg, rank, cand)
        else:
            cmd = cfg[K_REF]
            cand[R_CMD], cand[R_RANK], cand[R_BG], cand[R_BANK] = cmd, rank, 0, 0
            cand[R_AT] = earliest(nxt, depth, geo, cmd, rank, 0, 0)
        return NONE
    flat = rank * geo[G_PER_RANK] + ref_bank[rank]
    bg = ref_bank[rank] // geo[G_K]
    bank = ref_bank[rank] % geo[G_K]
    cmd = cfg[K_PRE] if open_row[flat] != NONE else cfg[K_REFPB]
    cand[R_CMD], cand[R_RANK], cand[R_BG], cand[R_BANK] = cmd, rank, bg, bank
    cand[R_AT] = earliest(nxt, depth, geo, cmd, rank, bg, bank)
    return flat


@njit(cache=True, inline="always")
def refresh_candidate(dev, cfg, ref_due, ref_bank, cycle, best, cand, blk_rank, blk_bank):
    """`ChannelController._refresh_candidate`: the most urgent refresh step into `best`
    (R_CMD NONE if none) and the ranks / banks it blocks."""
    best[R_CMD] = NONE
    for rank in range(ref_due.shape[0]):
        blk_rank[rank] = 0
        blk_bank[rank] = NONE
    if cfg[K_REFRESH] == REFRESH_NONE:
        return
    for rank in range(ref_due.shape[0]):
        if cycle < ref_due[rank]:
            continue
        flat = rank_refresh_step(dev, cfg, ref_bank, rank, cand)
        if cfg[K_REFRESH] == REFRESH_ALL_BANK:
            blk_rank[rank] = 1
        else:
            blk_bank[rank] = flat
        if best[R_CMD] == NONE or cand[R_AT] < best[R_AT]:
            for i in range(5):
                best[i] = cand[i]


@njit(cache=True, inline="always")
def admit_arrivals(cfg, geo, ctl, pend, rq, wq, cycle):
    """`ChannelController.admit_arrivals`: pending requests that have arrived enter their queue
    in order until the queue they need is full."""
    n = pend.shape[1]
    while ctl[C_PEND_START] < n:
        p = ctl[C_PEND_START]
        if pend[P_ARRIVAL, p] > cycle:
            break
        if pend[P_WRITE, p]:
            queue, slot, cap = wq, C_WQ_LEN, cfg[K_WQ_CAP]
        else:
            queue, slot, cap = rq, C_RQ_LEN, cfg[K_RQ_CAP]
        i = ctl[slot]
        if i >= cap:
            break
        queue[i, Q_RANK] = pend[P_RANK, p]
        queue[i, Q_BG] = pend[P_BG, p]
        queue[i, Q_BANK] = pend[P_BANK, p]
        queue[i, Q_FLAT] = pend[P_FLAT, p]
        queue[i, Q_ROW] = pend[P_ROW, p]
        queue[i, Q_COL] = pend[P_COL, p]
        queue[i, Q_ENQ] = cycle
        queue[i, Q_OUT] = 0
        queue[i, Q_N1] = geo[G_OFF1] + pend[P_RANK, p]
        queue[i, Q_N2] = geo[G_OFF2] + pend[P_RANK, p] * geo[G_G] + pend[P_BG, p]
        queue[i, Q_N3] = geo[G_OFF3] + pend[P_FLAT, p]
        ctl[slot] = i + 1
        ctl[C_PEND_START] = p + 1
        ctl[C_GEN] += 1


@njit(cache=True, inline="always")
def select_queue(cfg, ctl):
    """`ChannelController.select_queue`: True to serve the write queue. Writes drain from the
    high watermark (or when no read waits) down to the low watermark."""
    nr, nw = ctl[C_RQ_LEN], ctl[C_WQ_LEN]
    if ctl[C_WRITE_MODE]:
        if nw == 0 or (nw <= cfg[K_LOW] and nr > 0):
            ctl[C_WRITE_MODE] = 0
            ctl[C_GEN] += 1
    elif nw >= cfg[K_HIGH] or (nw > 0 and nr == 0):
        ctl[C_WRITE_MODE] = 1
        ctl[C_GEN] += 1
    return ctl[C_WRITE_MODE] != 0


@njit(cache=True, inline="always")
def pick_request(dev, cfg, ctl, ref_due, queue, n, is_write, cycle, blk_rank, blk_bank, demanded,
                 pick, cached):
    """`ChannelController.pick_request` (FR-FCFS): the oldest row hit that can issue now, else
    the oldest ready ACT/PRE; a bank's open row still demanded by the queue is not precharged.
    Writes (command, queue index or NONE, wake) into `pick`; wake enters as the refresh wake.

    A scan that issues nothing leaves each request's (command, earliest cycle) in `cached`. The
    next step reuses them when nothing changed since: no command issued, no request admitted,
    no drain-mode switch (`C_GEN` counts these) and no refresh fell due (the blocked set)."""
    valid = ctl[C_CACHE_GEN] == ctl[C_GEN]
    if valid:
        for rank in range(ref_due.shape[0]):
            if ctl[C_CACHE_CYCLE] < ref_due[rank] <= cycle:
                valid = False
    if valid:
        pick_cached(queue, n, cycle, pick, cached)
    else:
        scan_queue(dev, cfg, ctl, queue, n, is_write, cycle, blk_rank, blk_bank, demanded, pick,
                   cached)
        ctl[C_CACHE_GEN] = ctl[C_GEN]
        ctl[C_CACHE_CYCLE] = cycle


@njit(cache=True, inline="always")
def pick_cached(queue, n, cycle, pick, cached):
    """The decisions of `scan_queue` from the cached (command, earliest, row hit) of each
    request (command NONE: blocked or a protected row)."""
    pick[0] = NONE
    pick[1] = NONE
    wake = pick[2]
    for i in range(n):
        cmd = cached[0, i]
        if cmd == NONE:
            continue
        at = cached[1, i]
        if at <= cycle:
            if cached[2, i]:
                pick[0], pick[1], pick[2] = cmd, i, wake
                return
            if pick[1] == NONE:
                pick[0], pick[1] = cmd, i
        elif wake == NONE or at < wake:
            wake = at
    pick[2] = wake


@njit(cache=True, inline="always")
def scan_queue(dev, cfg, ctl, queue, n, is_write, cycle, blk_rank, blk_bank, demanded, pick,
               cached):
    """The FR-FCFS scan of `pick_request` on the device state."""
    nxt, open_row, depth = dev[0], dev[1], dev[3]
    stamp = ctl[C_STAMP] + 1
    ctl[C_STAMP] = stamp
    for i in range(n):
        flat = queue[i, Q_FLAT]
        if open_row[flat] == queue[i, Q_ROW]:
            demanded[flat] = stamp
    hit_cmd = cfg[K_WR] if is_write else cfg[K_RD]
    pick[0] = NONE
    pick[1] = NONE
    wake = pick[2]
    for i in range(n):
        cached[0, i] = NONE
        rank, flat, row = queue[i, Q_RANK], queue[i, Q_FLAT], queue[i, Q_ROW]
        if blk_rank[rank] or blk_bank[rank] == flat:
            continue
        current = open_row[flat]
        if current == row:
            cmd = hit_cmd
        elif current == NONE:
            cmd = cfg[K_ACT]
        elif demanded[flat] == stamp:
            continue
        else:
            cmd = cfg[K_PRE]
        at = earliest_at(nxt, depth, cmd, queue[i, Q_N1], queue[i, Q_N2], queue[i, Q_N3])
        cached[0, i], cached[1, i], cached[2, i] = cmd, at, current == row
        if at <= cycle:
            if current == row:
                pick[0], pick[1], pick[2] = cmd, i, wake
                return
            if pick[1] == NONE:
                pick[0], pick[1] = cmd, i
        elif wake == NONE or at < wake:
            wake = at
    pick[2] = wake


@njit(cache=True, inline="always")
def record(cfg, ctl, trace, cycle, cmd, rank, bg, bank, row, col):
    """Append one command to the trace buffer (when the trace is recorded)."""
    if cfg[K_RECORD]:
        t = ctl[C_TRACE_LEN]
        trace[t, 0], trace[t, 1], trace[t, 2], trace[t, 3] = cycle, cmd, rank, bg
        trace[t, 4], trace[t, 5], trace[t, 6] = bank, row, col
        ctl[C_TRACE_LEN] = t + 1


@njit(cache=True, inline="always")
def issue_refresh(dev, cfg, ctl, counts, trace, ref_due, ref_bank, best, cycle):
    """`ChannelController.issue_refresh` and the refresh branch of `_issue`."""
    cmd, rank, bg, bank = best[R_CMD], best[R_RANK], best[R_BG], best[R_BANK]
    device_issue(dev, cmd, rank, bg, bank, NONE, cycle)
    ctl[C_GEN] += 1
    record(cfg, ctl, trace, cycle, cmd, rank, bg, bank, NONE, NONE)
    counts[cmd] += 1
    if cmd == cfg[K_REF]:
        ref_due[rank] += cfg[K_REF_INTERVAL]
    elif cmd == cfg[K_REFPB]:
        ref_due[rank] += cfg[K_REF_INTERVAL]
        ref_bank[rank] = (ref_bank[rank] + 1) % dev[2][G_PER_RANK]


@njit(cache=True, inline="always")
def issue_request(dev, cfg, ctl, counts, trace, lat, queue, is_write, cmd, i, cycle):
    """The request branch of `ChannelController._issue`: row outcome, completion, removal from
    its queue (order kept)."""
    rank, bg, bank, row = queue[i, Q_RANK], queue[i, Q_BG], queue[i, Q_BANK], queue[i, Q_ROW]
    device_issue(dev, cmd, rank, bg, bank, row, cycle)
    ctl[C_GEN] += 1
    record(cfg, ctl, trace, cycle, cmd, rank, bg, bank, row, queue[i, Q_COL])
    counts[cmd] += 1
    if cmd == cfg[K_PRE]:
        queue[i, Q_OUT] = 3
        return
    if cmd == cfg[K_ACT]:
        if queue[i, Q_OUT] == 0:
            queue[i, Q_OUT] = 2
        return
    outcome = queue[i, Q_OUT] if queue[i, Q_OUT] != 0 else 1
    ctl[C_OUT_HIT + outcome - 1] += 1
    if is_write:
        done = cycle + cfg[K_WRITE_DELAY]
        slot = C_WQ_LEN
    else:
        done = cycle + cfg[K_READ_DELAY]
        lat[ctl[C_LAT_LEN]] = done - queue[i, Q_ENQ]
        ctl[C_LAT_LEN] += 1
        slot = C_RQ_LEN
    if done > ctl[C_MAX_DONE]:
        ctl[C_MAX_DONE] = done
    n = ctl[slot]
    for j in range(i, n - 1):
        for f in range(N_Q):
            queue[j, f] = queue[j + 1, f]
    ctl[slot] = n - 1


@njit(cache=True, inline="always")
def next_wake(ctl, pend, ref_due, cycle, wake):
    """`ChannelController.next_wake`: the earliest of a command becoming legal, a refresh
    falling due and the next request arriving, but at least the next cycle."""
    for rank in range(ref_due.shape[0]):
        due = ref_due[rank]
        if due > cycle and (wake == NONE or due < wake):
            wake = due
    p = ctl[C_PEND_START]
    if p < pend.shape[1] and pend[P_ARRIVAL, p] > cycle:
        if wake == NONE or pend[P_ARRIVAL, p] < wake:
            wake = pend[P_ARRIVAL, p]
    if wake == NONE:
        wake = cycle + 1
    return max(wake, cycle + 1)


@njit(cache=True, nogil=True)
def run(dev, cfg, ctl, ref_due, ref_bank, rq, wq, pend, final, counts, trace, lat, scratch,
        cached):
    """Step one channel (`ChannelController.step` in a loop that jumps to each next wake) until
    its pending requests run out while more input may come (NEED_INPUT: feed `pend` and call
    again), a trace/latency buffer fills (BUFFER_FULL: drain them and call again) or, with
    `final`, every request is served (DONE). Each call restarts the step at ctl[C_CYCLE], which
    is safe because a return happens only before any command of that step issues."""
    best, cand, blk_rank, blk_bank, demanded, pick = scratch
    trace_cap = trace.shape[0] if cfg[K_RECORD] else 1 << 62
    while True:
        if ctl[C_TRACE_LEN] >= trace_cap or ctl[C_LAT_LEN] >= lat.shape[0]:
            return BUFFER_FULL
        cycle = ctl[C_CYCLE]
        admit_arrivals(cfg, dev[2], ctl, pend, rq, wq, cycle)
        pending = pend.shape[1] - ctl[C_PEND_START]
        if pending == 0 and not final:
            return NEED_INPUT
        if pending + ctl[C_RQ_LEN] + ctl[C_WQ_LEN] == 0:
            return DONE
        refresh_candidate(dev, cfg, ref_due, ref_bank, cycle, best, cand, blk_rank, blk_bank)
        if best[R_CMD] != NONE and best[R_AT] <= cycle:
            issue_refresh(dev, cfg, ctl, counts, trace, ref_due, ref_bank, best, cycle)
            ctl[C_CYCLE] = cycle + 1
            continue
        pick[2] = best[R_AT] if best[R_CMD] != NONE else NONE
        is_write = select_queue(cfg, ctl)
        queue = wq if is_write else rq
        n = ctl[C_WQ_LEN] if is_write else ctl[C_RQ_LEN]
        pick_request(dev, cfg, ctl, ref_due, queue, n, is_write, cycle, blk_rank, blk_bank,
                     demanded, pick, cached)
        if pick[1] != NONE:
            issue_request(dev, cfg, ctl, counts, trace, lat, queue, is_write, pick[0], pick[1],
                          cycle)
            ctl[C_CYCLE] = cycle + 1
        else:
            ctl[C_CYCLE] = next_wake(ctl, pend, ref_due, cycle, pick[2])

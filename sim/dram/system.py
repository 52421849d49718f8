"""`simulate`: a request stream through the address mapping, per-channel controllers and an
engine, summarised as a `DramResult`; `simulate_stream` runs chunked input on the `fast` engine
in flat memory."""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from sim.dram.address import AddressMapping
from sim.dram.controller import ChannelController, ControllerConfig, Request
from sim.dram.engines import ENGINES, run, run_fast
from sim.dram.spec import DramStandard, load_standard, with_channels
from sim.dram.stats import DramResult, collect, summarize
from sim.dram.trace import TraceEntry, entry_chunks
from workloads.errors import SpecError

DEFAULT_MAPPING = "RoRaBaCoBgCh"


def capacity_bytes(standard: DramStandard) -> int:
    org = standard.organization
    return (org.channels * org.ranks * org.banks_per_rank * org.rows * org.bursts_per_row
            * org.burst_bytes)


def _prepare(standard: DramStandard | str, engine: str, config: ControllerConfig | None,
             policy: str, refresh: str,
             channels: int | None = None) -> tuple[DramStandard, ControllerConfig]:
    std = with_channels(load_standard(standard) if isinstance(standard, str) else standard,
                        channels)
    if engine not in ENGINES:
        raise SpecError(f"engine {engine!r}; allowed: {', '.join(ENGINES)}")
    cfg = config or ControllerConfig(policy=policy, refresh=refresh)
    cfg.validate(std)
    return std, cfg


def simulate(standard: DramStandard | str, entries: Sequence[TraceEntry],
             mapping: str = DEFAULT_MAPPING, policy: str = "open", refresh: str = "all_bank",
             engine: str = "simpy", config: ControllerConfig | None = None,
             trace: bool = True, channels: int | None = None) -> DramResult:
    """Run `entries` on `standard` and return the statistics and the command trace (`trace`
    False skips recording it on the `fast` engine; the others always record it). `channels`
    overrides the standard's channel count (`spec.with_channels`)."""
    std, cfg = _prepare(standard, engine, config, policy, refresh, channels)
    if engine == "fast":
        if isinstance(entries, Sequence) and any(
                b.arrival < a.arrival for a, b in zip(entries, entries[1:])):
            entries = sorted(entries, key=lambda e: e.arrival)  # the reference's (arrival, index)
        return simulate_stream(std, entry_chunks(entries), mapping, config=cfg, trace=trace)
    amap = AddressMapping.parse(mapping, std.organization)
    per_channel: list[list[Request]] = [[] for _ in range(std.organization.channels)]
    for index, entry in enumerate(entries):
        d = amap.decode(entry.address)
        per_channel[d.channel].append(Request(index, entry.address, entry.is_write, entry.arrival,
                                              d.channel, d.rank, d.bankgroup, d.bank, d.row,
                                              d.column))
    controllers = [ChannelController(std, ch, cfg, reqs) for ch, reqs in enumerate(per_channel)]
    run(engine, controllers)
    return collect(std, controllers, mapping, engine)


def simulate_stream(standard: DramStandard | str,
                    chunks: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]],
                    mapping: str = DEFAULT_MAPPING, policy: str = "open",
                    refresh: str = "all_bank", config: ControllerConfig | None = None,
                    trace: bool = False, channels: int | None = None) -> DramResult:
    """Run request chunks (addresses uint64, is_write bool, arrival cycles int64, arrivals not
    decreasing; see `trace.synthetic_chunks`, `trace.trace_chunks`, `trace.entry_chunks`) on the
    `fast` engine in memory flat in the number of requests. The command trace is recorded only
    with `trace` (it grows with the run); `channels` as in `simulate`."""
    std, cfg = _prepare(standard, "fast", config, policy, refresh, channels)
    AddressMapping.parse(mapping, std.organization)
    totals = run_fast(std, chunks, mapping, cfg, trace)
    return summarize(std, totals, mapping, cfg.policy, cfg.refresh, "fast")

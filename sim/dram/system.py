"""`simulate`: a request stream through the address mapping, per-channel controllers and an
engine, summarised as a `DramResult`."""
from __future__ import annotations

from collections.abc import Sequence

from sim.dram.address import AddressMapping
from sim.dram.controller import ChannelController, ControllerConfig, Request
from sim.dram.engines import ENGINES, run
from sim.dram.spec import DramStandard, load_standard
from sim.dram.stats import DramResult, collect
from sim.dram.trace import TraceEntry
from workloads.errors import SpecError

DEFAULT_MAPPING = "RoRaBaCoBgCh"


def capacity_bytes(standard: DramStandard) -> int:
    org = standard.organization
    return (org.channels * org.ranks * org.banks_per_rank * org.rows * org.bursts_per_row
            * org.burst_bytes)


def simulate(standard: DramStandard | str, entries: Sequence[TraceEntry],
             mapping: str = DEFAULT_MAPPING, policy: str = "open", refresh: str = "all_bank",
             engine: str = "simpy", config: ControllerConfig | None = None) -> DramResult:
    """Run `entries` on `standard` and return the statistics and the command trace."""
    std = load_standard(standard) if isinstance(standard, str) else standard
    if engine not in ENGINES:
        raise SpecError(f"engine {engine!r}; allowed: {', '.join(ENGINES)}")
    cfg = config or ControllerConfig(policy=policy, refresh=refresh)
    cfg.validate(std)
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

"""Statistics of one run: bandwidth against the bus peak, row-buffer outcomes, read latency,
command counts and energy.

Definitions (also in docs/dram.md, whose JSON key list mirrors `DramResult.to_dict`):
* elapsed cycles: from cycle 0 to the end of the last data burst (RD: issue + CL + BL;
  WR: issue + CWL + BL).
* achieved bandwidth: bytes moved by RD/RDA/WR/WRA bursts / elapsed time.
* peak bandwidth: channels x bus width x data rate, the closed form of the standard.
* row outcome per request: ``hit`` (no ACT or PRE issued on its behalf), ``miss`` (an ACT to a
  closed bank) or ``conflict`` (a PRE of another row first).
* read latency: from the cycle the request entered the controller's queue to its last data beat.
* energy: counts x per-command energies of the standard's `energy` block plus background power
  x elapsed time x channels; `energy_source` names where the numbers come from.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from sim.dram.controller import ChannelController, Command, Request
from sim.dram.spec import DramStandard


@dataclass(frozen=True)
class DramResult:
    """Outcome of simulating one request stream on one standard, mapping and policy."""

    standard: str
    mapping: str
    policy: str
    refresh: str
    engine: str
    requests: int
    reads: int
    writes: int
    cycles: int
    tck_ns: float
    bytes_moved: int
    peak_bandwidth_gbps: float
    row_hits: int
    row_misses: int
    row_conflicts: int
    read_latency_cycles: tuple[float, float, float]
    command_counts: dict[str, int] = field(hash=False)
    energy_pj: dict[str, float] | None = field(hash=False)
    energy_source: str
    trace: tuple[Command, ...] = field(hash=False, repr=False)

    @property
    def elapsed_ns(self) -> float:
        return self.cycles * self.tck_ns

    @property
    def bandwidth_gbps(self) -> float:
        return self.bytes_moved / self.elapsed_ns if self.cycles else 0.0

    @property
    def bandwidth_efficiency(self) -> float:
        return self.bandwidth_gbps / self.peak_bandwidth_gbps

    def _rate(self, count: int) -> float:
        return count / self.requests if self.requests else 0.0

    def to_dict(self) -> dict:
        """JSON-ready summary; the key names are a stable interface (see docs/dram.md)."""
        mean, p50, p99 = self.read_latency_cycles
        return {
            "standard": self.standard,
            "mapping": self.mapping,
            "policy": self.policy,
            "refresh": self.refresh,
            "engine": self.engine,
            "requests": self.requests,
            "reads": self.reads,
            "writes": self.writes,
            "cycles": self.cycles,
            "tck_ns": self.tck_ns,
            "elapsed_ns": self.elapsed_ns,
            "bytes": self.bytes_moved,
            "bandwidth_gbps": self.bandwidth_gbps,
            "peak_bandwidth_gbps": self.peak_bandwidth_gbps,
            "bandwidth_efficiency": self.bandwidth_efficiency,
            "row_hits": self.row_hits,
            "row_misses": self.row_misses,
            "row_conflicts": self.row_conflicts,
            "row_hit_rate": self._rate(self.row_hits),
            "row_miss_rate": self._rate(self.row_misses),
            "row_conflict_rate": self._rate(self.row_conflicts),
            "read_latency_cycles": {"mean": mean, "p50": p50, "p99": p99},
            "read_latency_ns": {"mean": mean * self.tck_ns, "p50": p50 * self.tck_ns,
                                "p99": p99 * self.tck_ns},
            "command_counts": dict(self.command_counts),
            "energy_pj": self.energy_pj,
            "energy_source": self.energy_source,
        }


def latency_summary(histogram: np.ndarray) -> tuple[float, float, float]:
    """(mean, p50, p99) of integer latencies given as a histogram (count of each value).

    Exact and equal to `np.mean` / `np.percentile(method="linear")` on the expanded values: the
    sum is an exact integer, the two order statistics around each percentile are read off the
    cumulative counts, and they are interpolated with numpy's own formula (virtual index
    (n - 1) q, `_lerp` from the nearer end)."""
    hist = np.asarray(histogram, dtype=np.int64)
    n = int(hist.sum())
    if n == 0:
        return (0.0, 0.0, 0.0)
    mean = float(int(np.dot(hist, np.arange(hist.size, dtype=np.int64)))) / n
    cumulative = np.cumsum(hist)

    def order_statistic(k: int) -> float:
        return float(np.searchsorted(cumulative, k, side="right"))

    def percentile(p: float) -> float:
        virtual = (n - 1) * (p / 100)
        lo = int(np.floor(virtual))
        gamma = virtual - lo
        a, b = order_statistic(lo), order_statistic(min(lo + 1, n - 1))
        diff = b - a
        return b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma

    return (mean, percentile(50), percentile(99))


@dataclass(frozen=True)
class RunTotals:
    """What any engine reports about a finished run, before derived statistics."""

    requests: int
    reads: int
    cycles: int
    command_counts: dict[str, int]
    row_outcomes: tuple[int, int, int]
    latency_histogram: np.ndarray
    trace: tuple[Command, ...]


def summarize(standard: DramStandard, totals: RunTotals, mapping: str, policy: str,
              refresh: str, engine: str) -> DramResult:
    """The `DramResult` of a run from its totals (shared by every engine)."""
    counts = Counter({k: v for k, v in totals.command_counts.items() if v})
    org = standard.organization
    bursts = sum(counts[n] for n, spec in standard.commands.items() if spec.access != "none")
    hits, misses, conflicts = totals.row_outcomes
    return DramResult(
        standard=standard.name, mapping=mapping, policy=policy, refresh=refresh, engine=engine,
        requests=totals.requests, reads=totals.reads, writes=totals.requests - totals.reads,
        cycles=totals.cycles, tck_ns=standard.tck_ns, bytes_moved=bursts * org.burst_bytes,
        peak_bandwidth_gbps=standard.peak_bandwidth_gbps,
        row_hits=hits, row_misses=misses, row_conflicts=conflicts,
        read_latency_cycles=latency_summary(totals.latency_histogram),
        command_counts=dict(sorted(counts.items())),
        energy_pj=_energy(standard, counts, totals.cycles),
        energy_source=standard.energy.source, trace=totals.trace,
    )


def collect(standard: DramStandard, controllers: list[ChannelController], mapping: str,
            engine: str) -> DramResult:
    """Summarise finished (reference) controllers into a `DramResult`."""
    requests: list[Request] = [r for c in controllers for r in c.requests]
    trace = sorted((cmd for c in controllers for cmd in c.trace),
                   key=lambda c: (c.cycle, c.channel))
    reads = [r for r in requests if not r.is_write]
    latencies = np.array([r.done - r.enqueued for r in reads], dtype=np.int64)
    outcomes = Counter(r.outcome for r in requests)
    config = controllers[0].config if controllers else None
    totals = RunTotals(
        requests=len(requests), reads=len(reads),
        cycles=max((r.done for r in requests), default=0),
        command_counts=dict(Counter(cmd.command for cmd in trace)),
        row_outcomes=(outcomes["hit"], outcomes["miss"], outcomes["conflict"]),
        latency_histogram=np.bincount(latencies), trace=tuple(trace))
    return summarize(standard, totals, mapping, config.policy if config else "open",
                     config.refresh if config else "all_bank", engine)


def _energy(standard: DramStandard, counts: Counter, cycles: int) -> dict[str, float] | None:
    e = standard.energy
    if e.model == "none":
        return None
    reads = sum(counts[n] for n, s in standard.commands.items() if s.access == "read")
    writes = sum(counts[n] for n, s in standard.commands.items() if s.access == "write")
    per_bank = standard.refresh.per_bank_command
    parts = {
        "activate": counts["ACT"] * e.act_pre_pj,
        "read": reads * e.read_burst_pj,
        "write": writes * e.write_burst_pj,
        "refresh": counts[standard.refresh.all_bank_command] * e.refresh_pj
        + (counts[per_bank] * e.refresh_per_bank_pj if per_bank else 0.0),
        "background": e.background_mw * standard.organization.channels
        * cycles * standard.tck_ns,
    }
    parts["total"] = sum(parts.values())
    return parts

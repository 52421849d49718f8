"""DRAM standards as data: organization, named timings, commands and the constraint table.

A standard is one YAML file in `sim/dram/standards/`. The loader validates it at the edge and
returns a frozen `DramStandard`; everything downstream (device model, controller, checker) trusts
it. The timing constraints are a table of rows in the style of Ramulator 2.0 — (name, level,
preceding commands, following commands, latency expression[, window, sibling]) — so a new
standard, or a new command kind such as a PIM all-bank MAC, is new rows, not new code.

Hierarchy levels, outermost first: channel, rank, bankgroup, bank. A standard without ranks or
bank groups sets their count to 1. HBM2 pseudo channels are channels in `HBM2` (DRAMsim3's view)
and the rank level in `HBM2-2000-Ramulator` (Ramulator's: a level inside a channel).

Row semantics: a command P issued at cycle t to a node N at `level` forbids each following
command F to any address under the same node N (or, for a `sibling` row, under another node with
the same parent as N) before t + latency. With `window` w > 1 the bound applies from the w-th most
recent P at that node (tFAW: the fifth ACT waits for the first of the last four + tFAW). A row
applies only when both commands reach down to `level`: a rank-scoped REF is not checked against
bank-level rows.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import yaml

from sim.dram.expr import evaluate_latency
from workloads.errors import SpecError

LEVELS: tuple[str, ...] = ("channel", "rank", "bankgroup", "bank")
LEVEL_DEPTH: dict[str, int] = {name: depth for depth, name in enumerate(LEVELS)}
REQUIREMENTS = ("none", "closed", "open_row", "all_closed")
EFFECTS = ("none", "open", "close")
ACCESSES = ("none", "read", "write")

STANDARDS_DIR = Path(__file__).parent / "standards"


@dataclass(frozen=True)
class Organization:
    """Geometry of one channel and the data interface (counts per channel)."""

    channels: int
    ranks: int
    bankgroups: int
    banks_per_group: int
    rows: int
    columns: int
    bus_width_bits: int
    device_width_bits: int
    burst_length: int
    prefetch: int
    data_rate_mtps: int

    @property
    def banks_per_rank(self) -> int:
        return self.bankgroups * self.banks_per_group

    @property
    def burst_bytes(self) -> int:
        """Bytes moved by one RD/WR on the whole channel bus."""
        return self.bus_width_bits * self.burst_length // 8

    @property
    def bursts_per_row(self) -> int:
        """Column commands that fit in one row (columns are counted in device-width words)."""
        return self.columns // self.burst_length

    @property
    def devices_per_rank(self) -> int:
        return max(1, self.bus_width_bits // self.device_width_bits)


@dataclass(frozen=True)
class CommandSpec:
    """One DRAM command kind: the level it addresses and its effect on bank state.

    `requires` is the state legality rule applied to every bank under the addressed node:
    ``closed`` (ACT, REFpb), ``open_row`` (RD/WR: the bank must hold the command's row),
    ``all_closed`` (REF) or ``none`` (PRE/PREA may target idle banks, as JEDEC allows).
    `effect` opens the command's row or closes the bank(s) after the command.
    """

    name: str
    scope: str
    requires: str = "none"
    effect: str = "none"
    access: str = "none"
    refresh: bool = False

    @property
    def depth(self) -> int:
        return LEVEL_DEPTH[self.scope]


@dataclass(frozen=True)
class Constraint:
    """One row of the timing table; `latency_cycles` is `expression` evaluated for the standard."""

    name: str
    level: str
    preceding: tuple[str, ...]
    following: tuple[str, ...]
    expression: str
    latency_cycles: int
    window: int = 1
    sibling: bool = False

    @property
    def depth(self) -> int:
        return LEVEL_DEPTH[self.level]


@dataclass(frozen=True)
class RefreshSpec:
    """Which commands refresh, and how many REFs JEDEC lets a controller postpone."""

    all_bank_command: str
    per_bank_command: str | None
    max_postponed: int
    source: str


@dataclass(frozen=True)
class EnergySpec:
    """Energy per command (pJ, whole rank) and background power (mW per channel).

    `model` says where the numbers come from: ``idd`` (IDD currents through the Micron
    TN-40-07 formulas), ``per_bit`` (a published average pJ/bit applied to data moved) or
    ``none`` (no cited figure; energy is not reported).
    """

    model: str
    source: str
    act_pre_pj: float = 0.0
    read_burst_pj: float = 0.0
    write_burst_pj: float = 0.0
    refresh_pj: float = 0.0
    refresh_per_bank_pj: float = 0.0
    background_mw: float = 0.0


@dataclass(frozen=True)
class DramStandard:
    """A complete DRAM standard at one speed bin: everything the model and checker need."""

    name: str
    source: str
    organization: Organization
    tck_ps: int
    timings: dict[str, int] = field(hash=False)
    commands: dict[str, CommandSpec] = field(hash=False)
    constraints: tuple[Constraint, ...] = field(hash=False)
    refresh: RefreshSpec = field(hash=False)
    energy: EnergySpec = field(hash=False)

    @property
    def tck_ns(self) -> float:
        return self.tck_ps / 1000.0

    def timing(self, name: str) -> int:
        return self.timings[name]

    @property
    def peak_bandwidth_gbps(self) -> float:
        """Closed-form bus peak of all channels: width x data rate (GB/s, 1e9 bytes)."""
        org = self.organization
        return org.channels * org.bus_width_bits / 8 * org.data_rate_mtps * 1e6 / 1e9

    def command(self, name: str) -> CommandSpec:
        return self.commands[name]


def available_standards() -> list[str]:
    """Names of the standards shipped in `sim/dram/standards/`."""
    return sorted(p.stem for p in STANDARDS_DIR.glob("*.yaml"))


def load_standard(name_or_path: str | Path) -> DramStandard:
    """Load a shipped standard by name (case-insensitive) or any standard YAML by path."""
    path = Path(name_or_path)
    if path.suffix not in (".yaml", ".yml"):
        known = {n.lower(): n for n in available_standards()}
        key = str(name_or_path).lower()
        if key not in known:
            raise SpecError(f"unknown DRAM standard {str(name_or_path)!r}; "
                            f"allowed: {', '.join(available_standards())}")
        path = STANDARDS_DIR / f"{known[key]}.yaml"
    return _load_path(str(path.resolve()))


@lru_cache(maxsize=32)
def _load_path(path_str: str) -> DramStandard:
    path = Path(path_str)
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as err:
        raise SpecError(f"{path}: cannot read DRAM standard ({err.strerror})") from None
    except yaml.YAMLError as err:
        raise SpecError(f"{path}: not valid YAML ({err})") from None
    if not isinstance(raw, dict):
        raise SpecError(f"{path}: a DRAM standard is a mapping with keys name, organization, ...")
    return parse_standard(raw, str(path))


def _require(raw: dict, key: str, where: str):
    if key not in raw:
        raise SpecError(f"{where}: missing key {key!r}")
    return raw[key]


def _positive_int(value, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise SpecError(f"{where}: expected a non-negative integer, got {value!r}")
    return value


def _names(value, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise SpecError(f"{where}: expected command names (a string or a list), got {value!r}")


def parse_standard(raw: dict, where: str) -> DramStandard:
    """Validate a standard given as parsed YAML; `where` names the file in errors."""
    org = parse_organization(_require(raw, "organization", where), f"{where}: organization")
    tck_ps = _positive_int(_require(raw, "tck_ps", where), f"{where}: tck_ps")
    timings = parse_timings(_require(raw, "timings", where), f"{where}: timings")
    commands = parse_commands(_require(raw, "commands", where), f"{where}: commands")
    constraints = parse_constraints(_require(raw, "constraints", where), commands, timings,
                                    f"{where}: constraints")
    refresh = parse_refresh(_require(raw, "refresh", where), commands, timings, where)
    energy = _parse_energy(raw.get("energy", {"model": "none", "source": ""}), org, timings,
                           tck_ps, f"{where}: energy")
    return DramStandard(name=str(_require(raw, "name", where)), source=str(raw.get("source", "")),
                        organization=org, tck_ps=tck_ps, timings=timings, commands=commands,
                        constraints=tuple(constraints), refresh=refresh, energy=energy)


def parse_organization(org_raw: dict, where: str) -> Organization:
    """Channel/rank/bank-group/bank/row/column counts (powers of two) and burst geometry."""
    org_fields = Organization.__dataclass_fields__
    unknown = set(org_raw) - set(org_fields)
    if unknown:
        raise SpecError(f"{where}: unknown key(s) {sorted(unknown)}; "
                        f"allowed: {', '.join(org_fields)}")
    org = Organization(**{k: _positive_int(_require(org_raw, k, where), f"{where}.{k}")
                          for k in org_fields})
    for key in ("channels", "ranks", "bankgroups", "banks_per_group", "rows", "columns"):
        count = getattr(org, key)
        if count < 1 or count & (count - 1):
            raise SpecError(f"{where}.{key} = {count}; must be a power of two")
    return org


def parse_timings(timings_raw: dict, where: str) -> dict[str, int]:
    """Named timing parameters in clock cycles; burst length, CAS/CWL latency and tREFI are
    required."""
    timings = {str(k): _positive_int(v, f"{where}.{k}") for k, v in timings_raw.items()}
    for needed in ("nBL", "nCL", "nCWL", "nREFI"):
        if needed not in timings:
            raise SpecError(f"{where}: missing {needed!r}")
    return timings


def parse_commands(commands_raw: dict, where: str) -> dict[str, CommandSpec]:
    """Each command's scope (channel .. bank), required bank state, effect on the bank, data
    access and whether it refreshes."""
    commands: dict[str, CommandSpec] = {}
    for cname, spec in commands_raw.items():
        cw = f"{where}.{cname}"
        if not isinstance(spec, dict):
            raise SpecError(f"{cw}: expected a mapping with scope, requires, effect, access")
        scope = spec.get("scope")
        if scope not in LEVEL_DEPTH:
            raise SpecError(f"{cw}.scope = {scope!r}; allowed: {', '.join(LEVELS)}")
        requires = spec.get("requires", "none")
        effect = spec.get("effect", "none")
        access = spec.get("access", "none")
        for key, value, allowed in (("requires", requires, REQUIREMENTS),
                                    ("effect", effect, EFFECTS), ("access", access, ACCESSES)):
            if value not in allowed:
                raise SpecError(f"{cw}.{key} = {value!r}; allowed: {', '.join(allowed)}")
        commands[cname] = CommandSpec(cname, scope, requires, effect, access,
                                      bool(spec.get("refresh", False)))
    return commands


def parse_constraints(rows: list, commands: dict[str, CommandSpec], timings: dict[str, int],
                      where: str) -> list[Constraint]:
    """The timing table, one row per constraint, in file order."""
    return [parse_constraint(row, commands, timings, f"{where}[{index}]")
            for index, row in enumerate(rows)]


def parse_constraint(row, commands: dict[str, CommandSpec], timings: dict[str, int],
                     rw: str) -> Constraint:
    """One timing-table row: the minimum gap from a preceding to a following command on the
    same node (or a sibling node) at `level`, optionally over a window of commands (tFAW)."""
    if not isinstance(row, list) or len(row) not in (5, 6):
        raise SpecError(f"{rw}: expected [name, level, preceding, following, latency"
                        f"(, {{window: W, sibling: true}})], got {row!r}")
    name, level, prev, follow, latency = row[:5]
    options = row[5] if len(row) == 6 else {}
    if level not in LEVEL_DEPTH:
        raise SpecError(f"{rw}: level {level!r}; allowed: {', '.join(LEVELS)}")
    prev_names, follow_names = _names(prev, rw), _names(follow, rw)
    for cname in prev_names + follow_names:
        if cname not in commands:
            raise SpecError(f"{rw}: unknown command {cname!r}; "
                            f"allowed: {', '.join(commands)}")
    if not isinstance(options, dict) or set(options) - {"window", "sibling"}:
        raise SpecError(f"{rw}: options must be a mapping with window and/or sibling")
    return Constraint(
        name=str(name), level=level, preceding=prev_names, following=follow_names,
        expression=str(latency),
        latency_cycles=evaluate_latency(latency, timings, f"{rw} ({name})"),
        window=_positive_int(options.get("window", 1), f"{rw}: window") or 1,
        sibling=bool(options.get("sibling", False)),
    )


def parse_refresh(ref_raw: dict, commands: dict[str, CommandSpec], timings: dict[str, int],
                  where: str) -> RefreshSpec:
    """The all-bank (and optional per-bank) refresh commands and how many refreshes may be
    postponed; per-bank refresh needs tREFIpb."""
    rw = f"{where}: refresh"
    refresh = RefreshSpec(
        all_bank_command=_require(ref_raw, "all_bank_command", rw),
        per_bank_command=ref_raw.get("per_bank_command"),
        max_postponed=_positive_int(ref_raw.get("max_postponed", 0), rw),
        source=str(ref_raw.get("source", "")),
    )
    for cname in (refresh.all_bank_command, refresh.per_bank_command):
        if cname is not None and cname not in commands:
            raise SpecError(f"{where}: refresh names unknown command {cname!r}")
    if refresh.per_bank_command is not None and "nREFIpb" not in timings:
        raise SpecError(f"{where}: per-bank refresh needs timings.nREFIpb")
    return refresh


def _parse_energy(raw: dict, org: Organization, timings: dict[str, int], tck_ps: int,
                  where: str) -> EnergySpec:
    model = raw.get("model", "none")
    source = str(raw.get("source", ""))
    tck_ns = tck_ps / 1000.0
    if model == "none":
        return EnergySpec("none", source)
    if model == "per_bit":
        pj_bit = float(_require(raw, "access_pj_per_bit", where))
        burst_bits = org.burst_bytes * 8
        return EnergySpec("per_bit", source, read_burst_pj=pj_bit * burst_bits,
                          write_burst_pj=pj_bit * burst_bits)
    if model == "idd":
        # Micron TN-40-07 "Calculating Memory Power for DDR4 SDRAM": per-device energies from
        # IDD deltas over the time each operation holds the device, times devices per rank.
        idd = _require(raw, "idd_ma", where)
        vdd = float(_require(raw, "vdd_v", where))
        devices = org.devices_per_rank
        n_rc, n_ras = timings["nRC"], timings["nRAS"]
        t_rc, t_ras = n_rc * tck_ns, n_ras * tck_ns
        t_burst = timings["nBL"] * tck_ns
        t_rfc = timings["nRFC"] * tck_ns
        act_pre = vdd * (idd["IDD0"] * t_rc - (idd["IDD3N"] * t_ras
                                               + idd["IDD2N"] * (t_rc - t_ras)))
        rd = vdd * (idd["IDD4R"] - idd["IDD3N"]) * t_burst
        wr = vdd * (idd["IDD4W"] - idd["IDD3N"]) * t_burst
        ref = vdd * (idd["IDD5B"] - idd["IDD3N"]) * t_rfc
        ref_pb = ref * timings.get("nRFCpb", 0) / max(1, timings["nRFC"]) / org.banks_per_rank
        background = vdd * idd["IDD3N"] * org.ranks  # mA x V = mW per device
        return EnergySpec("idd", source, act_pre_pj=act_pre * devices,
                          read_burst_pj=rd * devices, write_burst_pj=wr * devices,
                          refresh_pj=ref * devices, refresh_per_bank_pj=ref_pb * devices,
                          background_mw=background * devices)
    raise SpecError(f"{where}: model {model!r}; allowed: idd, per_bit, none")


MAX_CHANNELS = 1024


def with_channels(standard: DramStandard, channels: int | None) -> DramStandard:
    """`standard` with `channels` independent channels (None keeps the file's count). Each
    channel is a full copy of the file's per-channel organization and timing; the count must be
    a power of two (the address mapping gives the channel log2(channels) bits), 1 to
    `MAX_CHANNELS`."""
    if channels is None:
        return standard
    if (not isinstance(channels, int) or isinstance(channels, bool) or channels < 1
            or channels > MAX_CHANNELS or channels & (channels - 1)):
        raise SpecError(f"channels {channels!r}: must be a power of two from 1 to {MAX_CHANNELS}")
    if channels == standard.organization.channels:
        return standard
    org = replace(standard.organization, channels=channels)
    return replace(standard, organization=org)

"""AiM instruction traces (ISR): parse, expand to PIM command streams, run on the PIM engines.

The trace format is the SK hynix AiM simulator's (github arkhadem/aim_simulator, `AiMTrace`
frontend), the one CENT (ASPLOS 2025) emits: one instruction per line, fields in the order
opsize, GPR address, channel mask, bank, row where the instruction has them, numbers decimal or
0x-hex, `#` lines and blank lines ignored, the trace ends with `AiM EOC`:

    AiM WR_GB <opsize> <gpr> <mask>        AiM MAC_ABK <opsize> <mask> <row>
    AiM WR_BIAS <gpr> <mask>               AiM EWMUL <opsize> <mask> <row>
    AiM RD_MAC <gpr> <mask>                AiM COPY_BKGB <opsize> <mask> <bank> <row>
    AiM RD_AF <gpr> <mask>                 AiM COPY_GBBK <opsize> <mask> <bank> <row>
    AiM AF <mask>                          AiM SYNC / AiM EOC

Bit 31 - i of a channel mask selects channel i. What an instruction becomes on each selected
channel (the AiM controller, `AiM_dram_controller.cpp`): `opsize` commands on consecutive 256-bit
columns (WR_GB -> WR_GB, MAC_ABK -> MAC_AB, EWMUL -> EWMUL, COPY_* -> COPY_*), one WR_BIAS,
RD_MAC, AF or RD_AF. WR_GB, WR_BIAS, RD_MAC and RD_AF run in the controller's register R/W mode,
everything else in normal mode: a channel whose mode differs first issues TMOD (which waits until
the command is ready, then costs tMODCH). MAC_ABK, EWMUL and COPY need their row open in all banks:
PRE_AB of another open row, then ACT_AB (rows stay open until another row is needed); AF opens
the activation-function row (AiM's row 2^29 + AFM). RD_MAC, RD_AF, SYNC and EOC block the AiM
DMA until every selected channel has its data back (SYNC/EOC: every channel): each is the end of
one einspace step (all channels start the next step together), and each step opens with the
DMA's decode of its first instruction (nDMA cycles). No refresh (AiM issues none).

Deviations (docs/validation.md): COPY_BKGB/COPY_GBBK open the row in all banks (AiM opens one
bank); the DMA's 32-entry request queues per channel are unbounded here; a blocking instruction
ends the step of every channel (AiM waits for the selected channels only).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sim.dram.spec import DramStandard
from sim.pim.stream import AsicStep, CommandTile, PimStep
from workloads.errors import SpecError

MAX_LINE_CHARS = 256
MAX_INSTRUCTIONS = 1_000_000
MASK_BITS = 32
AF_ROW = 1 << 29  # AiM addresses the activation-function LUT as row 2^29 + AFM
# fields of each instruction after `AiM <op>`, in trace order (AiMTrace field order)
FIELDS: dict[str, tuple[str, ...]] = {
    "WR_GB": ("opsize", "gpr", "mask"), "WR_BIAS": ("gpr", "mask"), "RD_MAC": ("gpr", "mask"),
    "RD_AF": ("gpr", "mask"), "MAC_ABK": ("opsize", "mask", "row"), "AF": ("mask",),
    "EWMUL": ("opsize", "mask", "row"), "COPY_BKGB": ("opsize", "mask", "bank", "row"),
    "COPY_GBBK": ("opsize", "mask", "bank", "row"), "SYNC": (), "EOC": (),
}
REGISTER_MODE = frozenset(("WR_GB", "WR_BIAS", "RD_MAC", "RD_AF"))
BLOCKING = frozenset(("RD_MAC", "RD_AF", "SYNC", "EOC"))
COMMAND_OF = {"WR_GB": "WR_GB", "WR_BIAS": "WR_BIAS", "RD_MAC": "RD_MAC", "RD_AF": "RD_AF",
              "MAC_ABK": "MAC_AB", "AF": "AF", "EWMUL": "EWMUL", "COPY_BKGB": "COPY_BKGB",
              "COPY_GBBK": "COPY_GBBK", "SYNC": "SYNC", "EOC": "EOC"}
# einspace command -> the AiM simulator's name for it (its CHx_num_<name>_commands statistics)
AIM_NAMES = {"TMOD": "TMOD", "WR_GB": "WRGB", "MAC_AB": "MAC16", "ACT_AB": "ACT16",
             "RD_MAC": "RDMAC16", "PRE_AB": "PREA", "WR_BIAS": "WRMAC16", "AF": "AF16",
             "RD_AF": "RDAF16", "EWMUL": "EWMUL16", "COPY_BKGB": "RDCP", "COPY_GBBK": "WRCP",
             "SYNC": "SYNC", "EOC": "EOC"}


@dataclass(frozen=True)
class Instruction:
    """One AiM instruction; `line` is its 1-based line in the trace file."""

    op: str
    opsize: int = 1
    mask: int = 0
    bank: int = 0
    row: int = 0
    line: int = 0

    def channels(self, total: int) -> list[int]:
        """Channels the mask selects (bit 31 - i selects channel i); SYNC/EOC: all of them."""
        if self.op in ("SYNC", "EOC"):
            return list(range(total))
        return [i for i in range(total) if self.mask >> (MASK_BITS - 1 - i) & 1]


def _number(token: str, where: str) -> int:
    try:
        return int(token, 16) if token[:2].lower() == "0x" else int(token)
    except ValueError:
        raise SpecError(f"{where}: {token!r} is not a number") from None


def _check_fields(values: dict[str, int], standard: DramStandard, where: str) -> None:
    org = standard.organization
    columns = org.columns // org.burst_length
    limits = {"opsize": (1, columns), "mask": (1, (1 << MASK_BITS) - 1),
              "bank": (0, org.banks_per_rank - 1), "row": (0, org.rows - 1), "gpr": (0, (1 << 31) - 1)}
    for name, value in values.items():
        lo, hi = limits[name]
        if not lo <= value <= hi:
            raise SpecError(f"{where}: {name} {value} out of range [{lo}, {hi}]")
    mask = values.get("mask", 0)
    if mask >> (MASK_BITS - org.channels) == 0 and "mask" in values:
        raise SpecError(f"{where}: mask {mask:#x} selects none of the {org.channels} channels")


def parse_line(text: str, standard: DramStandard, where: str) -> Instruction | None:
    """One trace line: an Instruction, or None for a blank or `#` comment line."""
    if len(text) > MAX_LINE_CHARS:
        raise SpecError(f"{where}: line longer than {MAX_LINE_CHARS} characters")
    tokens = text.replace(",", " ").split()
    if not tokens or tokens[0].startswith("#"):
        return None
    if tokens[0] != "AiM" or len(tokens) < 2:
        raise SpecError(f"{where}: expected 'AiM <instruction> ...', got {text.strip()[:60]!r}")
    op = tokens[1].removeprefix("ISR_")
    if op not in FIELDS:
        raise SpecError(f"{where}: unknown AiM instruction {tokens[1]!r}; allowed: {', '.join(FIELDS)}")
    names = FIELDS[op]
    if len(tokens) - 2 != len(names):
        raise SpecError(f"{where}: {op} takes {len(names)} field(s) ({' '.join(names) or 'none'}), "
                        f"got {len(tokens) - 2}")
    values = {n: _number(t, where) for n, t in zip(names, tokens[2:])}
    _check_fields(values, standard, where)
    values.pop("gpr", None)
    return Instruction(op, line=int(where.rsplit(":", 1)[1]), **values)


def parse_isr(text: str, standard: DramStandard, where: str = "<isr>") -> list[Instruction]:
    """All instructions of a trace (bounded: line length, instruction count); it must end with
    EOC and nothing may follow it. Errors are one-line SpecErrors naming `where:line`."""
    out: list[Instruction] = []
    for number, line in enumerate(text.splitlines(), start=1):
        ins = parse_line(line, standard, f"{where}:{number}")
        if ins is None:
            continue
        if out and out[-1].op == "EOC":
            raise SpecError(f"{where}:{number}: instruction after EOC")
        if len(out) >= MAX_INSTRUCTIONS:
            raise SpecError(f"{where}:{number}: more than {MAX_INSTRUCTIONS} instructions")
        out.append(ins)
    if not out or out[-1].op != "EOC":
        raise SpecError(f"{where}: the trace does not end with 'AiM EOC'")
    return out


def load_isr(path: Path | str, standard: DramStandard) -> list[Instruction]:
    """Read and parse a trace file (refused above MAX_INSTRUCTIONS x MAX_LINE_CHARS bytes)."""
    path = Path(path)
    if not path.is_file():
        raise SpecError(f"{path}: ISR trace not found")
    if path.stat().st_size > MAX_INSTRUCTIONS * MAX_LINE_CHARS:
        raise SpecError(f"{path}: larger than {MAX_INSTRUCTIONS * MAX_LINE_CHARS} bytes")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise SpecError(f"{path}: cannot read ISR trace ({err})") from None
    return parse_isr(text, standard, str(path))


class _ChannelState:
    """Controller mode, open row and the command program of the current step of one channel."""

    def __init__(self) -> None:
        self.register_mode = False
        self.open_row: int | None = None
        self.program: list[tuple[str, int, int]] = []

    def expand(self, ins: Instruction) -> None:
        """Append the commands `ins` issues on this channel."""
        if ins.op in ("SYNC", "EOC"):
            self.program.append((ins.op, 1, 0))
            return
        want_register = ins.op in REGISTER_MODE
        if want_register != self.register_mode:
            self.program.append(("TMOD", 1, 0))
            self.register_mode = want_register
        row = AF_ROW if ins.op == "AF" else ins.row
        if not want_register and self.open_row != row:
            if self.open_row is not None:
                self.program.append(("PRE_AB", 1, self.open_row))
            self.program.append(("ACT_AB", 1, row))
            self.open_row = row
        n = ins.opsize if "opsize" in FIELDS[ins.op] else 1
        self.program.append((COMMAND_OF[ins.op], n, row if not want_register else 0))


def isr_steps(instructions: list[Instruction], standard: DramStandard) -> list:
    """The engine steps of a trace: per blocking instruction an AsicStep (the DMA's decode of
    the step's first instruction, nDMA cycles) and a PimStep with every channel's program."""
    channels = standard.organization.channels
    decode = standard.timings.get("nDMA", 0)
    state = [_ChannelState() for _ in range(channels)]
    steps: list = []
    first = None
    for ins in instructions:
        first = first or ins.line
        for ch in ins.channels(channels):
            state[ch].expand(ins)
        if ins.op in BLOCKING:
            if decode:
                steps.append(AsicStep(f"dma_decode@{first}", decode, "transfer"))
            tiles = tuple((CommandTile(tuple(s.program)),) if s.program else () for s in state)
            steps.append(PimStep(f"{ins.op}@{ins.line}", tiles))
            for s in state:
                s.program = []
            first = None
    return steps


def channel_counts(steps: list) -> dict[int, dict[str, int]]:
    """Commands per channel over the PimSteps of `steps` (channels with commands only)."""
    out: dict[int, dict[str, int]] = {}
    for step in steps:
        if not isinstance(step, PimStep):
            continue
        for ch, tiles in enumerate(step.tiles):
            for tile in tiles:
                counts = out.setdefault(ch, {})
                for name, n in tile.counts().items():
                    counts[name] = counts.get(name, 0) + n
    return out


def gemv_isr(m: int, k: int, channels: int, *, columns: int = 64, bias: bool = False) -> str:
    """The AiM GEMV trace of y = W x, W m x k (rows x cols), as the reference runs build it
    (shared/reference/aim_gemv.json `trace`): m / (16 channels) output rows per bank, one
    DRAM row = `columns` 256-bit columns = 16 x columns FP16 of one output row, x cut into
    k / (16 columns) global-buffer chunks; per chunk c: WR_GB, then per row group g: [WR_BIAS],
    MAC_ABK on row g x chunks + c, RD_MAC; then EOC."""
    per_row = 16 * columns
    if channels < 1 or channels > MASK_BITS:
        raise SpecError(f"--channels {channels}: must be 1..{MASK_BITS}")
    if not 1 <= columns <= 64:
        raise SpecError(f"columns {columns}: must be 1..64 (2 KiB row)")
    if m < 1 or k < 1 or m % (16 * channels) or k % per_row:
        raise SpecError(f"GEMV {m}x{k}: M must be a multiple of 16 x channels ({16 * channels}) "
                        f"and K a multiple of {per_row}")
    groups, chunks = m // (16 * channels), k // per_row
    if groups * chunks > 1 << 14:
        raise SpecError(f"GEMV {m}x{k} on {channels} channel(s) needs {groups * chunks} rows per "
                        f"bank; a bank has 16384")
    mask = sum(1 << (MASK_BITS - 1 - i) for i in range(channels))
    lines = [f"# GEMV M={m} K={k} C={channels} cols/row={columns} bias={int(bias)}"]
    for c in range(chunks):
        lines.append(f"AiM WR_GB {columns} 0 {mask:#010x}")
        for g in range(groups):
            if bias:
                lines.append(f"AiM WR_BIAS 0 {mask:#010x}")
            lines.append(f"AiM MAC_ABK {columns} {mask:#010x} {g * chunks + c}")
            lines.append(f"AiM RD_MAC 0 {mask:#010x}")
    lines.append("AiM EOC")
    return "\n".join(lines) + "\n"


@dataclass
class IsrResult:
    """A trace's run: cycles (command clock), seconds, commands in all and per channel, energy by
    component (`sim.pim.energy`) and the per-step timings."""

    cycles: int
    seconds: float
    counts: dict[str, int]
    per_channel: dict[int, dict[str, int]]
    energy_j: dict[str, float]
    steps: list


ENGINES = ("analytic", "fast", "event")


def run_isr(instructions: list[Instruction], system, engine: str = "analytic") -> IsrResult:
    """Run a parsed trace on `system` (a `sim.pim.spec.PimSystem`, e.g. `aim_cent_system()`)
    with one of the PIM engines (proven equal); refresh off, as the AiM simulator."""
    from sim.pim.analytic import run_analytic
    from sim.pim.energy import energy_parts_j
    from sim.pim.engine import run_event, run_fast

    runners = {"analytic": run_analytic, "fast": run_fast, "event": run_event}
    if engine not in runners:
        raise SpecError(f"engine {engine!r}; allowed: {', '.join(ENGINES)}")
    standard = system.standard
    steps = isr_steps(instructions, standard)
    kwargs = {"record": False} if engine == "event" else {}
    res = runners[engine](standard, steps, standard.organization.channels, refresh=False, **kwargs)
    return IsrResult(res.cycles, res.cycles * standard.tck_ns * 1e-9, dict(res.counts),
                     channel_counts(steps), energy_parts_j(res.counts, 0.0, 0.0, system), res.steps)

"""The BitMoD paper's evaluation setup as presets.

Source: Y. Chen et al., "BitMoD: Bit-serial Mixture-of-Datatype LLM Acceleration", HPCA 2025
(arXiv 2411.11745), §VI-A (methodology) and §VI-D (Figs. 7–8), and the authors' simulator
scripts (github.com/abdelfattah-lab/BitMoD-HPCA-25, `bitmod_sim/test_{baseline,ant,olive,bitmod}.py`
and `accelerator.py`), which hold the numbers the paper's tables and figures were made from:

* the accelerator kinds — PE energy per cycle / area (synthesized at 28 nm, ×1.5 for place and
  route, `PR_SCALING`), iso-area array shapes per task, effective weight bits per task or per
  model — are data: one file per kind in `sim/bitserial/accels/`, loaded by `sim.bitserial.kinds`
  (FP16, ANT, OliVe, BitMoD lossy and lossless, each citing its script);
* 28 nm, 1 GHz; 512 KiB weight and 512 KiB input buffers, 8 banks each; a 128-bit DDR bus (2
  transfers per cycle → 256 bits/cycle) at 2400 pJ per 128-bit access = 18.75 pJ/bit.

`ACCELS`, `PES`, `ARRAYS`, `ANT_WEIGHT_BITS` and `OLIVE_WEIGHT_BITS` are views of that registry.
"""
from __future__ import annotations

import math

from dataclasses import replace

from sim.bitserial import kinds
from sim.bitserial.spec import AcceleratorSpec, BufferSpec, CommandDram, DramSpec
from sim.roofline import sram_energy_j_per_byte
from workloads.errors import SpecError

PAPER = "Chen et al., BitMoD, HPCA 2025 §VI-A; authors' bitmod_sim scripts"
MODELS = ("opt-1.3b", "phi-2", "yi-6b", "llama-2-7b", "llama-2-13b", "llama-3-8b")
TASKS = kinds.TASKS
PHASES = ("prefill", "decode")
SEQ_LEN = 256
DECODE_TOKENS = 20
KIB = 1024

VIEWS = ("ACCELS", "PES", "ARRAYS", "ANT_WEIGHT_BITS", "OLIVE_WEIGHT_BITS")


def __getattr__(name: str):
    """The registry views, read when asked for (so a `kinds.register`ed kind shows in them):
    `ACCELS` the paper's grid in its order (kinds with a `paper_order`); `PES` accel -> task ->
    PESpec; `ARRAYS` accel -> ((rows, cols) discriminative, generative); `ANT_WEIGHT_BITS` /
    `OLIVE_WEIGHT_BITS` the paper's per-model bits of ANT / OliVe."""
    if name not in VIEWS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name == "ACCELS":
        return tuple(n for n in kinds.names() if kinds.kind(n).paper_order is not None)
    if name == "PES":
        return {n: dict(kinds.kind(n).pes) for n in kinds.names()}
    if name == "ARRAYS":
        return {n: tuple(kinds.kind(n).array(t) for t in TASKS) for n in kinds.names()}
    accel = {"ANT_WEIGHT_BITS": "ant", "OLIVE_WEIGHT_BITS": "olive"}[name]
    return dict(kinds.kind(accel).weight_bits[TASKS[0]].models)


_SRAM_PJ_PER_BIT = sram_energy_j_per_byte(512 * KIB, 28) * 1e12 / 8


def buffer_512k() -> BufferSpec:
    """512 KiB, 8 banks (paper §VI-A). Energy per bit: the project's Horowitz-based SRAM table
    at 28 nm (`sim.roofline`); the paper uses CACTI, whose figures are not published."""
    return BufferSpec(512 * KIB, 8, _SRAM_PJ_PER_BIT, _SRAM_PJ_PER_BIT, 64,
                      "512 KiB / 8 banks: " + PAPER + "; energy: sim.roofline SRAM table, 28 nm")


def ddr_128() -> DramSpec:
    """128-bit DDR bus, 256 bits per 1 GHz cycle, 18.75 pJ/bit (authors' accelerator.py:
    1200 pJ per 64 bits)."""
    return DramSpec(128, 2, 2400 / 128, PAPER + " (accelerator.py _init_mem)")


def _check(kind: str, value: str, allowed) -> None:
    if value not in allowed:
        raise SpecError(f"{kind} {value!r} is not known; choose one of: {', '.join(allowed)}")


PAPER_BUS_GBPS = 32.0  # 128-bit DDR bus, 2 transfers per 1 GHz cycle (ddr_128): 256 bit/ns


def default_channels(standard: str) -> int:
    """The power-of-two channel count whose peak bandwidth is closest (in ratio) to the paper's
    256 bits per 1 GHz cycle = 32 GB/s; ties go to fewer channels. HBM2: 2 pseudo channels (one
    128-bit legacy channel at 2 Gb/s/pin, tCK 1 ns: the paper's bus exactly); GDDR6: 1 x16
    channel at 16 Gb/s/pin = 32 GB/s; DDR4-3200: 1 x64 channel = 25.6 GB/s; LPDDR5-6400: 2 x16
    channels = 25.6 GB/s (peaks: `sim.dram` standards files)."""
    from sim.dram import load_standard

    org = load_standard(standard).organization
    per_channel = org.bus_width_bits / 8 * org.data_rate_mtps / 1000
    best = min(range(0, 8), key=lambda e: (abs(math.log(per_channel * 2**e / PAPER_BUS_GBPS)), e))
    return 2**best


def parse_dram(value) -> "str | CommandDram":
    """The `dram:` switch of an accelerator: ``"bandwidth"`` (default), a standard name (with
    `default_channels` and the bank-group-interleaving mapping RoRaBaCoBgCh, the one that
    reaches about 92-96 % of peak on streams in docs/dram.md), or a mapping
    ``{standard, channels, mapping}``."""
    if value is None or value == "bandwidth":
        return "bandwidth"
    if isinstance(value, str):
        from sim.dram import available_standards

        if value not in available_standards():
            raise SpecError(f"dram {value!r} is not known; choose one of: bandwidth, {', '.join(available_standards())}")
        return CommandDram(value, default_channels(value), source="default_channels; mapping: docs/dram.md stream table")
    if isinstance(value, CommandDram):
        return value
    if isinstance(value, dict):
        unknown = set(value) - {"standard", "channels", "mapping"}
        if unknown or "standard" not in value:
            raise SpecError(f"dram: expected keys standard, channels, mapping; got {sorted(value)}")
        std = value["standard"]
        base = parse_dram(std)
        channels = value.get("channels", base.channels)
        if not isinstance(channels, int) or isinstance(channels, bool):
            raise SpecError(f"dram channels {channels!r}: must be an integer")
        return CommandDram(std, channels, value.get("mapping", base.mapping), base.source)
    raise SpecError(f"dram {value!r}: use 'bandwidth', a standard name or {{standard, channels, mapping}}")


def accelerator(accel: "str | kinds.AccelKind", task: str, model: str | None, dram="bandwidth") -> AcceleratorSpec:
    """The configuration of `accel` (a registered kind's name, or a kind, e.g. `kinds.read_kind`)
    for `task` (discriminative|generative) on `model` — the kind's weight bits for that model, or
    its default for a model outside its table (or None); `dram` switches the DRAM model
    (`parse_dram`)."""
    kind = kinds.kind(accel) if isinstance(accel, str) else accel
    _check("task", task, TASKS)
    rows, cols = kind.array(task)
    return AcceleratorSpec(
        name=kind.name, pe=kind.pe(task), rows=rows, cols=cols, weight_buffer=buffer_512k(),
        input_buffer=buffer_512k(), dram=replace(ddr_128(), model=parse_dram(dram)),
        weight_bits=kind.bits(task, model), source=kind.source,
    )


def paper_term_cycles(weight_bits: float) -> int:
    """The authors' bit-serial PE latency, ceil(floor(w_prec) / 2) (pe_array.py)."""
    return math.ceil(math.floor(weight_bits) / 2)

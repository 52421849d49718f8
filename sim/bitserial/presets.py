"""The BitMoD paper's evaluation setup as presets.

Source: Y. Chen et al., "BitMoD: Bit-serial Mixture-of-Datatype LLM Acceleration", HPCA 2025
(arXiv 2411.11745), §VI-A (methodology) and §VI-D (Figs. 7–8), and the authors' simulator
scripts (github.com/abdelfattah-lab/BitMoD-HPCA-25, `bitmod_sim/test_{baseline,ant,olive,bitmod}.py`
and `accelerator.py`), which hold the numbers the paper's tables and figures were made from:

* 28 nm, 1 GHz; iso-area PE arrays: FP16 32×24 (discriminative) / 64×12 (generative), ANT
  32×32 / 64×16, OliVe 36×32 / 72×16, BitMoD 32×32 / 64×16 PEs of 4 lanes;
* PE energy per cycle (pJ) / area (µm²), synthesized at 28 nm: FP16 0.77 / 1968.7, ANT 0.56 /
  1318.6, OliVe 0.613 / 1318.6, BitMoD 0.56 / 1507.7; ×1.5 for place and route (`PR_SCALING`);
* 512 KiB weight and 512 KiB input buffers, 8 banks each; a 128-bit DDR bus (2 transfers per
  cycle → 256 bits/cycle) at 2400 pJ per 128-bit access = 18.75 pJ/bit;
* effective weight bits: BitMoD lossy 4.0625 (4-bit weights + an 8-bit scale per 128) for
  discriminative, 3.0625 for generative tasks; BitMoD lossless 6.0625 (INT6 + scale); ANT
  per model 5 / 5 / 5.25 / 5 / 4 / 5 and OliVe 4 / 4 / 4 / 4 / 4 / 4.5 bits (OPT-1.3B, Phi-2,
  Yi-6B, LLaMA-2-7B, LLaMA-2-13B, LLaMA-3-8B) — the mixed precisions those accelerators need to
  stay within the accuracy budget (paper §VI-A, the authors' `w_prec` tables).
"""
from __future__ import annotations

import math

from dataclasses import replace

from sim.bitserial.spec import AcceleratorSpec, BufferSpec, CommandDram, DramSpec, PESpec
from sim.numerics.terms import term_cycles
from sim.roofline import sram_energy_j_per_byte
from workloads.errors import SpecError

PAPER = "Chen et al., BitMoD, HPCA 2025 §VI-A; authors' bitmod_sim scripts"
MODELS = ("opt-1.3b", "phi-2", "yi-6b", "llama-2-7b", "llama-2-13b", "llama-3-8b")
ACCELS = ("fp16", "ant", "olive", "bitmod-lossy", "bitmod-lossless")
TASKS = ("discriminative", "generative")
PHASES = ("prefill", "decode")
SEQ_LEN = 256
DECODE_TOKENS = 20
KIB = 1024

ANT_WEIGHT_BITS = {"opt-1.3b": 5.0, "phi-2": 5.0, "yi-6b": 5.25, "llama-2-7b": 5.0, "llama-2-13b": 4.0, "llama-3-8b": 5.0}
OLIVE_WEIGHT_BITS = {"opt-1.3b": 4.0, "phi-2": 4.0, "yi-6b": 4.0, "llama-2-7b": 4.0, "llama-2-13b": 4.0, "llama-3-8b": 4.5}

_KV_TERM_CYCLES = term_cycles("int8")  # authors' pe_array.py: kv_prec 8 → ceil(8/2)

PES = {
    "fp16": PESpec("FP16×FP16", False, 1, 1, 1, 0.77, 1968.7, PAPER + " (test_baseline.py)"),
    "fp16-int8": PESpec("FP16×INT8", False, 1, 1, 1, 0.56, 1318.6,
                        "no separate figure in the paper; ANT's bit-parallel FP16×INT PE figures used"),
    "ant": PESpec("ANT", False, 1, 1, 1, 0.56, 1318.6, PAPER + " (test_ant.py)"),
    "olive": PESpec("OliVe", False, 1, 1, 1, 0.613, 1318.6, PAPER + " (test_olive.py)"),
    "bitmod-4": PESpec("BitMoD (FP4 variants)", True, 4, term_cycles("fp4_er_pos"), _KV_TERM_CYCLES, 0.56, 1507.7,
                       PAPER + " (test_bitmod.py); term cycles from sim.numerics.terms"),
    "bitmod-3": PESpec("BitMoD (FP3 variants)", True, 4, term_cycles("fp3_ea_pos"), _KV_TERM_CYCLES, 0.56, 1507.7,
                       PAPER + " (test_bitmod.py); term cycles from sim.numerics.terms"),
    "bitmod-int6": PESpec("BitMoD (INT6 lossless)", True, 4, term_cycles("int6"), _KV_TERM_CYCLES, 0.56, 1507.7,
                          PAPER + " (test_bitmod.py); radix-4 Booth INT6"),
}

ARRAYS = {  # (discriminative, generative) rows × cols
    "fp16": ((32, 24), (64, 12)),
    "ant": ((32, 32), (64, 16)),
    "olive": ((36, 32), (72, 16)),
    "bitmod-lossy": ((32, 32), (64, 16)),
    "bitmod-lossless": ((32, 32), (64, 16)),
}

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


def accelerator(accel: str, task: str, model: str, dram="bandwidth") -> AcceleratorSpec:
    """The paper's configuration of `accel` for `task` (discriminative|generative) on `model`;
    `dram` switches the DRAM model (`parse_dram`)."""
    _check("accelerator", accel, ACCELS)
    _check("task", task, TASKS)
    _check("model", model, MODELS)
    gen = task == "generative"
    rows, cols = ARRAYS[accel][1 if gen else 0]
    if accel == "fp16":
        pe, bits = PES["fp16"], 16.0
    elif accel == "ant":
        pe, bits = PES["ant"], ANT_WEIGHT_BITS[model]
    elif accel == "olive":
        pe, bits = PES["olive"], OLIVE_WEIGHT_BITS[model]
    elif accel == "bitmod-lossless":
        pe, bits = PES["bitmod-int6"], 6.0 + 8 / 128
    else:
        pe, bits = (PES["bitmod-3"], 3.0 + 8 / 128) if gen else (PES["bitmod-4"], 4.0 + 8 / 128)
    return AcceleratorSpec(
        name=accel, pe=pe, rows=rows, cols=cols, weight_buffer=buffer_512k(), input_buffer=buffer_512k(),
        dram=replace(ddr_128(), model=parse_dram(dram)), weight_bits=bits, source=PAPER,
    )


def paper_term_cycles(weight_bits: float) -> int:
    """The authors' bit-serial PE latency, ceil(floor(w_prec) / 2) (pe_array.py)."""
    return math.ceil(math.floor(weight_bits) / 2)

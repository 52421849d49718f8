"""Reference model of the in-bank BF16 MAC of a PIM DRAM (the spec of `hw/units/bank_mac.py`).

Hardware modelled: the per-bank processing unit of a PIM DRAM. SK hynix's AiM (GDDR6-AiM;
Lee et al., ISSCC 2022, and SK hynix's Hot Chips talk on AiM) places 16 BF16 multipliers per bank, fed by one
256-bit column access (16 BF16 weights) and 16 vector elements from a global buffer, followed by
an adder tree and an accumulator. Samsung's HBM-PIM (Lee et al., ISCA 2021, "Hardware
Architectures and Software Stack for PIM Based on Commercial DRAM Technology") likewise consumes
one 256-bit column per command in a 16-lane SIMD unit (FP16 there). Hence 16 lanes is the
faithful width; 4 and 8 lanes are narrower points of the same design for area/Fmax studies.

Arithmetic (bit-exact; see `sim.units.fp` for rounding, FTZ, zero and NaN rules):

1. lane products p_i = bf16_mul(w_i, x_i), exact in FP32 apart from range effects;
2. a balanced binary adder tree in lane order: level 1 adds (p0+p1), (p2+p3), ...; level k adds
   neighbouring level-(k-1) sums; every add is an FP32 add rounded to nearest even;
3. accumulation: acc = fp32_add(acc, tree_sum), or fp32_add(+0, tree_sum) for a burst that has
   `clear` set (which starts a new dot product).

Timing: one burst may enter per cycle (`valid`). The burst sampled at clock edge t has its
products registered at edge t, tree level k at edge t+k, and the accumulator updated at edge
t + log2(lanes) + 1; if the burst has `last` set, `done` is high and `result` holds the
accumulator right after that edge. So `latency_cycles = log2(lanes) + 1`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from sim.units.fp import bf16_mul, fp32_add


@dataclass(frozen=True)
class Burst:
    """One DRAM column burst into the MAC: `lanes` BF16 weights and vector elements (raw bits)."""

    weights: tuple[int, ...]
    vector: tuple[int, ...]
    clear: bool = False
    last: bool = False


@dataclass(frozen=True)
class BankMacModel:
    """Bit- and cycle-exact model of an N-lane BF16 MAC with an FP32 adder tree and accumulator."""

    lanes: int = 16
    rounding: str = "rne"

    def __post_init__(self) -> None:
        if self.lanes < 2 or self.lanes & (self.lanes - 1):
            raise ValueError(f"lanes must be a power of two >= 2, got {self.lanes}")

    @property
    def latency_cycles(self) -> int:
        return self.lanes.bit_length() - 1 + 1

    def tree_sum(self, burst: Burst) -> int:
        """FP32 bits of the adder-tree sum of one burst's lane products."""
        level = [bf16_mul(w, x, self.rounding) for w, x in zip(burst.weights, burst.vector, strict=True)]
        while len(level) > 1:
            level = [fp32_add(level[i], level[i + 1], self.rounding) for i in range(0, len(level), 2)]
        return level[0]

    def run(self, stimulus: Sequence[Burst | None]) -> tuple[list[tuple[int]], list[int]]:
        """Results (as 1-tuples of FP32 bits) and the edge after which each is visible."""
        acc = 0
        outputs: list[tuple[int]] = []
        cycles: list[int] = []
        for t, burst in enumerate(stimulus):
            if burst is None:
                continue
            if len(burst.weights) != self.lanes:
                raise ValueError(f"burst has {len(burst.weights)} lanes, model has {self.lanes}")
            acc = fp32_add(0 if burst.clear else acc, self.tree_sum(burst), self.rounding)
            if burst.last:
                outputs.append((acc,))
                cycles.append(t + self.latency_cycles)
        return outputs, cycles

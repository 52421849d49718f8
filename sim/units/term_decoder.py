"""Reference model of the on-chip code-to-term decoder (the spec of `hw/units/term_decoder.py`).

Hardware modelled: the front end of the BitMoD PE (Chen et al., HPCA 2025, §IV-B, "unified
representation"): weights are stored as codes of the group's datatype and turned on chip into
the signed power-of-two term stream the bit-serial PE consumes, one term per lane per cycle.
The terms are exactly `sim.numerics.terms.unified_terms(dtype, code)` — INT8/INT6 radix-4 Booth
digits (least significant first), FP4/FP3 and BitMoD-variant magnitudes as their set bits (most
significant first) padded with zero terms — encoded as the PE's 6-bit term field
(`sim.units.bitserial_pe.term_field`).

Protocol: an entry (datatype index into `sim.units.bitserial_pe.DATATYPES`, one code per lane)
sampled at edge t puts term j of every lane on `terms` right after edge t+j, j = 0 … k−1 with
k = `term_cycles(dtype)` (4, 3 or 2), `term_valid` high and `slot_last` high with the last term.
The next entry may be sampled at edge t+k (back to back, no gap); earlier is a protocol error.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from sim.numerics.terms import term_cycles
from sim.units.bitserial_pe import DATATYPES, code_terms, term_field

DTYPE_BITS = 4
TERM_CYCLES = tuple(term_cycles(d) for d in DATATYPES)


@dataclass(frozen=True)
class WeightSlot:
    """One weight slot: datatype index and one code per lane."""

    dtype: int
    codes: tuple[int, ...]


@dataclass(frozen=True)
class TermDecoderModel:
    """Bit- and cycle-exact model of the `lanes`-lane code-to-term decoder."""

    lanes: int = 4

    @property
    def latency_cycles(self) -> int:
        """Edges from an entry to its last term, at most."""
        return max(TERM_CYCLES) - 1

    def terms_of(self, slot: WeightSlot) -> list[tuple[int, ...]]:
        """Per term-cycle, the lanes' term fields."""
        dtype = DATATYPES[slot.dtype]
        per_lane = [code_terms(dtype, code) for code in slot.codes]
        return [tuple(term_field(ts[j]) for ts in per_lane) for j in range(TERM_CYCLES[slot.dtype])]

    def run(self, stimulus: Sequence[WeightSlot | None]) -> tuple[list[tuple[int, int]], list[int]]:
        """(packed term fields, slot_last) per term-cycle and the edge after which it is visible."""
        outputs: list[tuple[int, int]] = []
        cycles: list[int] = []
        free_at = 0
        for t, slot in enumerate(stimulus):
            if slot is None:
                continue
            if t < free_at:
                raise ValueError(f"weight slot at cycle {t} while terms are pending until cycle {free_at}")
            if len(slot.codes) != self.lanes:
                raise ValueError(f"weight slot has {len(slot.codes)} codes, the decoder has {self.lanes} lanes")
            steps = self.terms_of(slot)
            free_at = t + len(steps)
            for j, fields in enumerate(steps):
                packed = sum(f << (6 * i) for i, f in enumerate(fields))
                outputs.append((packed, int(j == len(steps) - 1)))
                cycles.append(t + j)
        return outputs, cycles

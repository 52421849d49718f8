"""Ramulator 2.1 DDR4-3200 runs (shared/reference/ramulator_ddr4.json): einspace's DRAM model
(`sim.dram.simulate`, the reference controller stepped by the `loop` engine) on the same three
traces, DDR4-3200, FR-FCFS open page, all-bank refresh, with the mapping string that gives
Ramulator's RoBaRaCoCh bit layout. Claimed: cycles within 2 %; row outcomes and the mean read
latency are reported (docs/validation.md, "DRAM vs Ramulator 2.1 (DDR4)")."""
from __future__ import annotations

import random

from experiments.validation.references import load
from experiments.validation.row import Row, Unavailable, within

NAME = "ramulator-ddr4"
FILE = "ramulator_ddr4.json"
FAST = False  # 3 x 65,536 requests on the reference controller: ~15 s, not in --fast
STANDARD = "DDR4-3200"
ENGINE = "loop"
TOLERANCE = 0.02
# Ramulator's RoBaRaCoCh slices the burst index from the LSB: channel, column, rank, bank group,
# bank, row -- einspace's `ramulator:RoBaRaCoCh` (docs/dram.md, "Address mapping"; einspace's own
# unprefixed RoBaRaCoCh keeps the bank group in the bank field's high bits instead).
MAPPING = "ramulator:RoBaRaCoCh"
RAMULATOR_ORDER = ("Ch", "Co", "Ra", "Bg", "Ba", "Ro")  # LSB first, as the reference's mapping_note
NOTE = "docs/validation.md#dram-vs-ramulator-21-ddr4 (not claimed: reported)"
REQUESTS = 65536


def traces(n: int = REQUESTS) -> dict[str, list]:
    """The reference's three traces, generated as its `traces` entry says."""
    from sim.dram import TraceEntry

    rng = random.Random(7)
    return {"seq.trace": [TraceEntry(i * 64, False) for i in range(n)],
            "rnd.trace": [TraceEntry(rng.randrange(0, 1 << 30) & ~63, False) for _ in range(n)],
            "seq_rw.trace": [TraceEntry(i * 64, i % 4 == 3) for i in range(n)]}


def ramulator_layout(org) -> tuple[tuple[str, int, int], ...]:
    """(field, shift, mask) of Ramulator's linear RoBaRaCoCh mapper on `org`, LSB first."""
    widths = {"Ch": org.channels, "Co": org.bursts_per_row, "Ra": org.ranks, "Bg": org.bankgroups,
              "Ba": org.banks_per_group, "Ro": org.rows}
    shift, out = 0, []
    for name in RAMULATOR_ORDER:
        bits = widths[name].bit_length() - 1
        out.append((name, shift, (1 << bits) - 1))
        shift += bits
    return tuple(out)


def same_layout(standard) -> bool:
    from sim.dram.address import AddressMapping

    parsed = AddressMapping.parse(MAPPING, standard.organization)
    return tuple(sorted(parsed.fields)) == tuple(sorted(ramulator_layout(standard.organization)))


def rows(fast: bool) -> list[Row]:
    from sim.dram import load_standard, simulate

    ref = load(FILE)
    if ref is None:
        raise Unavailable(f"shared/reference/{FILE} not found")
    std = load_standard(STANDARD)
    claimed = same_layout(std)
    cycles_note = "" if claimed else (f"{MAPPING} is not Ramulator's RoBaRaCoCh layout here: the nearest "
                                      f"einspace mapping, not claimed")
    generated = traces()
    out = []
    for case in ref["results"]:
        if case["std"] != "DDR4" or case["trace"] not in generated:
            continue
        entries = generated[case["trace"]]
        if len(entries) != case["reqs"]:
            entries = entries[: case["reqs"]]
        res = simulate(std, entries, mapping=MAPPING, policy="open", refresh="all_bank", engine=ENGINE,
                       trace=False)
        tag = case["trace"].removesuffix(".trace")
        out.append(within(NAME, f"{tag}: cycles", res.cycles, case["cycles"], TOLERANCE, claimed, cycles_note))
        for key in ("row_hits", "row_misses", "row_conflicts"):
            out.append(within(NAME, f"{tag}: {key.replace('_', ' ')}", getattr(res, key), case[key], TOLERANCE,
                              False, NOTE))
        out.append(within(NAME, f"{tag}: mean read latency (cycles)", res.read_latency_cycles[0],
                          case["avg_read_latency"], TOLERANCE, False, NOTE))
    return out

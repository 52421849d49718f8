"""The bitserial family's `search` mapping: searched nests on the bit-serial array, costed by
`sim.pe_array` — on the contract (a row per Einsum, the cascade's MACs) and never slower per GEMM
than the fixed output-stationary nest under the same model."""
from __future__ import annotations

import pytest

from experiments.families import cascade_of, get_family
from experiments.families.bitserial import BitserialParams, accelerator
from experiments.support import workload
from mappers.mapspace import search
from sim.pe_array import from_bitserial
from sim.pe_array.nest import NestPlan
from workloads.errors import SpecError


@pytest.mark.parametrize("mode", ["paper", "cycle"])
def test_search_mapping_rows_macs_and_never_slower(mode):
    fam = get_family("bitserial")
    cascade = cascade_of(workload("gpt2", "prefill", 64))
    accel = accelerator(BitserialParams(mode=mode), "gpt2")
    mapping = fam.map(cascade, accel, "search", mode)
    rows = fam.simulate(mapping, accel).rows
    assert list(rows["einsum"]) == [e.name for e in cascade.einsums]
    assert list(rows["macs"]) == [s.macs for s in cascade.stats]
    for entry in mapping.einsums:
        if isinstance(entry.plan, NestPlan):
            found = search(entry.plan.problem, from_bitserial(accel, entry.plan.attention))
            assert found.cost.cycles <= found.fixed.cycles
    assert rows[rows["modeled"]]["cycles"].gt(0).all()


def test_search_mapping_refuses_the_command_level_dram():
    fam = get_family("bitserial")
    cascade = cascade_of(workload("gpt2", "prefill", 64))
    accel = accelerator(BitserialParams(mode="cycle", dram="DDR4-3200"), "gpt2")
    with pytest.raises(SpecError):
        fam.simulate(fam.map(cascade, accel, "search", "cycle"), accel)

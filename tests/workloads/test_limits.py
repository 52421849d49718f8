"""Work counts stay exact at any batch the lowering accepts; inputs past the limits are one line."""
from __future__ import annotations

import pytest

from workloads import SpecError, get_model, lower
from workloads.lower import MAX_BATCH


def test_counts_are_exact_at_a_million_sequences():
    m = get_model("gpt2")
    c = lower("gpt2", "prefill", batch=1_000_000, seq_len=1024, layers=1)
    qk = next(s for s in c.stats if s.name == "L0.QK")
    assert qk.macs == 1_000_000 * m.n_heads * 1024 * 1024 * m.d_head
    assert int(c.table()["macs"].sum()) == sum(s.macs for s in c.stats)


def test_counts_past_int64_stay_exact_python_integers():
    c = lower("fusemax-bert", "prefill", batch=MAX_BATCH, seq_len=2**20, layers=1)
    m = get_model("fusemax-bert")
    qk = next(s for s in c.stats if s.name == "L0.QK")
    assert qk.macs == MAX_BATCH * m.n_heads * 2**40 * m.d_head > 2**63
    table = c.table()
    assert sum(table["macs"]) == sum(s.macs for s in c.stats) and min(table["ops"]) >= 0


@pytest.mark.parametrize("kwargs, message", [
    ({"batch": 10**12}, "batch 1000000000000: at most 1,048,576 sequences"),
    ({"layers": 1000}, "layers 1000: gpt2 has 12 layers"),
    ({"seq_len": 5000}, "gpt2 has 1024 learned positions; 5000 requested"),
])
def test_inputs_past_the_limits_are_refused(kwargs, message):
    with pytest.raises(SpecError, match=message):
        lower("gpt2", **{"seq_len": 8, **kwargs})

"""Every hardware family on a small 2-layer Gemma-2 (layer 0 local with a window of 4, layer 1
global; scores and logits soft-capped with `tanh`): it either runs the cascade with one row per
Einsum and the cascade's MACs (`Result.check_covers`), or refuses it with a one-line SpecError,
never a traceback or a wrong count."""
from __future__ import annotations

import json

import pytest

from experiments.families import cascade_of, get_family, names
from experiments.space import Point
from experiments.support import workload
from workloads import SpecError

GEMMA2 = dict(model_type="gemma2", hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
              num_key_value_heads=2, head_dim=16, intermediate_size=48, vocab_size=64,
              max_position_embeddings=64, hidden_activation="gelu_pytorch_tanh", query_pre_attn_scalar=24,
              sliding_window=4, attn_logit_softcapping=50.0, final_logit_softcapping=30.0)
REFUSED: dict[str, str] = {}  # every family runs it today


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    path = tmp_path_factory.mktemp("gemma2") / "config.json"
    path.write_text(json.dumps(GEMMA2))
    return str(path)


@pytest.mark.parametrize("family", names())
@pytest.mark.parametrize("phase", ["prefill", "decode"])
def test_family_runs_gemma2_cascade_or_refuses_in_one_line(family, phase, config):
    fam = get_family(family)
    if phase not in fam.phases:
        pytest.skip(f"{family} models {fam.phases}")
    w = workload(config, phase, seq_len=16)
    cascade = cascade_of(w)
    assert any(s.ops.get("tanh") for s in cascade.stats)  # the soft-caps are in the cascade
    try:
        result = fam.result(Point(family, fam.default_mapping, w, {}))
    except SpecError as err:
        assert family in REFUSED, f"{family} refused a Gemma-2 cascade: {err}"
        assert REFUSED[family] in str(err) and "\n" not in str(err)
        return
    assert family not in REFUSED, f"{family} ran a Gemma-2 cascade it should refuse"
    result.check_covers(cascade)
    rows = result.rows.set_index("einsum")
    stats = {e.name: s for e, s in zip(cascade.einsums, cascade.stats)}
    assert rows["macs"].sum() == sum(s.macs for s in cascade.stats)
    for name in [n for n in stats if n.endswith(".QK")] + ["LOGITS"]:
        assert rows.loc[name, "macs"] == stats[name].macs

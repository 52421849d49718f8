"""Every hardware family on a small T5 v1.1 (1 encoder + 1 decoder block, gated-gelu): it
either runs the encoder-decoder cascade with one row per Einsum and the cascade's MACs
(`Result.check_covers`), or refuses it with a one-line SpecError from its `check`, never a
traceback or a wrong count."""
from __future__ import annotations

import json

import pytest

from experiments.families import cascade_of, get_family, names
from experiments.space import Point
from experiments.support import workload
from workloads import SpecError

T5 = dict(model_type="t5", d_model=32, d_kv=12, num_heads=4, num_layers=1, num_decoder_layers=1, d_ff=40,
          vocab_size=64, relative_attention_num_buckets=8, relative_attention_max_distance=16,
          feed_forward_proj="gated-gelu", tie_word_embeddings=False, is_encoder_decoder=True)
# What each family does with an encoder-decoder cascade (a refusal's expected words).
REFUSED = {"pim": "is an encoder-decoder model; the pim family decodes (allowed: decoder models)",
           "bitserial": "is an encoder-decoder model; the bitserial mapper pairs one QK and one AV"}


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    path = tmp_path_factory.mktemp("t5") / "config.json"
    path.write_text(json.dumps(T5))
    return str(path)


@pytest.mark.parametrize("family", names())
@pytest.mark.parametrize("phase", ["prefill", "decode"])
def test_family_runs_t5_cascade_or_refuses_in_one_line(family, phase, config):
    fam = get_family(family)
    if phase not in fam.phases:
        pytest.skip(f"{family} models {fam.phases}")
    w = workload(config, phase, seq_len=16)
    cascade = cascade_of(w)
    try:
        if fam.check is not None:
            fam.check(w, {})
        result = fam.result(Point(family, fam.default_mapping, w, {}))
    except SpecError as err:
        assert family in REFUSED, f"{family} refused a T5 cascade: {err}"
        assert REFUSED[family] in str(err) and "\n" not in str(err)
        return
    assert family not in REFUSED, f"{family} ran a T5 cascade it should refuse"
    result.check_covers(cascade)
    rows = result.rows.set_index("einsum")
    assert list(rows.index) == [e.name for e in cascade.einsums]
    assert rows["macs"].sum() == sum(s.macs for s in cascade.stats)

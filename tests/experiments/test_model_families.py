"""Every hardware family on three small models that stress the cascade: a Mixtral (1 layer, 4
experts, top 2), a T5 v1.1 (1 encoder + 1 decoder block, gated-gelu) and a 2-layer Gemma-2
(layer 0 local with a window of 4, layer 1 global; scores and logits soft-capped with `tanh`).
Each family either runs the cascade with one row per Einsum and the cascade's MACs
(`Result.check_covers`), or refuses it with a one-line SpecError from its `check` or its run
(exit 2 from the CLI), never a traceback or a wrong count."""
from __future__ import annotations

import json

import pytest

from experiments.families import cascade_of, get_family, names
from experiments.space import Point
from experiments.support import workload
from workloads import SpecError

MIXTRAL = dict(model_type="mixtral", hidden_size=32, num_hidden_layers=1, num_attention_heads=4,
               num_key_value_heads=2, intermediate_size=24, vocab_size=64, max_position_embeddings=64,
               num_local_experts=4, num_experts_per_tok=2, rope_theta=1000000.0)
T5 = dict(model_type="t5", d_model=32, d_kv=12, num_heads=4, num_layers=1, num_decoder_layers=1, d_ff=40,
          vocab_size=64, relative_attention_num_buckets=8, relative_attention_max_distance=16,
          feed_forward_proj="gated-gelu", tie_word_embeddings=False, is_encoder_decoder=True)
GEMMA2 = dict(model_type="gemma2", hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
              num_key_value_heads=2, head_dim=16, intermediate_size=48, vocab_size=64,
              max_position_embeddings=64, hidden_activation="gelu_pytorch_tanh", query_pre_attn_scalar=24,
              sliding_window=4, attn_logit_softcapping=50.0, final_logit_softcapping=30.0)
CONFIGS = {"mixtral": MIXTRAL, "t5": T5, "gemma2": GEMMA2}
# What each family does with each model (a refusal's expected words); absent: it runs it.
REFUSED = {
    "mixtral": {"pim": "has Mixture-of-Experts MLPs (4 experts, top 2)"},
    "t5": {"pim": "is an encoder-decoder model; the pim family decodes (allowed: decoder models)",
           "bitserial": "is an encoder-decoder model; the bitserial mapper pairs one QK and one AV"},
    "gemma2": {},
}


@pytest.fixture(scope="module")
def configs(tmp_path_factory):
    paths = {}
    for model, config in CONFIGS.items():
        path = tmp_path_factory.mktemp(model) / "config.json"
        path.write_text(json.dumps(config))
        paths[model] = str(path)
    return paths


def moe_macs_per_token(d=32, experts=4, k=2, width=24):
    return d * experts + 3 * k * d * width  # router + k SwiGLU experts


def check_mixtral(cascade, rows):
    """k experts per token: the router plus k of the 4 SwiGLU experts."""
    tokens = cascade.meta["batch"] * cascade.meta["queries"]
    moe = [e.name for e in cascade.einsums if e.group == "moe"]
    assert rows.loc[moe, "macs"].sum() == tokens * moe_macs_per_token()
    assert rows.loc["L0.EO", "macs"] == tokens * 2 * 24 * 32  # k = 2 experts of the 4


def check_gemma2(cascade, rows):
    """The soft-capped scores and logits keep their MACs."""
    stats = {e.name: s for e, s in zip(cascade.einsums, cascade.stats)}
    for name in [n for n in stats if n.endswith(".QK")] + ["LOGITS"]:
        assert rows.loc[name, "macs"] == stats[name].macs


EXTRA = {"mixtral": check_mixtral, "t5": lambda cascade, rows: None, "gemma2": check_gemma2}


@pytest.mark.parametrize("model", list(CONFIGS))
@pytest.mark.parametrize("family", names())
@pytest.mark.parametrize("phase", ["prefill", "decode"])
def test_family_runs_cascade_or_refuses_in_one_line(model, family, phase, configs):
    fam = get_family(family)
    if phase not in fam.phases:
        pytest.skip(f"{family} models {fam.phases}")
    w = workload(configs[model], phase, seq_len=16)
    cascade = cascade_of(w)
    if model == "gemma2":
        assert any(s.ops.get("tanh") for s in cascade.stats)  # the soft-caps are in the cascade
    refused = REFUSED[model]
    try:
        if fam.check is not None:
            fam.check(w, {})
        result = fam.result(Point(family, fam.default_mapping, w, {}))
    except SpecError as err:
        assert family in refused, f"{family} refused the {model} cascade: {err}"
        assert refused[family] in str(err) and "\n" not in str(err)
        return
    assert family not in refused, f"{family} ran the {model} cascade it should refuse"
    result.check_covers(cascade)
    rows = result.rows.set_index("einsum")
    assert list(rows.index) == [e.name for e in cascade.einsums]
    assert rows["macs"].sum() == sum(s.macs for s in cascade.stats)
    EXTRA[model](cascade, rows)


def test_cli_exit_2_names_the_refusal(configs, capsys):
    from experiments.cli import main

    code = main(["run", "--family", "pim", "--model", configs["mixtral"], "--phase", "decode", "--layers", "1"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Mixture-of-Experts" in err

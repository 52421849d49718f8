"""Every hardware family on a small Mixtral (1 layer, 4 experts, top 2): it either runs the MoE
cascade with one row per Einsum and the cascade's MACs (`Result.check_covers`), k experts per
token, or refuses it with a one-line SpecError (exit 2), never a traceback or a wrong count."""
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
# What each family does with an MoE cascade (a refusal's expected words).
REFUSED = {"pim": "has Mixture-of-Experts MLPs (4 experts, top 2)"}


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    path = tmp_path_factory.mktemp("mixtral") / "config.json"
    path.write_text(json.dumps(MIXTRAL))
    return str(path)


def moe_macs_per_token(d=32, experts=4, k=2, width=24):
    return d * experts + 3 * k * d * width  # router + k SwiGLU experts


@pytest.mark.parametrize("family", names())
@pytest.mark.parametrize("phase", ["prefill", "decode"])
def test_family_runs_moe_cascade_or_refuses_in_one_line(family, phase, config):
    fam = get_family(family)
    if phase not in fam.phases:
        pytest.skip(f"{family} models {fam.phases}")
    w = workload(config, phase, seq_len=16)
    cascade = cascade_of(w)
    try:
        result = fam.result(Point(family, fam.default_mapping, w, {}))
    except SpecError as err:
        assert family in REFUSED, f"{family} refused an MoE cascade: {err}"
        assert REFUSED[family] in str(err) and "\n" not in str(err)
        return
    assert family not in REFUSED, f"{family} ran an MoE cascade it should refuse"
    result.check_covers(cascade)
    rows = result.rows.set_index("einsum")
    tokens = cascade.meta["batch"] * cascade.meta["queries"]
    moe = [e.name for e in cascade.einsums if e.group == "moe"]
    assert rows.loc[moe, "macs"].sum() == tokens * moe_macs_per_token()
    assert rows.loc["L0.EO", "macs"] == tokens * 2 * 24 * 32  # k = 2 experts of the 4


def test_cli_exit_2_names_the_refusal(config, capsys):
    from experiments.cli import main

    code = main(["run", "--family", "pim", "--model", config, "--phase", "decode", "--layers", "1"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Mixture-of-Experts" in err

"""The `pim` family honours every workload key or refuses it in one line naming the key, the value
and what is allowed (`check`, run before any worker starts; the CLI exits 2)."""
import pytest

from experiments.cli import main
from experiments.families import cascade_of, get_family
from experiments.schema import Workloads
from experiments.space import Point
from workloads.errors import SpecError

FAMILY = get_family("pim")


def _workload(**kw) -> dict:
    base = {"models": ["gpt2"], "phases": ["decode"], "seq_len": [64], "layers": 1}
    return Workloads(**{**base, **kw}).combos()[0]


def _result(w, params=None):
    return FAMILY.result(Point("pim", "pim-gpt", w, params or {}))


def test_declares_its_phases_and_fidelity():
    assert FAMILY.phases == ("decode",) and "cycle-level" in FAMILY.fidelity
    assert FAMILY.map is not None and FAMILY.simulate is not None


@pytest.mark.parametrize("kw, params, key", [
    ({"phases": ["prefill"]}, {}, "phase: 'prefill'"),
    ({"models": ["bert-base"]}, {}, "model: 'bert-base'"),
    ({"attention": "2pass"}, {}, "attention: '2pass'"),
    ({"attention": "1pass"}, {}, "attention: '1pass'"),
    ({"weight_dtype": "int8"}, {}, "weight_dtype: 'int8'"),
    ({"activation_dtype": "fp32"}, {}, "activation_dtype: 'fp32'"),
    ({"kv_dtype": "fp8"}, {}, "kv_dtype: 'fp8'"),
    ({"seq_len": [1]}, {}, "seq_len: 1"),
    ({"kv_len": 0}, {}, "kv_len: 0"),
    ({}, {"tokens": 65}, "tokens: 65"),
])
def test_refused_in_one_line_naming_the_key(kw, params, key):
    with pytest.raises(SpecError) as err:
        FAMILY.check(_workload(**kw), params)
    msg = str(err.value)
    assert msg.startswith(key) and "allowed" in msg and "\n" not in msg


def test_bf16_is_honoured_like_fp16():
    fp16, bf16 = _result(_workload()), _result(_workload(weight_dtype="bf16", kv_dtype="bf16"))
    assert bf16.latency_s == fp16.latency_s and bf16.energy_j == fp16.energy_j


def test_batch_runs_one_stream_per_sequence():
    one, two = _result(_workload()), _result(_workload(batch=[2]))
    two.check_covers(cascade_of(_workload(batch=[2])))
    assert two.tokens == 2 and two.macs == 2 * one.macs
    assert 1.5 * one.latency_s < two.latency_s < 2.5 * one.latency_s


def test_lm_head_and_kv_len_come_from_the_workload():
    full, none = _result(_workload()), _result(_workload(lm_head="none"))
    assert "LOGITS" in set(full.rows["einsum"]) and "LOGITS" not in set(none.rows["einsum"])
    assert none.latency_s < full.latency_s
    short, long = _result(_workload(kv_len=10)), _result(_workload(kv_len=500))
    assert short.latency_s < long.latency_s


@pytest.mark.parametrize("model, layers", [("gpt2", None), ("gpt2-xl", 2), ("gpt3-760m", 1), ("opt-1.3b", 1),
                                           ("llama-2-7b", 1), ("llama-3-8b", 1), ("phi-2", 1)])
def test_zoo_decoders_are_covered(model, layers):
    w = _workload(models=[model], layers=layers)
    FAMILY.check(w, {})
    _result(w).check_covers(cascade_of(w))


def test_tokens_decodes_from_the_given_cache_length():
    w = _workload(seq_len=[16])
    one, all16 = _result(w), _result(w, {"tokens": 16})
    assert all16.tokens == 16
    # token 16 of the decode is the one-token point; the first 15 attend over shorter caches
    assert one.latency_s < all16.latency_s < 16 * one.latency_s


def test_cli_refuses_with_exit_2(capsys):
    assert main(["run", "--family", "pim", "--model", "gpt2", "--phase", "decode", "--layers", "1",
                 "--attention", "2pass"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "attention: '2pass'" in err

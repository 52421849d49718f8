"""`einspace attention` prints the searched tiling's traffic, bound and ratio."""
from __future__ import annotations

import json

from click.testing import CliRunner

from experiments.cli.attention import attention


def test_attn_cli_json():
    out = CliRunner().invoke(attention, ["--seq-len", "8192", "--head-dim", "64",
                                         "--buffer-kib", "256", "--format", "json"])
    assert out.exit_code == 0, out.output
    row = json.loads(out.output)
    assert row["design"] == "flashattention2"
    assert row["total_bytes"] == sum(row["read_bytes"].values()) + sum(row["write_bytes"].values())
    assert row["ratio_to_lower_bound"] >= 1.0
    assert row["footprint_bytes"] <= 256 * 1024


def test_attn_cli_text_and_bad_buffer():
    runner = CliRunner()
    out = runner.invoke(attention, ["--seq-len", "2048", "--buffer-kib", "512", "--design",
                                    "fusemax", "--causal"])
    assert out.exit_code == 0, out.output
    assert "lower bound" in out.output and "ratio" in out.output
    bad = runner.invoke(attention, ["--seq-len", "2048", "--buffer-kib", "1"])
    assert bad.exit_code != 0

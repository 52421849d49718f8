"""The `einspace` entry point: models, lower, and one-line errors with exit code 2."""
import json
import subprocess
import sys

import pytest

from experiments.cli import main


def run(*args):
    return subprocess.run([sys.executable, "-m", "experiments.cli", *args], capture_output=True, text=True)


def test_models_lists_presets(capsys):
    assert main(["models", "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"gpt2-xl", "llama-2-7b"} <= {r["name"] for r in rows}


def test_lower_json_is_machine_readable(capsys):
    assert main(["lower", "gpt2-xl", "--phase", "decode", "--seq-len", "1024", "--layers", "2", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["meta"]["kv_len"] == 1023 and doc["meta"]["seq_len"] == 1024
    assert {"name", "macs", "ops", "bytes_read", "bytes_written", "intensity"} <= set(doc["einsums"][0])


def test_lower_llama_prefill_4096_text(capsys):
    assert main(["lower", "llama-2-7b", "--phase", "prefill", "--seq-len", "4096", "--layers", "1"]) == 0
    assert "L0.QK" in capsys.readouterr().out


@pytest.mark.parametrize("args,needle", [
    (["lower", "gpt5"], "unknown model 'gpt5'"),
    (["lower", "gpt2", "--phase", "train"], "'--phase'"),
    (["lower", "gpt2", "--seq-len", "zero"], "'--seq-len'"),
    (["lower", "gpt2", "--seq-len", "0"], "'--seq-len'"),
    (["lower", "bert-base", "--phase", "decode"], "needs a decoder"),
    (["lower", "gpt2", "--seq-len", "4096"], "1024 learned positions"),
])
def test_user_errors_are_one_line_exit_2(args, needle):
    proc = run(*args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in proc.stderr

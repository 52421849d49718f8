"""The CLI's error path: user mistakes exit 2, I/O failures exit 1, internal errors one line
(traceback only with --debug)."""
from __future__ import annotations

import pytest

from experiments.cli import main
from experiments.cli import run as run_cli


def test_a_full_device_is_one_line_exit_1(tmp_path, capsys):
    assert main(["lower", "gpt2", "--phase", "decode", "--seq-len", "8", "--layers", "1"]) == 0
    capsys.readouterr()
    f = tmp_path / "e.yaml"
    f.write_text("workloads: {models: [gpt2], phases: [decode], seq_len: [8], layers: 1}\nfamily: roofline\n"
                 "sweep: {pes: [64]}\nobjectives: {latency_s: min}\n")
    assert main(["sweep", str(f), "--runs-dir", "/dev/full/runs", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("einspace: I/O error") and err.count("\n") == 1


def test_an_internal_error_is_one_line_unless_debug(monkeypatch, capsys):
    def boom(*args, **kwargs):
        raise ZeroDivisionError("division by zero\nsecond line")

    monkeypatch.setattr(run_cli, "evaluate_chunk", boom)
    args = ["run", "--family", "roofline", "--model", "gpt2", "--seq-len", "8", "--layers", "1"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err == ("einspace: internal error: ZeroDivisionError: division by zero (rerun with einspace --debug "
                   "for the traceback)\n")
    with pytest.raises(ZeroDivisionError):
        main(["--debug", *args])


@pytest.mark.parametrize("args, message", [(["--jobs", "100000"], "more local workers than this machine's"),
                                           (["--jobs", "100000", "--force-jobs"], "at most 256")])
def test_jobs_are_bounded_before_any_worker_starts(tmp_path, capsys, args, message):
    f = tmp_path / "e.yaml"
    f.write_text("workloads: {models: [gpt2]}\nfamily: roofline\nsweep: {pes: [64]}\nobjectives: {latency_s: min}\n")
    assert main(["sweep", str(f), "--runs-dir", str(tmp_path / "runs"), "--quiet", *args]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_pim_tokens_past_the_models_context_are_refused(capsys):
    assert main(["pim", "--model", "llama-2-7b", "--tokens", "100000"]) == 2
    assert "--tokens 100000: llama-2-7b attends over at most 4096 positions" in capsys.readouterr().err

"""The bad-input suite: hostile or malformed inputs across the commands, each answered by exit 2
(a user mistake) or exit 1 (an I/O failure) with exactly one error line, last on stderr (a
progress line such as "simulating …" may precede it), never a traceback,
within 10 s, and without changing any file outside the run folder.

Named cases follow the classes of docs/limits.md; generated cases mutate a valid experiment file
and a valid `einspace run` command line (hypothesis, seeded). `OUTCOMES` counts them by exit code.
"""
from __future__ import annotations

import contextlib
import io
import signal
import textwrap
from collections import Counter
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from experiments.cli import main

VALID = {"workloads": {"models": ["gpt2"], "phases": ["decode"], "seq_len": [32], "layers": 1},
         "family": "roofline", "sweep": {"pes": [64]}, "objectives": {"latency_s": "min"}}
OUTCOMES: Counter = Counter()
TIME_LIMIT_S = 10


class Hang(BaseException):
    pass


def _alarm(signum, frame):
    raise Hang()


def invoke(args: list[str]) -> tuple[int, str]:
    """Run the CLI in process with a time limit; return (exit code, stderr)."""
    err, out = io.StringIO(), io.StringIO()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIME_LIMIT_S)
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            rc = main(args)
    except Hang:
        pytest.fail(f"einspace {' '.join(args)[:200]} ran past {TIME_LIMIT_S} s")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    return rc, err.getvalue()


def snapshot(root: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in root.rglob("*") if p.is_file()}


def expect_refusal(args: list[str], tmp: Path, allowed=(2,), run_root: Path | None = None) -> str:
    """Assert one clean line with an allowed exit code and no write outside `run_root`."""
    before = snapshot(tmp)
    rc, err = invoke(args)
    OUTCOMES[rc] += 1
    assert rc in allowed, (rc, err, args)
    lines = [line for line in err.splitlines() if line.startswith("einspace: ")]
    assert len(lines) == 1 and err.rstrip().endswith(lines[0]), (err, args)
    assert "Traceback" not in err and "internal error" not in err, err
    changed = {p for p, t in snapshot(tmp).items() if before.get(p) != t}
    outside = {p for p in changed if run_root is None or not p.startswith(str(run_root))}
    assert not outside, f"{args}: wrote outside the run folder: {sorted(outside)[:3]}"
    return lines[0]


def write(tmp: Path, name: str, text: str | bytes) -> Path:
    path = tmp / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def experiment(tmp: Path, doc) -> Path:
    return write(tmp, "e.yaml", yaml.safe_dump(doc) if not isinstance(doc, str) else doc)


NESTED = "a: " + "[" * 5000 + "]" * 5000 + "\n"
SWEEP_CASES = {
    "garbage bytes": b"\x00\xff\xfe garbage \x89PNG\r\n",
    "deeply nested YAML": NESTED,
    "not a mapping": "- 1\n- 2\n",
    "empty file": "",
    "YAML syntax error": "workloads: {models: [gpt2\n",
    "unknown key": yaml.safe_dump({**VALID, "bogus": 1}),
    "unknown family": yaml.safe_dump({**VALID, "family": "tpu"}),
    "unknown model": yaml.safe_dump({**VALID, "workloads": {"models": ["gpt9"]}}),
    "negative seq_len": yaml.safe_dump({**VALID, "workloads": {"models": ["gpt2"], "seq_len": [-5]}}),
    "batch 1e12": yaml.safe_dump({**VALID, "workloads": {"models": ["gpt2"], "batch": [10**12]}}),
    "layers 1000": yaml.safe_dump({**VALID, "workloads": {"models": ["gpt2"], "layers": 1000}}),
    "seq past positions": yaml.safe_dump({**VALID, "workloads": {"models": ["gpt2"], "seq_len": [5000]}}),
    "grid of 1e9 points": yaml.safe_dump({**VALID, "sweep": {"pes": {"range": [1, 10**9, 1]}}}),
    "grid product past the bound": yaml.safe_dump({**VALID, "sweep": {"pes": {"range": [1, 90000, 1]},
                                                                      "buffer_mib": list(range(1, 30))}}),
    "name with ../": yaml.safe_dump({**VALID, "name": "../../escape"}),
    "absolute name": yaml.safe_dump({**VALID, "name": "/tmp/escape"}),
    "bad parameter type": yaml.safe_dump({**VALID, "sweep": {"pes": ["many"]}}),
    "negative parameter": yaml.safe_dump({**VALID, "sweep": {"pes": [-1]}}),
    "unknown parameter": yaml.safe_dump({**VALID, "sweep": {"warp": [1]}}),
    "unknown objective": yaml.safe_dump({**VALID, "objectives": {"speed": "min"}}),
    "unknown reproduction": yaml.safe_dump({**VALID, "reproduce": "nope"}),
    "phase the family lacks": yaml.safe_dump({**VALID, "family": "pim", "sweep": {"channels": [8]},
                                              "workloads": {"models": ["gpt2"], "phases": ["prefill"]}}),
}


@pytest.mark.parametrize("case", list(SWEEP_CASES))
def test_bad_experiment_files(case, tmp_path):
    f = write(tmp_path, "e.yaml", SWEEP_CASES[case])
    expect_refusal(["sweep", str(f), "--runs-dir", str(tmp_path / "runs"), "--quiet"], tmp_path)


SWEEP_OPTIONS = {
    "run ../": ["--run", "../x"], "run .": ["--run", "."], "run absolute": ["--run", "/tmp/x"],
    "run with slash": ["--run", "a/b"], "jobs 100000": ["--jobs", "100000"], "jobs 0": ["--jobs", "0"],
    "forced jobs past 256": ["--jobs", "100000", "--force-jobs"], "resume missing": ["--resume", "nope"],
    "resume and run differ": ["--resume", "a", "--run", "b"], "unknown engine": ["--engine", "mpi"],
    "chunk size 0": ["--chunk-size", "0"], "local with address": ["--address", "tcp://x:1"],
}


@pytest.mark.parametrize("case", list(SWEEP_OPTIONS))
def test_bad_sweep_options(case, tmp_path):
    f = experiment(tmp_path, VALID)
    expect_refusal(["sweep", str(f), "--runs-dir", str(tmp_path / "runs"), "--quiet", *SWEEP_OPTIONS[case]],
                   tmp_path)


def test_output_folders_that_cannot_be_written(tmp_path):
    f = experiment(tmp_path, VALID)
    expect_refusal(["sweep", str(f), "--runs-dir", "/dev/full/runs", "--quiet"], tmp_path, allowed=(1,))
    write(tmp_path, "afile", "x")
    expect_refusal(["sweep", str(f), "--runs-dir", str(tmp_path / "afile"), "--quiet"], tmp_path, allowed=(1, 2))
    expect_refusal(["sweep", str(tmp_path / "missing.yaml"), "--runs-dir", str(tmp_path / "r"), "--quiet"],
                   tmp_path)


@pytest.fixture
def finished_run(tmp_path):
    f = experiment(tmp_path, {**VALID, "sweep": {"pes": [64, 128]}})
    runs = tmp_path / "runs"
    assert invoke(["sweep", str(f), "--runs-dir", str(runs), "--run", "r", "--quiet"])[0] == 0
    return runs / "r"


@pytest.mark.parametrize("damage", ["truncate point", "garbage point", "empty manifest", "manifest not JSON",
                                    "manifest keys missing", "missing experiment"])
def test_damaged_run_folders(damage, finished_run, tmp_path):
    point = sorted((finished_run / "points").iterdir())[0]
    if damage == "truncate point":
        point.write_bytes(point.read_bytes()[:40])
    elif damage == "garbage point":
        point.write_bytes(b"PAR1" + b"\x00" * 100)
    elif damage == "empty manifest":
        (finished_run / "manifest.json").write_text("")
    elif damage == "manifest not JSON":
        (finished_run / "manifest.json").write_text("{")
    elif damage == "manifest keys missing":
        (finished_run / "manifest.json").write_text("{}")
    else:
        (finished_run / "experiment.yaml").unlink()
    expect_refusal(["results", "r", "--runs-dir", str(finished_run.parent)], tmp_path, allowed=(1, 2))


RUN_CASES = {
    "unknown family": ["--family", "tpu", "--model", "gpt2"],
    "unknown model": ["--family", "roofline", "--model", "gpt9"],
    "config path missing": ["--family", "roofline", "--model", "/nonexistent/config.json"],
    "batch 1e12": ["--family", "roofline", "--model", "gpt2", "--batch", str(10**12)],
    "batch 0": ["--family", "roofline", "--model", "gpt2", "--batch", "0"],
    "seq_len past positions": ["--family", "roofline", "--model", "gpt2", "--seq-len", "5000"],
    "layers 1000": ["--family", "roofline", "--model", "gpt2", "--layers", "1000"],
    "kv_len negative": ["--family", "roofline", "--model", "gpt2", "--phase", "decode", "--kv-len", "-3"],
    "decode on an encoder": ["--family", "roofline", "--model", "bert-base", "--phase", "decode"],
    "pim prefill": ["--family", "pim", "--model", "gpt2", "--phase", "prefill"],
    "pim 2-pass softmax": ["--family", "pim", "--model", "gpt2", "--phase", "decode", "--attention", "2pass"],
    "param not KEY=VALUE": ["--family", "roofline", "--model", "gpt2", "-p", "pes"],
    "unknown param": ["--family", "roofline", "--model", "gpt2", "-p", "warp=9"],
    "negative clock": ["--family", "roofline", "--model", "gpt2", "-p", "clock_mhz=-50"],
    "pes a string": ["--family", "roofline", "--model", "gpt2", "-p", "pes=many"],
    "preset plus build": ["--family", "roofline", "--model", "gpt2", "-p", "preset=v100", "-p", "pes=8"],
    "unknown mapping": ["--family", "attention", "--model", "gpt2", "--mapping", "tpu"],
    "attention paper decode": ["--family", "attention", "--model", "gpt2", "--phase", "decode", "-p", "mode=paper"],
    "unknown accel": ["--family", "bitserial", "--model", "gpt2", "-p", "accel=tpu"],
    "weight bits 0": ["--family", "bitserial", "--model", "gpt2", "-p", "weight_bits=0"],
    "pim tokens past cache": ["--family", "pim", "--model", "gpt2", "--phase", "decode", "--seq-len", "64",
                              "-p", "tokens=100000"],
    "unknown dtype": ["--family", "roofline", "--model", "gpt2", "--weight-dtype", "fp7"],
}


@pytest.mark.parametrize("case", list(RUN_CASES))
def test_bad_run_points(case, tmp_path):
    expect_refusal(["run", *RUN_CASES[case]], tmp_path)


def trace_lines(tmp: Path, name: str, text: str) -> Path:
    return write(tmp, name, text)


DRAM_CASES = {
    "requests 1e9": lambda t: ["--synthetic", "stream", "--requests", str(10**9)],
    "negative requests": lambda t: ["--synthetic", "stream", "--requests", "-1"],
    "dev zero trace": lambda t: ["--trace", "/dev/zero"],
    "missing trace": lambda t: ["--trace", str(t / "none.trace")],
    "binary trace": lambda t: ["--trace", str(write(t, "b.trace", b"\xff\xfe\x00\x81"))],
    "cycles backwards": lambda t: ["--trace", str(write(t, "c.trace", "0x40 R 10\n0x80 R 3\n"))],
    "address past device": lambda t: ["--trace", str(write(t, "a.trace", "0xffffffffffffff R\n"))],
    "past max requests": lambda t: ["--trace", str(write(t, "m.trace", "0 R\n64 R\n128 R\n")),
                                    "--max-requests", "2"],
    "bad operation": lambda t: ["--trace", str(write(t, "o.trace", "0x40 FETCH\n"))],
    "negative address": lambda t: ["--trace", str(write(t, "n.trace", "-64 R\n"))],
    "both trace and pattern": lambda t: ["--trace", "/dev/null", "--synthetic", "stream"],
    "neither": lambda t: [],
    "unknown pattern": lambda t: ["--synthetic", "zigzag"],
    "write fraction 2": lambda t: ["--synthetic", "stream", "--write-fraction", "2"],
    "unknown engine": lambda t: ["--synthetic", "stream", "--engine", "warp"],
    "unknown mapping": lambda t: ["--synthetic", "stream", "--mapping", "XxYy"],
    "zero stride": lambda t: ["--synthetic", "strided", "--stride", "0"],
}


@pytest.mark.parametrize("case", list(DRAM_CASES))
def test_bad_dram_inputs(case, tmp_path):
    expect_refusal(["dram", "--standard", "DDR4-3200", *DRAM_CASES[case](tmp_path)], tmp_path)


@pytest.mark.parametrize("args", [["dram", "--standard", "DDR9"], ["pim", "--model", "llama-2-7b", "--tokens", "100000"],
                                  ["pim", "--model", "gpt2", "--tokens", "0"], ["lower", "gpt9"],
                                  ["lower", "gpt2", "--layers", "1000"], ["lower", "gpt2", "--batch", str(10**12)],
                                  ["lower", "gpt2", "--seq-len", "0"], ["report", "nope", "--runs-dir", "/nonexistent"],
                                  ["results", "../etc", "--runs-dir", "/tmp"], ["models", "/nonexistent/config.json"],
                                  ["bitserial", "--model", "gpt9"], ["attention", "--seq-len", "-1"],
                                  ["nosuchcommand"], ["run"], ["sweep"]])
def test_bad_inputs_to_other_commands(args, tmp_path):
    expect_refusal(args, tmp_path)


scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**15, 10**15), st.floats(allow_nan=True),
                    st.text(max_size=12), st.just("../../x"), st.just([]), st.just({}))
KEY_PATHS = [("workloads", "models"), ("workloads", "phases"), ("workloads", "seq_len"), ("workloads", "batch"),
             ("workloads", "layers"), ("workloads", "kv_len"), ("workloads", "attention"), ("sweep", "pes"),
             ("objectives", "latency_s"), ("family",), ("name",), ("search", "method"), ("search", "budget"),
             ("workloads", "weight_dtype"), ("constraints", "area_mm2"), ("fixed", "clock_mhz")]


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(mutations=st.lists(st.tuples(st.sampled_from(KEY_PATHS), scalars), min_size=1, max_size=3))
def test_generated_experiment_files(mutations, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gen")
    doc = yaml.safe_load(yaml.safe_dump(VALID))
    for path, value in mutations:
        node = doc
        for key in path[:-1]:
            node = node.setdefault(key, {}) if isinstance(node.get(key, {}), dict) else {}
        node[path[-1]] = value
    f = experiment(tmp, doc)
    runs = tmp / "runs"
    before = snapshot(tmp)
    rc, err = invoke(["sweep", str(f), "--runs-dir", str(runs), "--quiet"])
    OUTCOMES[rc] += 1
    assert rc in (0, 2), (rc, err, doc)
    if rc == 2:
        assert err.count("einspace: ") == 1 and "Traceback" not in err, err
    changed = {p for p, t in snapshot(tmp).items() if before.get(p) != t}
    assert all(p.startswith(str(runs)) for p in changed), changed


RUN_OPTIONS = st.sampled_from(["--seq-len", "--batch", "--kv-len", "--layers"])
FAMILY_PARAMS = {"roofline": ["pes", "clock_mhz", "buffer_mib", "dram_bandwidth_gb_per_s", "node_nm", "dtype"],
                 "pim": ["channels", "asic_clock_mhz", "asic_lanes", "tokens"],
                 "bitserial": ["rows", "cols", "lanes", "buffer_kib", "weight_bits", "mode", "accel"],
                 "attention": ["array_rows", "array_cols", "width_1d", "buffer_kib", "clock_mhz", "mode"]}
values = st.one_of(st.integers(-10**13, 10**13), st.floats(-1e6, 1e6, allow_nan=False), st.just("nan"),
                   st.text(alphabet="abcxyz-_./", max_size=6), st.just(""))


@settings(max_examples=60, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(family=st.sampled_from(list(FAMILY_PARAMS)), option=RUN_OPTIONS,
       option_value=st.integers(-10**13, 10**13), data=st.data())
def test_generated_run_command_lines(family, option, option_value, data):
    key = data.draw(st.sampled_from(FAMILY_PARAMS[family]))
    value = data.draw(values)
    args = ["run", "--family", family, "--model", "gpt2", "--phase", "decode", "--layers", "1",
            option, str(option_value), "-p", f"{key}={value}"]
    rc, err = invoke(args)
    OUTCOMES[rc] += 1
    assert rc in (0, 2), (rc, err, args)
    if rc == 2:
        assert err.count("einspace: ") == 1 and "Traceback" not in err, (err, args)


@pytest.mark.parametrize("args", [["rtl", "synth", "pe", "--target", "ecp5", "--freq", "-50"],
                                  ["rtl", "synth", "pe", "--target", "ecp5", "--seeds", "0"],
                                  ["rtl", "synth", "nope", "--target", "ecp5"],
                                  ["rtl", "sim", "pe", "--vectors", "-1"]])
def test_bad_rtl_inputs(args, tmp_path):
    expect_refusal(args, tmp_path)


def test_zz_report_outcomes(capsys):
    """Prints the outcome counts of the cases above (run in one process, after them)."""
    with capsys.disabled():
        print(textwrap.dedent(f"\nbad-input outcomes by exit code: {dict(sorted(OUTCOMES.items()))}"))

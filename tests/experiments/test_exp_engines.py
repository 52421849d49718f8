"""dask.distributed and ray run the same sweep as the local pool, with identical results."""
from __future__ import annotations

import importlib.util
import textwrap

import pandas as pd
import pytest

from experiments.cli import main
from experiments.engines import make_engine
from experiments.runner import run_sweep
from experiments.store import RunStore
from workloads.errors import SpecError

EXP = textwrap.dedent("""\
    workloads: {models: [gpt2], phases: [decode], seq_len: [16], layers: 1, lm_head: none}
    family: roofline
    sweep:
      pes: [64, 256, 1024]
      buffer_mib: [0.0625, 0.5]
      dram_bandwidth_gb_per_s: [25.6, 102.4]
    objectives: {latency_s: min, area_mm2: min}
    """)


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("eng")
    (d / "e.yaml").write_text(EXP)
    run_sweep(d / "e.yaml", jobs=1, run="local", runs_dir=d, progress=False)
    return d


@pytest.mark.parametrize("engine,module", [
    ("dask", "distributed"),
    pytest.param("ray", "ray", marks=pytest.mark.slow),  # ray's start-up alone is ~15 s on 2 cores
])
def test_distributed_engine_matches_local(local_run, engine, module):
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} not installed (optional extra: pip install -e '.[dist]')")
    d = local_run
    info = run_sweep(d / "e.yaml", jobs=2, engine=engine, run=engine, runs_dir=d, progress=False)
    assert info.computed == 12
    pd.testing.assert_frame_equal(RunStore(d / "local").points(), RunStore(d / engine).points())
    pd.testing.assert_frame_equal(RunStore(d / "local").einsums(), RunStore(d / engine).einsums())


def test_missing_extra_is_one_line(monkeypatch, local_run, capsys):
    import builtins

    real = builtins.__import__

    def fake(name, *a, **k):
        if name.startswith(("dask", "ray")):
            raise ImportError(name)
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(SpecError, match=r"pip install -e '\.\[dist\]'"):
        make_engine("dask", 1)
    with pytest.raises(SpecError, match=r"pip install -e '\.\[dist\]'"):
        make_engine("ray", 1)
    assert main(["sweep", str(local_run / "e.yaml"), "--engine", "dask", "--run", "x",
                 "--runs-dir", str(local_run), "--quiet"]) == 2
    assert "needs dask.distributed" in capsys.readouterr().err

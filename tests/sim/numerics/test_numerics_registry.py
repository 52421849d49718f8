"""The datatype registry: the built-in schemes keep the study's order and datatypes, and the
worked example of docs/numerics.md ("Adding a datatype"), dropped in as one new file of
`sim/numerics/schemes/`, is found by the study, the term decomposition and name look-up."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pytest

import sim.numerics.schemes as schemes_pkg
from sim.numerics import registry
from sim.numerics.bitmod import FP3_EA_POS, FP4_ER_POS
from sim.numerics.datatype import TableDatatype
from sim.numerics.integer import int_format
from sim.numerics.registry import Scheme, register
from sim.numerics.study import SCHEMES, quantize_scheme, run_study
from sim.numerics.terms import term_cycles, unified_terms
from workloads.errors import SpecError

DOC = Path(__file__).resolve().parents[3] / "docs" / "numerics.md"


def test_builtin_schemes_keep_the_study_order():
    assert SCHEMES == ("bitmod", "int-asym", "fp", "mxfp", "ant", "olive", "int-sym")
    assert registry.scheme("mxfp").block_size == 32 and registry.scheme("ant").choice == "tensor"


def test_datatypes_by_name_are_the_modules_constants():
    assert registry.datatype("fp4_er_pos") is FP4_ER_POS
    assert registry.datatype("int6").values().tolist() == int_format(6).values().tolist()
    assert term_cycles("fp3_ea_pos") == term_cycles(FP3_EA_POS) == 2 and term_cycles("int6") == 3
    assert unified_terms("fp4_er_pos", 8) == unified_terms(FP4_ER_POS, 8)
    with pytest.raises(SpecError, match="unknown datatype"):
        registry.datatype("nf4")


def test_a_taken_datatype_name_with_other_values_is_refused():
    clash = TableDatatype("fp4_er_pos", 2, (0.0, 1.0, 2.0, 3.0))
    with pytest.raises(SpecError, match="registered twice"):
        register(Scheme("clash", lambda w, b, s: None, bits=(2,), source="-", datatypes=(clash,)))
    assert "clash" not in registry.SCHEMES


@pytest.fixture
def nf4_file(tmp_path, monkeypatch):
    """The docs' worked example as a new module of the schemes package (a folder added to its path)."""
    code = re.search(r"## Adding a datatype.*?```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    (tmp_path / "nf4.py").write_text(code)
    monkeypatch.setattr(schemes_pkg, "__path__", [*schemes_pkg.__path__, str(tmp_path)])
    yield
    registry.unregister("nf4")
    sys.modules.pop("sim.numerics.schemes.nf4", None)


def test_the_docs_example_is_one_file_the_study_and_terms_find(nf4_file):
    registry.load()
    assert registry.names()[-1] == "nf4"
    nf4 = registry.datatype("nf4")
    assert nf4.values()[0] == -1.0 and nf4.values()[-1] == 1.0 and len(nf4.values()) == 16
    w = np.random.default_rng(0).standard_normal((8, 256))
    q = quantize_scheme(w, "nf4", 4)
    grid = q.dequantized.reshape(8, 2, 128) / q.scales[..., None]
    assert np.all(np.isin(np.round(grid, 12), np.round(nf4.values(), 12)))
    table = run_study({"w": w}, ("nf4", "int-sym"), (4,)).set_index("scheme")
    assert table.loc["nf4", "nmse"] < table.loc["int-sym", "nmse"]  # a Gaussian-fitted grid beats uniform INT4
    assert term_cycles("nf4") > 2
    with pytest.raises(SpecError, match="bits must be one of 4"):
        quantize_scheme(w, "nf4", 3)

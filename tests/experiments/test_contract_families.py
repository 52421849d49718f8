"""Cross-family invariants: for every zoo model and phase, each family either runs — and then its
Result has one row per Einsum with the cascade's MACs — or refuses with one line (exit 2 from the
CLI). docs/families.md holds the matrix as it is."""
from __future__ import annotations

from pathlib import Path

import pytest

from experiments.cli import main
from experiments.families import get_family, names
from experiments.support import markdown, support_matrix

DOC = Path(__file__).resolve().parents[2] / "docs" / "families.md"


@pytest.fixture(scope="module")
def matrix():
    return support_matrix()


@pytest.mark.parametrize("family", names())
def test_every_point_runs_with_the_cascades_macs_or_is_refused_in_one_line(family, matrix):
    mine = [s for s in matrix if s.family == family]
    assert any(s.runs for s in mine)
    for s in mine:
        assert s.runs or (s.reason and "\n" not in s.reason), s


@pytest.mark.parametrize("family", names())
def test_every_family_is_on_the_contract(family):
    fam = get_family(family)
    assert fam.map is not None and fam.simulate is not None and fam.arch is not None


def test_a_refused_point_exits_2_with_one_line(capsys):
    assert main(["run", "--family", "pim", "--model", "gpt2", "--phase", "prefill"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pim" in err


def test_the_docs_matrix_is_current(matrix):
    table = markdown(matrix)
    assert table in DOC.read_text(), "docs/families.md is stale: regenerate with python -m experiments.support"

"""Cascade validation names the offending Einsum and rank; the IR's index parser and renderings."""
import json

import numpy as np
import pytest

from workloads import SpecError, lower
from workloads.ir import Affine, CascadeBuilder
from workloads.render import to_dot, to_json, to_text


def builder():
    b = CascadeBuilder("t")
    b.rank("M", 4)
    b.rank("K", 3)
    b.rank("N", 2)
    b.tensor("A", "M,K", role="input")
    b.tensor("W", "K,N", role="weight")
    return b


def test_matmul_evaluates():
    b = builder()
    b.einsum("Z", "Z[M,N] = A[M,K] * W[K,N]")
    b.output("Z")
    c = b.build()
    a, w = np.arange(12.0).reshape(4, 3), np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(c.evaluate({"A": a, "W": w})["Z"], a @ w)
    assert c.stats[0].macs == 4 * 3 * 2


def test_rank_size_mismatch_names_einsum_and_rank():
    b = builder()
    b.rank("X", 5)
    b.tensor("Bad", "X,N", role="weight")
    b.einsum("Z", "Z[M,N] = A[M,K] * Bad[K,N]")
    with pytest.raises(SpecError, match=r"Einsum Z: rank K has size 3 but tensor Bad has size 5 in rank X"):
        b.build()


def test_missing_reduce_operator_named():
    b = builder()
    b.einsum("Z", "Z[M] = A[M,K]")
    with pytest.raises(SpecError, match=r"Einsum Z: rank K is absent from the output"):
        b.build()


def test_out_of_range_index_named():
    b = builder()
    b.einsum("Z", "Z[M,K] = A[M,K+1]")
    with pytest.raises(SpecError, match=r"Einsum Z: index K\+1 of A spans 1\.\.3, outside rank K"):
        b.build()


def test_unknown_rank_named():
    b = builder()
    b.tensor("C", "M,K", role="input")
    from workloads.ir import parse_einsum
    b.einsums.append(parse_einsum("Z", "Z[M,Q] = A[M,Q]"))
    b.tensors["Z"] = b.tensors["C"]
    with pytest.raises(SpecError, match=r"Einsum Z: rank Q has no size"):
        b.build()


def test_cycle_without_iterative_rank_rejected():
    b = builder()
    b.tensor("X", "M,K")
    b.tensor("Y", "M,K")
    b.einsum("X", "X[M,K] = A[M,K] + Y[M,K]")
    b.einsum("Y", "Y[M,K] = X[M,K] + A[M,K]")
    with pytest.raises(SpecError, match="without an iterative rank"):
        b.build()


def test_tensor_written_twice_rejected():
    b = builder()
    b.einsum("Z", "Z[M,K] = A[M,K]")
    b.einsum("Z2", "Z[M,K] = A[M,K]")
    with pytest.raises(SpecError, match="already written by Z"):
        b.build()


def test_rank_partition_pads_non_dividing_sizes():
    b = CascadeBuilder("p")
    b.rank("M", 10)
    b.rank("M1", 3)
    b.rank("M0", 4)
    b.tensor("A", "M", role="input")
    b.einsum("BA", "BA[M1,M0] = A[M1*4+M0]", fills={"A": 0.0})
    b.output("BA")
    got = b.build().evaluate({"A": np.arange(1.0, 11.0)})["BA"]
    np.testing.assert_array_equal(got, [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 0, 0]])


@pytest.mark.parametrize("text,terms,const", [
    ("M1*64+M0", (("M0", 1), ("M1", 64)), 0),
    ("P+1023", (("P", 1),), 1023),
    ("32-E1*32+E0", (("E0", 1), ("E1", -32)), 32),
    ("7", (), 7),
])
def test_affine_parse(text, terms, const):
    a = Affine.parse(text)
    assert (a.terms, a.const) == (terms, const)


@pytest.mark.parametrize("bad", ["M*", "+", "M N", "M**2", "(M)"])
def test_affine_parse_rejects(bad):
    with pytest.raises(SpecError):
        Affine.parse(bad)


def test_renderings():
    c = lower("gpt2", "decode", seq_len=16, layers=1, attention="1pass", block=4)
    doc = json.loads(to_json(c))
    assert doc["totals"]["macs"] == sum(r["macs"] for r in doc["einsums"])
    assert len(doc["einsums"]) == len(c.einsums)
    text = to_text(c)
    assert "L0.QK" in text and "total" in text
    dot = to_dot(c)
    assert dot.startswith("digraph") and dot.count("[shape=box") == len(c.einsums)
    assert "style=dashed]" in dot  # loop-carried edges of the running max/sum


def test_table_is_built_once_and_handed_out_as_a_copy():
    from workloads import lower

    c = lower("gpt2", "decode", seq_len=8, layers=1)
    t = c.table()
    t.loc[0, "macs"] = -1
    assert c.table().loc[0, "macs"] != -1
    calls = []
    assert c.memoized("k", lambda: calls.append(1) or 7) == 7
    assert c.memoized("k", lambda: calls.append(1) or 8) == 7 and calls == [1]

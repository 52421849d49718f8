"""Placement rules on a lowered cascade with made-up cost tables (no family runs): roles, the
class defaults, vector Einsums following their producers, fusion groups kept whole, the search's
space and its count."""
import pandas as pd
import pytest

from mappers.system import PlacementRules, resolve, roles, search, search_space
from sim.contract import Result
from sim.system import LinkSpec, SystemSpec, UnitCosts, UnitSpec
from workloads import SpecError, lower


def cascade(phase="decode"):
    return lower("gpt2", phase, batch=1, seq_len=16, layers=1)


def costs_for(c, unit, family, runs, fused=None):
    """A unit that models the Einsums `runs(einsum)` accepts, each taking 1 s (fused ones share a group)."""
    rows = [{"einsum": e.name, "unit": "u", "macs": s.macs, "cycles": 1.0, "latency_s": 1.0 if runs(e) else 0.0,
             "energy_x_j": 1e-3 if runs(e) else 0.0, "modeled": bool(runs(e)),
             "fusion_group": (fused(e) if fused else "") or ""} for e, s in zip(c.einsums, c.stats)]
    return UnitCosts(unit, family, Result(family, pd.DataFrame(rows)))


def system(*units):
    specs = tuple(UnitSpec(name=n, family=f, memory_bytes=1e12, source="assumption: test") for n, f in units)
    links = tuple(LinkSpec(between=(n, "host"), bandwidth_bytes_per_s=1e9, latency_s=0.0, energy_pj_per_bit=1.0,
                           source="assumption: test") for n, _ in units if n != "host")
    return SystemSpec(name="t", units=specs, links=links, host="host", source="assumption: test")


def setup(c):
    r = roles(c)
    spec = system(("pe", "bitserial"), ("att", "attention"), ("host", "roofline"))
    costs = {"pe": costs_for(c, "pe", "bitserial", lambda e: r[e.name] == "matrix" or e.name.endswith(("QK", "AV"))),
             "att": costs_for(c, "att", "attention", lambda e: e.layer is not None,
                              fused=lambda e: f"L{e.layer}.attention" if e.group == "attention" else ""),
             "host": costs_for(c, "host", "roofline", lambda e: True)}
    return spec, costs


def test_roles():
    r = roles(cascade())
    assert r["L0.Q_mm"] == r["LOGITS"] == r["L0.1_mm"] == "matrix"
    assert r["L0.QK"] == r["L0.SN"] == "attention" and r["L0.Kcache"] == "kv_cache" and r["EMB.X"] == "gather"
    assert r["L0.Q"] == r["L0.N1.VAR"] == r["L0.X1"] == r["L0.HA"] == "vector"


def test_auto_defaults_and_vector_affinity():
    c = cascade()
    spec, costs = setup(c)
    p = resolve(c, costs, spec)
    assert p["L0.Q_mm"] == p["LOGITS"] == "pe"          # matrix: bit-serial first
    assert p["L0.QK"] == p["L0.SN"] == p["L0.AV"] == "att"  # attention: the attention array
    assert p["L0.Kcache"] == "att"                          # the append goes with its reader
    assert p["L0.Q"] == "host"                              # bias after a bit-serial GEMM: bitserial cannot
    assert p["L0.1"] == p["L0.HA"] == "host"                # its bias on the host, GELU follows it
    assert p["EMB.X"] == "host" and p["F.N.Y"] == "host"  # outside the layers only the host models it


def test_vector_einsums_prefer_the_accelerator_producer():
    """Without the bit-serial array the attention array runs the FCs; the residual X1 = X + O reads
    X from the host (embedding) and O from the array, equal sizes: it stays on the array."""
    c = cascade()
    spec, costs = setup(c)
    costs = {k: v for k, v in costs.items() if k != "pe"}
    spec = system(("att", "attention"), ("host", "roofline"))
    p = resolve(c, costs, spec)
    assert p["L0.Q_mm"] == p["L0.Q"] == p["L0.O"] == "att"
    assert p["EMB.XP"] == "host" and p["L0.X1"] == "att" and p["L0.N2.MU"] == "att"


def test_vector_policy_host():
    c = cascade()
    spec, costs = setup(c)
    p = resolve(c, costs, spec, PlacementRules(vector="host"))
    assert p["L0.HA"] == p["L0.X1"] == "host"


def test_fusion_group_moves_whole_and_search_counts():
    c = cascade()
    spec, costs = setup(c)
    # the attention class on the bit-serial array: QK/AV go there, the softmax falls back ... and the
    # array that fuses them pulls none back, because no member is left on it
    p = resolve(c, costs, spec, PlacementRules(classes={"attention": "pe"}))
    assert p["L0.QK"] == p["L0.AV"] == "pe" and p["L0.SN"] != "pe"
    # one member pinned to the fusing unit pulls the group whole onto it
    p = resolve(c, costs, spec, PlacementRules(classes={"attention": "host"}, einsums={"L0.GM": "att"}))
    assert {p[n] for n in ("L0.QK", "L0.GM", "L0.SN", "L0.SD", "L0.A", "L0.AV")} == {"att"}
    space = search_space(c, costs, spec)
    assert space == {"qkv": ("pe", "att", "host"), "attention": ("pe", "att", "host"), "proj": ("pe", "att", "host"),
                     "mlp": ("pe", "att", "host"), "lm_head": ("pe", "host")}
    found = search(c, costs, spec, "latency_s")
    assert found.candidates == 2 * 3**4 * 2 + 1 and 1 < found.evaluated <= found.candidates


def test_explicit_einsum_on_a_unit_that_does_not_model_it():
    c = cascade()
    spec, costs = setup(c)
    with pytest.raises(SpecError, match="Einsum EMB.X on unit 'pe': its bitserial family does not model it"):
        resolve(c, costs, spec, PlacementRules(einsums={"EMB.X": "pe"}))
    with pytest.raises(SpecError, match="no Einsum named 'L9.QK'"):
        resolve(c, costs, spec, PlacementRules(einsums={"L9.QK": "att"}))

"""Placement on the presets: the rules, link bytes when one Einsum moves, the search against fixed placements."""
import pytest

from experiments.families import cascade_of
from experiments.schema import Workloads
from experiments.system.costs import system_costs
from experiments.system.evaluate import evaluate_phase
from mappers.system import PlacementRules, place, search, search_space
from sim.system import load_system, schedule
from workloads import SpecError


def workload(phase, model="gpt2", seq_len=64, **kw):
    return Workloads(models=[model], phases=[phase], seq_len=[seq_len], layers=1, **kw).combos()[0]


def units_of(ev):
    return dict(zip(ev.result.rows["einsum"], ev.result.rows["unit"]))


def test_auto_rules_on_the_hybrid():
    spec = load_system("hybrid")
    pre, dec = evaluate_phase(spec, workload("prefill")), evaluate_phase(spec, workload("decode"))
    p, d = units_of(pre), units_of(dec)
    # FC: bit-serial in prefill, PIM in decode; attention on the attention array in both
    assert {p[n] for n in ("L0.Q_mm", "L0.O_mm", "L0.1_mm", "L0.2_mm", "LOGITS")} == {"bitmod"}
    assert {d[n] for n in ("L0.Q_mm", "L0.O_mm", "L0.1_mm", "L0.2_mm", "LOGITS")} == {"pim"}
    assert {p[n] for n in ("L0.QK", "L0.SN", "L0.AV")} == {"fusemax"} == {d[n] for n in ("L0.QK", "L0.AV")}
    # the cache appends run where the attention reads the cache
    assert d["L0.Kcache"] == d["L0.QK"] and d["L0.Vcache"] == d["L0.AV"]
    # the attention array's fusion group is whole on it
    rows = dec.result.rows.set_index("einsum")
    members = rows.index[rows["fusion_group"] == "L0.attention"]
    assert len(members) == 6 and set(rows.loc[members, "unit"]) == {"fusemax"}
    # PIM refuses the prefill: nothing runs there
    assert "pim" not in set(p.values())
    # the embedding runs on PIM-GPT's ASIC in decode, on the host in prefill (no other unit models it)
    assert d["EMB.X"] == "pim" and p["EMB.X"] == "host"


def test_moving_one_einsum_changes_link_bytes_by_the_tensors_it_carries():
    """pim-gpt decode runs whole on PIM (no link bytes). Moving the softmax max (GM) to the host
    ASIC makes the scores cross to it and its max cross back: exactly those two tensors."""
    spec, w = load_system("pim-gpt"), workload("decode")
    c = cascade_of(w)
    base = evaluate_phase(spec, w)
    assert set(base.result.rows["unit"]) == {"pim"} and base.result.traffic()["bytes_link"] == 0.0
    moved = evaluate_phase(spec, w, PlacementRules(einsums={"L0.GM": "asic"}))
    carried = c.tensors["L0.QK"].bytes + c.tensors["L0.GM"].bytes
    assert moved.result.traffic()["bytes_link"] - base.result.traffic()["bytes_link"] == carried
    assert moved.result.design["link_bytes_pim--asic"] == carried
    assert (units_of(moved)["L0.GM"], set(units_of(moved).values())) == ("asic", {"pim", "asic"})


def test_moving_the_scores_takes_the_cache_or_its_append_along():
    """QK on the host: its K cache append follows it (the new K row crosses), unless the append is
    pinned to PIM, and then the whole cache crosses."""
    spec, w = load_system("pim-gpt"), workload("decode")
    c = cascade_of(w)
    with_append = evaluate_phase(spec, w, PlacementRules(einsums={"L0.QK": "asic"}))
    assert units_of(with_append)["L0.Kcache"] == "asic"
    assert with_append.result.traffic()["bytes_link"] == sum(c.tensors[t].bytes for t in ("L0.Q", "L0.K", "L0.QK"))
    pinned = evaluate_phase(spec, w, PlacementRules(einsums={"L0.QK": "asic", "L0.Kcache": "pim"}))
    assert pinned.result.traffic()["bytes_link"] == sum(c.tensors[t].bytes for t in ("L0.Q", "L0.Kcache", "L0.QK"))


def test_moving_an_fc_to_the_host_removes_its_two_crossings():
    """bitmod-dram decode: L0.2_mm on the array reads the GELU output from the host and its output
    goes back for the bias add; on the host both crossings vanish."""
    spec, w = load_system("bitmod-dram"), workload("decode")
    c = cascade_of(w)
    base = evaluate_phase(spec, w)
    assert units_of(base)["L0.2_mm"] == "bitmod" and units_of(base)["L0.HA"] == "host"
    moved = evaluate_phase(spec, w, PlacementRules(einsums={"L0.2_mm": "host"}))
    delta = base.result.traffic()["bytes_link"] - moved.result.traffic()["bytes_link"]
    assert delta == c.tensors["L0.HA"].bytes + c.tensors["L0.2_mm"].bytes


def test_explicit_rules_and_their_errors():
    spec, w = load_system("hybrid"), workload("decode")
    ev = evaluate_phase(spec, w, PlacementRules(classes={"mlp": "bitmod", "attention": "pim"}))
    u = units_of(ev)
    assert u["L0.1_mm"] == u["L0.2_mm"] == "bitmod" and u["L0.HA"] != "bitmod"  # GELU: bitmod does not model it
    assert u["L0.QK"] == u["L0.SN"] == "pim" and u["L0.Kcache"] == "pim"
    with pytest.raises(SpecError, match="Einsum L0.SN on unit 'bitmod': its bitserial family does not model it"):
        evaluate_phase(spec, w, PlacementRules(einsums={"L0.SN": "bitmod"}))
    with pytest.raises(SpecError, match="placement: mlp: no unit named 'gpu'"):
        evaluate_phase(spec, w, PlacementRules(classes={"mlp": "gpu"}))
    with pytest.raises(SpecError, match="class 'ffn' is not an Einsum group"):
        evaluate_phase(spec, w, PlacementRules(classes={"ffn": "pim"}))
    with pytest.raises(SpecError, match="Einsum L0.SN is pinned to 'host' but its fusion group L0.attention runs whole "
                                        "on 'fusemax'"):
        evaluate_phase(spec, w, PlacementRules(einsums={"L0.SN": "host"}))


def fixed_placements(space, units):
    """Every class on one unit (where it can), both vector policies, plus the auto rules."""
    out = [None]
    for unit in units:
        for vector in ("producer", "host"):
            out.append(PlacementRules(classes={c: unit for c, us in space.items() if unit in us}, vector=vector))
    return out


@pytest.mark.parametrize("preset", ["hybrid", "bitmod-dram"])
@pytest.mark.parametrize("phase", ["prefill", "decode"])
@pytest.mark.parametrize("objective", ["latency_s", "energy_j", "edp"])
def test_search_is_at_least_as_good_as_every_fixed_placement(preset, phase, objective):
    spec, w = load_system(preset), workload(phase)
    c, costs = cascade_of(w), system_costs(spec, w)
    found = search(c, costs, spec, objective)
    assert found.evaluated > 1 and found.candidates >= found.evaluated
    best = schedule(found.mapping, costs, spec).totals()
    value = {"latency_s": best["latency_s"], "energy_j": best["energy_j"],
             "edp": best["latency_s"] * best["energy_j"]}[objective]
    assert value == pytest.approx(found.metric, rel=1e-12)
    for rules in fixed_placements(search_space(c, costs, spec), spec.unit_names):
        t = schedule(place(c, costs, spec, rules), costs, spec).totals()
        fixed = {"latency_s": t["latency_s"], "energy_j": t["energy_j"], "edp": t["latency_s"] * t["energy_j"]}[objective]
        assert value <= fixed * (1 + 1e-12), rules


def test_search_reports_and_limits():
    spec, w = load_system("hybrid"), workload("decode")
    c, costs = cascade_of(w), system_costs(spec, w)
    space = search_space(c, costs, spec)
    assert set(space) == {"qkv", "attention", "proj", "mlp", "lm_head"}
    assert space["mlp"] == ("bitmod", "fusemax", "pim", "host")
    # the attention class's MAC work (QK, AV) runs on all four; its softmax follows the rules
    assert space["attention"] == ("bitmod", "fusemax", "pim", "host")
    with pytest.raises(SpecError, match="exceed max_placements 10; give an explicit placement file"):
        search(c, costs, spec, max_placements=10)
    with pytest.raises(SpecError, match="objective 'power'"):
        search(c, costs, spec, "power")

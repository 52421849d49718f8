"""The system scheduler against a tiny DAG computed by hand: 2 units, 1 link, one contended transfer."""
import pandas as pd
import pytest

from sim.contract import EinsumMapping, Mapping, Result
from sim.system import LinkSpec, SystemSpec, UnitCosts, UnitSpec, schedule
from workloads import SpecError
from workloads.ir import CascadeBuilder


def tiny_cascade():
    """E1 -> T1 -> {E2, E3}; E2 -> T2, E3 -> T3 -> E4. T1, T2, T3 are 4 x 2 fp16 = 16 bytes."""
    b = CascadeBuilder("tiny")
    b.rank("M", 4)
    b.rank("K", 3)
    b.rank("N", 2)
    b.tensor("A", "M,K", role="input")
    b.tensor("W", "K,N", role="weight")
    b.einsum("E1", "T1[M,N] = A[M,K] * W[K,N]")
    b.einsum("E2", "T2[M,N] = T1[M,N] * T1[M,N]")
    b.einsum("E3", "T3[M,N] = T1[M,N] * T1[M,N]")
    b.einsum("E4", "T4[M,N] = T2[M,N] + T3[M,N]")
    b.output("T4")
    return b.build()


def fake_costs(unit, durations, energy=1e-9):
    rows = pd.DataFrame([{"einsum": e, "unit": "pe", "macs": m, "cycles": d * 1e9, "latency_s": d,
                          "energy_mac_j": energy} for e, d, m in durations])
    return UnitCosts(unit, "roofline", Result("roofline", rows))


def system(link_latency=1.0):
    units = tuple(UnitSpec(name=n, family="roofline", memory_bytes=1e9, source="assumption: test") for n in ("u1", "u2"))
    link = LinkSpec(between=("u1", "u2"), bandwidth_bytes_per_s=16.0, latency_s=link_latency,
                    energy_pj_per_bit=1.0, source="assumption: test")
    return SystemSpec(name="two", units=units, links=(link,), source="assumption: test")


def mapping(cascade, placement):
    return Mapping("system", "explicit", cascade, tuple(EinsumMapping(e, u) for e, u in placement.items()))


MACS = {"E1": 24, "E2": 0, "E3": 0, "E4": 0}


def costs():
    # every unit could run every Einsum; the placement picks
    d1 = {"E1": 10.0, "E2": 7.0, "E3": 1.0, "E4": 7.0}
    d2 = {"E1": 7.0, "E2": 1.0, "E3": 7.0, "E4": 2.0}
    return {"u1": fake_costs("u1", [(e, d, MACS[e]) for e, d in d1.items()]),
            "u2": fake_costs("u2", [(e, d, MACS[e]) for e, d in d2.items()])}


def test_hand_computed_two_units_one_link():
    """E1 on u1 0-10; T1 crosses 10-12 (1 s latency + 16 B at 16 B/s); E2 on u2 12-13; E3 on u1
    10-11; T3 wants the u1->u2 direction at 11 but T1 holds it until 12: 12-14; E4 on u2 14-16."""
    c = tiny_cascade()
    r = schedule(mapping(c, {"E1": "u1", "E2": "u2", "E3": "u1", "E4": "u2"}), costs(), system())
    rows = r.rows.set_index("einsum")
    assert rows["start_s"].to_dict() == {"E1": 0.0, "E2": 12.0, "E3": 10.0, "E4": 14.0}
    assert rows["end_s"].to_dict() == {"E1": 10.0, "E2": 13.0, "E3": 11.0, "E4": 16.0}
    # exposed shares, by end: E1 10, E3 +1, E2 +2, E4 +3 -> 16 = the makespan
    assert rows["latency_s"].to_dict() == {"E1": 10.0, "E2": 2.0, "E3": 1.0, "E4": 3.0}
    assert r.totals()["latency_s"] == 16.0
    assert rows["bytes_link"].to_dict() == {"E1": 0.0, "E2": 16.0, "E3": 0.0, "E4": 16.0}
    assert rows.loc["E4", "energy_link_j"] == pytest.approx(16 * 8 * 1e-12)
    assert r.energy_j == pytest.approx(4e-9 + 2 * 16 * 8e-12)
    assert r.design["busy_s_u1"] == 11.0 and r.design["busy_s_u2"] == 3.0
    assert r.design["util_u1"] == pytest.approx(11 / 16)
    assert r.design["link_bytes_u1--u2"] == 32.0 and r.design["link_busy_s_u1--u2"] == 4.0
    r.check_covers(c)


def test_one_unit_is_the_sum_of_its_rows():
    c = tiny_cascade()
    r = schedule(mapping(c, {e: "u1" for e in MACS}), costs(), system())
    assert r.latency_s == 10 + 7 + 1 + 7
    assert r.traffic()["bytes_link"] == 0.0
    assert list(r.rows["start_s"]) == [0.0, 10.0, 17.0, 18.0]


def test_tensor_crosses_once_per_destination():
    """E2 and E3 both read T1 on u2: one transfer."""
    c = tiny_cascade()
    r = schedule(mapping(c, {"E1": "u1", "E2": "u2", "E3": "u2", "E4": "u2"}), costs(), system(link_latency=0.0))
    assert r.traffic()["bytes_link"] == 16.0
    rows = r.rows.set_index("einsum")
    # T1 arrives at 11; E2 11-12, E3 12-19 (u2's 7 s), E4 19-21
    assert rows["end_s"].to_dict() == {"E1": 10.0, "E2": 12.0, "E3": 19.0, "E4": 21.0}


def test_route_through_host_and_missing_link():
    units = tuple(UnitSpec(name=n, family="roofline", memory_bytes=1e9, source="assumption: test")
                  for n in ("u1", "u2", "host"))
    links = tuple(LinkSpec(between=(u, "host"), bandwidth_bytes_per_s=16.0, latency_s=0.5, energy_pj_per_bit=1.0,
                           source="assumption: test") for u in ("u1", "u2"))
    spec = SystemSpec(name="star", units=units, links=links, host="host", source="assumption: test")
    hops = spec.route("u1", "u2")
    assert [(h[1], h[2]) for h in hops] == [("u1", "host"), ("host", "u2")]
    c = tiny_cascade()
    r = schedule(mapping(c, {"E1": "u1", "E2": "u2", "E3": "u1", "E4": "u1"}),
                 {**costs(), "host": costs()["u1"]}, spec)
    rows = r.rows.set_index("einsum")
    # T1: u1->host 10-11.5, host->u2 11.5-13; E2 13-14; T2 back: u2->host 14-15.5, host->u1 15.5-17
    assert rows.loc["E2", "start_s"] == 13.0 and rows.loc["E4", "start_s"] == 17.0
    assert rows.loc["E2", "bytes_link"] == 32.0  # two hops of 16 B
    no_host = SystemSpec(name="star", units=units, links=links, source="assumption: test")
    with pytest.raises(SpecError, match="units 'u1' and 'u2' exchange data but no link joins them"):
        schedule(mapping(c, {"E1": "u1", "E2": "u2", "E3": "u1", "E4": "u1"}), costs(), no_host)


def test_placement_on_a_unit_that_cannot_run_the_cascade():
    c = tiny_cascade()
    refused = UnitCosts("u2", "pim", None, refused="phase: 'prefill'")
    with pytest.raises(SpecError, match="unit 'u2', whose pim family does not run this cascade: phase"):
        schedule(mapping(c, {"E1": "u1", "E2": "u2", "E3": "u1", "E4": "u1"}), {"u1": costs()["u1"], "u2": refused},
                 system())

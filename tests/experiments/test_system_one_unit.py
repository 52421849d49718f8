"""A one-unit system is the standalone family, exactly: the same latency, energy and MACs
(rel 1e-12) for each of the four families, every Einsum placed on the unit."""
import pytest

from experiments.families import get_family
from experiments.schema import Workloads
from experiments.space import Point
from experiments.system.evaluate import evaluate_phase
from sim.system import SystemSpec, UnitSpec

CASES = [
    ("roofline", {}, "prefill"), ("roofline", {}, "decode"), ("roofline", {"preset": "a100-40gb"}, "decode"),
    ("pim", {}, "decode"), ("pim", {"channels": 16}, "decode"),
    ("bitserial", {}, "prefill"), ("bitserial", {}, "decode"), ("bitserial", {"mode": "cycle"}, "decode"),
    ("attention", {}, "prefill"), ("attention", {}, "decode"), ("attention", {"design": "flat"}, "prefill"),
]


def workload(phase, model="gpt2"):
    return Workloads(models=[model], phases=[phase], seq_len=[64], layers=1).combos()[0]


@pytest.mark.parametrize("family, params, phase", CASES)
def test_one_unit_system_equals_standalone_family(family, params, phase):
    w = workload(phase)
    fam = get_family(family)
    alone = fam.result(Point(family, fam.default_mapping, w, params)).totals()
    unit = UnitSpec(name="solo", family=family, params=params, memory_bytes=1e12, source="assumption: test")
    spec = SystemSpec(name="solo", units=(unit,), host="solo" if family == "roofline" else None,
                      source="assumption: test")
    ev = evaluate_phase(spec, w, "auto")
    ours = ev.result.totals()
    assert set(ev.result.rows["unit"]) == {"solo"}
    assert ours["latency_s"] == pytest.approx(alone["latency_s"], rel=1e-12, abs=0)
    assert ours["energy_j"] == pytest.approx(alone["energy_j"], rel=1e-12, abs=0)
    assert ours["macs"] == alone["macs"]
    assert ours["bytes_link"] == 0.0 and ours["energy_link_j"] == 0.0
    assert ours["util_solo"] == pytest.approx(1.0, rel=1e-12)
    ev.result.check_covers(ev.mapping.cascade)
    # the search on one unit has one placement and the same answer
    found = evaluate_phase(spec, w, "search")
    assert found.result.totals()["latency_s"] == ours["latency_s"]


def test_llama_gqa_one_unit_attention():
    w = Workloads(models=["llama-3-8b"], phases=["decode"], seq_len=[64], layers=1).combos()[0]
    fam = get_family("attention")
    alone = fam.result(Point("attention", fam.default_mapping, w, {})).totals()
    unit = UnitSpec(name="fm", family="attention", memory_bytes=1e12, source="assumption: test")
    ours = evaluate_phase(SystemSpec(name="s", units=(unit,), source="assumption: test"), w).result.totals()
    assert ours["latency_s"] == pytest.approx(alone["latency_s"], rel=1e-12, abs=0)
    assert ours["energy_j"] == pytest.approx(alone["energy_j"], rel=1e-12, abs=0)

"""A system unit's `mapping` (UnitSpec field): the unit's family runs that mapping, so a roofline
unit with `mapping: search` costs each Einsum as `get_family("roofline").result` with mapping
`search` on the unit's params; a mapping its family lacks is one SpecError line."""
from __future__ import annotations

import pandas as pd
import pytest
import yaml

from experiments.families import get_family
from experiments.schema import Workloads
from experiments.space import Point
from experiments.system.costs import clear_cache, system_costs
from experiments.system.evaluate import evaluate_phase
from sim.system import SystemSpec, UnitSpec
from sim.system.spec import load_system
from workloads.errors import SpecError

PARAMS = {"pes": 256, "buffer_mib": 0.5}


def workload(phase="prefill"):
    return Workloads(models=["gpt2"], phases=[phase], seq_len=[64], layers=1).combos()[0]


def system(mapping):
    unit = UnitSpec(name="host", family="roofline", params=PARAMS, memory_bytes=1e12, mapping=mapping,
                    source="assumption: test")
    return SystemSpec(name="solo", units=(unit,), host="host", source="assumption: test")


@pytest.mark.parametrize("mapping", ["search", "search-fused"])
def test_a_roofline_unit_with_a_search_mapping_costs_as_the_family(mapping):
    clear_cache()
    w = workload()
    alone = get_family("roofline").result(Point("roofline", mapping, w, PARAMS))
    costs = system_costs(system(mapping), w)["host"]
    rows = costs.result.rows
    for col in ("einsum", "macs", "cycles", "latency_s", "energy_j", "offchip_bytes"):
        pd.testing.assert_series_equal(rows[col], alone.rows[col], check_names=False)
    default = system_costs(system(None), w)["host"].result
    assert "bytes_glb" not in default.rows and "bytes_glb" in rows  # the nests were used
    ev = evaluate_phase(system(mapping), w, "auto")
    assert ev.result.totals()["latency_s"] == pytest.approx(alone.latency_s, rel=1e-12, abs=0)


def test_a_bad_unit_mapping_is_one_spec_error_line(tmp_path):
    clear_cache()
    with pytest.raises(SpecError) as err:
        system_costs(system("no-such-mapping"), workload())
    text = str(err.value)
    assert "\n" not in text and "unit host: mapping 'no-such-mapping'" in text and "search" in text
    doc = {"name": "bad", "source": "assumption: test", "host": "host",
           "units": [{"name": "host", "family": "roofline", "params": {}, "memory_bytes": 1e12,
                      "mapping": "serch", "source": "assumption: test"}]}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc))
    spec = load_system(path)
    assert spec.units[0].mapping == "serch"
    fam = get_family("system")
    with pytest.raises(SpecError) as err:
        fam.arch(fam.params(system=str(path)), workload())
    assert "\n" not in str(err.value) and "mapping 'serch'" in str(err.value)

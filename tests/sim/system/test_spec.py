"""System specs: presets load with a source on every unit and link; bad specs are one SpecError line."""
import pytest
import yaml

from sim.system import load_system, parse_system, preset_names
from workloads import SpecError

REQUIRED_PRESETS = {"pim-gpt", "bitmod-dram", "fusemax-dram", "hybrid"}


def test_presets_load_and_cite():
    assert REQUIRED_PRESETS <= set(preset_names())
    for name in preset_names():
        spec = load_system(name)
        assert spec.source.strip()
        assert all(u.source.strip() for u in spec.units) and all(link.source.strip() for link in spec.links)
        assert spec.host is not None and spec.unit(spec.host).family == "roofline"
        # every unit reaches every other, directly or through the host
        for a in spec.unit_names:
            for b in spec.unit_names:
                if a != b:
                    assert spec.route(a, b)


def base():
    return yaml.safe_load(open(load_system.__globals__["PRESETS_DIR"] / "pim-gpt.yaml"))


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["units"].append(dict(d["units"][0])), "unit names must be unique; 'pim' is used twice"),
    (lambda d: d["links"][0].update(between=["pim", "gpu"]), "link pim--gpu: no unit named 'gpu'"),
    (lambda d: d.update(host="pim"), "host: 'pim' is a pim unit; the host is a roofline unit"),
    (lambda d: d["units"][0].update(name="PIM 0"), "units.0.name: Value error, 'PIM 0' is not a slug"),
    (lambda d: d["units"][0].update(family="gpu"), "units.0.family"),
    (lambda d: d["units"][0].update(source=" "), "units.0.source: Value error, every number cites"),
    (lambda d: d["links"][0].update(bandwidth_bytes_per_s=0), "links.0.bandwidth_bytes_per_s"),
    (lambda d: d["links"][0].update(speed=1), "links.0.speed: Extra inputs are not permitted"),
    (lambda d: d["links"].append(dict(d["links"][0])), "the two units are already linked"),
])
def test_bad_specs_are_one_line(edit, message):
    data = base()
    edit(data)
    with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(".", r"\.")) as info:
        parse_system(data, "x.yaml")
    assert "\n" not in str(info.value) and str(info.value).startswith("x.yaml: ")


def test_unknown_preset_lists_the_presets(tmp_path):
    with pytest.raises(SpecError, match="not a file and not a preset; presets: bitmod-dram"):
        load_system("nope")
    bad = tmp_path / "s.yaml"
    bad.write_text("name: [")
    with pytest.raises(SpecError, match="s.yaml: not valid YAML"):
        load_system(bad)

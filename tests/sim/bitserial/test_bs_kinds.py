"""Accelerator kinds as files (`sim.bitserial.kinds`): the shipped folder is the paper's five
kinds with the paper's numbers; a new file (docs/bitserial.md's worked example, run from a
temporary copy of the folder) goes through `sim.bitserial` and the `bitserial` family; every
malformed file is one `SpecError` line naming the file and the key."""
from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

import mappers.bitserial
import sim.bitserial
from experiments.cli import main
from experiments.families.bitserial import BitserialParams
from sim.bitserial import kinds, presets
from workloads import lower
from workloads.errors import SpecError

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "bitserial.md"


def worked_example() -> str:
    """The YAML block of docs/bitserial.md's "Adding a PE kind"."""
    section = DOC.read_text().split("## Adding a PE kind", 1)[1]
    return re.search(r"```yaml\n(.*?)```", section, re.S).group(1)


@pytest.fixture
def folder(tmp_path) -> Path:
    """A copy of `sim/bitserial/accels/` with the worked example added."""
    out = tmp_path / "accels"
    shutil.copytree(kinds.ACCELS_DIR, out)
    (out / "bitmod-int4.yaml").write_text(worked_example())
    return out


@pytest.fixture
def registered(folder):
    kind = kinds.register(kinds.read_kind(folder / "bitmod-int4.yaml"))
    yield kind
    kinds.unregister(kind.name)


def test_the_shipped_kinds_are_the_papers_grid_with_its_numbers():
    assert kinds.names() == presets.ACCELS == ("fp16", "ant", "olive", "bitmod-lossy", "bitmod-lossless")
    table = {  # docs/bitserial.md "PEs": lanes, cycles/weight, K/V cycles, pJ/cycle, µm², arrays
        "fp16": (1, 1, 1, 0.77, 1968.7, ((32, 24), (64, 12))),
        "ant": (1, 1, 1, 0.56, 1318.6, ((32, 32), (64, 16))),
        "olive": (1, 1, 1, 0.613, 1318.6, ((36, 32), (72, 16))),
        "bitmod-lossy": (4, 2, 4, 0.56, 1507.7, ((32, 32), (64, 16))),
        "bitmod-lossless": (4, 3, 4, 0.56, 1507.7, ((32, 32), (64, 16))),
    }
    for name, (lanes, cycles, kv, pj, um2, arrays) in table.items():
        for pe in presets.PES[name].values():
            assert (pe.lanes, pe.linear_term_cycles, pe.attention_term_cycles, pe.energy_pj_per_cycle,
                    pe.area_um2) == (lanes, cycles, kv, pj, um2)
            assert pe.source and kinds.kind(name).source
        assert presets.ARRAYS[name] == arrays
    assert list(presets.ANT_WEIGHT_BITS.values()) == [5, 5, 5.25, 5, 4, 5]
    assert list(presets.OLIVE_WEIGHT_BITS.values()) == [4, 4, 4, 4, 4, 4.5]
    assert tuple(presets.ANT_WEIGHT_BITS) == tuple(presets.OLIVE_WEIGHT_BITS) == presets.MODELS
    assert kinds.kind("ant").bits("generative", "gpt2") == 5 and kinds.kind("olive").bits("generative", "gpt2") == 4


def test_a_new_file_is_a_new_kind_through_sim_bitserial(folder):
    loaded = kinds.load_folder(folder)
    assert tuple(loaded) == (*presets.ACCELS, "bitmod-int4")
    new = presets.accelerator(loaded["bitmod-int4"], "discriminative", "llama-2-7b")
    lossy = presets.accelerator("bitmod-lossy", "discriminative", "llama-2-7b")
    assert (new.pe.linear_term_cycles, new.weight_bits, new.name) == (2, 4.0625, "bitmod-int4")
    cascade = lower("gpt2", "prefill", seq_len=64, layers=1)
    for mode in sim.bitserial.MODES:
        got, want = (sim.bitserial.simulate(mappers.bitserial.map(cascade, a, mode=mode), a) for a in (new, lossy))
        cols = ["cycles", "offchip_bytes", "energy_compute_j", "energy_sram_j", "energy_dram_j"]
        assert got.rows[cols].equals(want.rows[cols]) and got.rows["cycles"].sum() > 0


def test_a_registered_kind_is_an_accel_of_the_family(registered, capsys):
    assert BitserialParams(accel="bitmod-int4").accel == "bitmod-int4"
    argv = ["run", "--family", "bitserial", "--model", "gpt2", "--layers", "1", "--format", "json"]
    assert main([*argv, "-p", "accel=bitmod-int4", "-p", "task=discriminative"]) == 0
    assert '"weight_bits": 4.0625' in capsys.readouterr().out
    with pytest.raises(ValidationError, match="accelerator 'nope' is not known; choose one of: fp16, .*bitmod-int4"):
        BitserialParams(accel="nope")
    with pytest.raises(SpecError, match="registered twice"):
        kinds.register(kinds.AccelKind("bitmod-int4", {}, {}, {}, "x"))


def _drop(doc: dict, *keys):
    *path, last = keys
    for k in path:
        doc = doc[k]
    del doc[last]


def _set(doc: dict, value, *keys):
    *path, last = keys
    for k in path:
        doc = doc[k]
    doc[last] = value


BAD = [  # (edit of the worked example, the key the error names, what it says)
    (lambda d: _drop(d, "source"), "source", "cites where its numbers come from"),
    (lambda d: _set(d, " ", "pe", "source"), "pe.source", "cites where its numbers come from"),
    (lambda d: _set(d, 1, "colour"), "colour", "unknown key; allowed: source, paper_order"),
    (lambda d: _set(d, 1, "pe", "clock_ghz"), "pe.clock_ghz", "unknown key; allowed: label"),
    (lambda d: _set(d, "int5", "pe", "weight_datatypes"), "pe.weight_datatypes", "unknown datatype 'int5'; allowed:"),
    (lambda d: _set(d, {"discriminative": "int4", "generative": "fp9"}, "pe", "weight_datatypes"),
     "pe.weight_datatypes.generative", "unknown datatype 'fp9'"),
    (lambda d: _set(d, "fp16", "pe", "kv_datatype"), "pe.kv_datatype", "unknown datatype 'fp16'"),
    (lambda d: _drop(d, "pe", "weight_datatypes"), "pe.weight_datatypes", "required for a bit-serial PE"),
    (lambda d: _set(d, False, "pe", "bit_serial"), "pe.weight_datatypes", "a bit-parallel PE spends one cycle"),
    (lambda d: _set(d, 0, "pe", "lanes"), "pe.lanes", "expected a positive integer"),
    (lambda d: _set(d, [32], "array", "generative"), "array.generative", "expected [rows, cols]"),
    (lambda d: _set(d, {"generative": 4.0}, "weight_bits"), "weight_bits", "give one value or one per task"),
    (lambda d: _set(d, {"models": {"gpt2": 4.0}}, "weight_bits"), "weight_bits.default", "required"),
    (lambda d: _set(d, {"models": {"gpt2": "four"}, "default": 4}, "weight_bits"), "weight_bits.models.gpt2",
     "expected a positive number"),
]


@pytest.mark.parametrize("edit,key,says", BAD, ids=[b[1] + ":" + b[2][:20] for b in BAD])
def test_a_malformed_kind_is_one_line_naming_file_and_key(tmp_path, edit, key, says):
    doc = copy.deepcopy(yaml.safe_load(worked_example()))
    edit(doc)
    path = tmp_path / "bitmod-int4.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True))
    with pytest.raises(SpecError) as err:
        kinds.load_folder(tmp_path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"bitmod-int4.yaml: {key}: "), message
    assert says in message, message


def test_an_unreadable_file_and_an_unknown_kind_are_one_line(tmp_path):
    (tmp_path / "broken.yaml").write_text("pe: [unclosed\n")
    with pytest.raises(SpecError, match=r"^broken\.yaml: cannot read accelerator kind \(line 2: ") as err:
        kinds.load_folder(tmp_path)
    assert "\n" not in str(err.value)
    with pytest.raises(SpecError, match="^accelerator 'nope' is not known; choose one of: fp16, ant"):
        presets.accelerator("nope", "generative", "llama-2-7b")

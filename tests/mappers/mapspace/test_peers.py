"""The mapspace model against its peers, SCALE-Sim and ZigZag, on the same GEMMs and array (the
`peers` extra: `pip install -e .[peers]`; skipped without it).

* SCALE-Sim (`scalesim` 3.0, Samajdar et al.): its compute model (operand matrices, the systolic
  array's demand matrices for OS, WS and IS) on a 32 × 32 array in its stall-free bandwidth mode
  (`InterfaceBandwidth: CALC`); a layer's compute cycles are its demand-matrix rows (the full
  simulation, memory system included, reports rows − 1, checked on 64³). einspace: the nest that
  reproduces the dataflow on a `systolic=True` array with unbounded buffer bandwidth. Within 5 %.
* ZigZag (`zigzag-dse` 3.9, Mei et al.): an architecture written here from its documented yaml
  format — per-PE 16-bit registers, a 1 MiB global buffer of (R + C) words a cycle, DRAM of
  32 B a cycle, the same energies per byte and per MAC as the einspace spec `peer_array` (shared
  with `einspace validate`: experiments/validation/mapspace.py, whose recorded figures are checked
  here against the live tools) —
  searched by ZigZag (LOMA, its default spatial-mapping generator) for latency and for energy;
  einspace's search on `peer_array` must be no worse in latency.

The large GEMMs' SCALE-Sim runs take about a minute each (OS/IS of 1024 × 768 × 768); they run
only with `EINSPACE_PEERS_FULL=1`. The measured figures are in docs/validation.md.
"""
from __future__ import annotations

import logging
import os

import pytest

from experiments.validation.mapspace import (COLS, DRAM_BPC, DRAM_PJ_B, GLB_PJ_B, MAC_PJ, ROWS, SCALESIM, TOLERANCE,
                                             WORD, ZIGZAG, dataflow_nest, peer_array, scalesim_inputs,
                                             scalesim_live, systolic_array)
from mappers.mapspace import search
from sim.pe_array import evaluate, gemm

scalesim = pytest.importorskip("scalesim", reason="the `peers` extra (scalesim) is not installed")
zigzag_api = pytest.importorskip("zigzag.api", reason="the `peers` extra (zigzag-dse, six) is not installed")

FAST = [(64, 64, 64), (256, 768, 768)]
FULL = [(256, 3072, 768), (1024, 768, 768)]
SHAPES = FAST + (FULL if os.environ.get("EINSPACE_PEERS_FULL") else [])


def scalesim_reported(m: int, k: int, n: int, dataflow: str) -> int:
    """The full single-layer simulation's compute cycles (memory system included).
    scalesim 3.0 calls int() on a one-element array there, which NumPy >= 2.4 refuses; its
    module's `max` is wrapped to return the scalar for the run."""
    import builtins

    import numpy as np
    import scalesim.memory.double_buffered_scratchpad_mem as dbm
    from scalesim.layout_utils import layouts
    from scalesim.single_layer_sim import single_layer_sim

    cfg, topo = scalesim_inputs(m, k, n, dataflow)
    sim = single_layer_sim()
    sim.set_params(layer_id=0, config_obj=cfg, topology_obj=topo, layout_obj=layouts(), verbose=False)
    dbm.max = lambda *a: np.asarray(builtins.max(*a)).reshape(-1)[0]
    try:
        sim.run()
    finally:
        del dbm.max
    return sim.get_compute_report_items()[1]


@pytest.mark.parametrize("dataflow", ["os", "ws", "is"])
@pytest.mark.parametrize("shape", SHAPES)
def test_cycles_within_5_percent_of_scalesim(shape, dataflow):
    m, k, n = shape
    ours = evaluate(gemm(1, m, k, n, 1, 1, 1), dataflow_nest(m, k, n, dataflow), systolic_array()).cycles
    theirs = scalesim_live(m, k, n, dataflow)
    print(f"scalesim {m}x{k}x{n} {dataflow}: einspace {ours:.0f} scalesim {theirs} ratio {ours / theirs:.4f}")
    assert abs(ours / theirs - 1) <= TOLERANCE
    assert theirs == SCALESIM[shape][dataflow]  # the figure `einspace validate` uses when not run live


@pytest.mark.parametrize("dataflow", ["os", "ws"])
def test_scalesim_reports_its_demand_rows_less_one(dataflow):
    assert scalesim_reported(64, 64, 64, dataflow) == scalesim_live(64, 64, 64, dataflow) - 1


def zigzag_port(name: str, kind: str, bits: int, alloc: list[str]) -> dict:
    return {"name": name, "type": kind, "bandwidth_min": bits, "bandwidth_max": bits, "allocation": alloc}


def zigzag_register(op: str) -> dict:
    reads, writes = ([f"{op}, tl"], [f"{op}, fh"]) if op != "O" else (["O, tl", "O, th"], ["O, fl", "O, fh"])
    return {"size": 16, "r_cost": 0.0, "w_cost": 0.0, "area": 0.0, "latency": 1, "operands": [op],
            "ports": [zigzag_port("r_port_1", "read", 16, reads), zigzag_port("w_port_1", "write", 16, writes)],
            "served_dimensions": []}


def zigzag_architecture() -> dict:
    """`peer_array` in ZigZag's accelerator format; memories innermost first; an access moves the
    port's width, so its energy is that many bytes × the level's energy per byte."""
    glb_bits, dram_bits = (ROWS + COLS) * WORD * 8, DRAM_BPC * 8
    glb = {"size": 2**20 * 8, "r_cost": GLB_PJ_B * glb_bits / 8, "w_cost": GLB_PJ_B * glb_bits / 8, "area": 0.0,
           "latency": 1, "operands": ["I1", "I2", "O"],
           "ports": [zigzag_port("r_port_1", "read", glb_bits, ["I1, tl", "I2, tl", "O, tl", "O, th"]),
                     zigzag_port("w_port_1", "write", glb_bits, ["I1, fh", "I2, fh", "O, fh", "O, fl"])],
           "served_dimensions": ["D1", "D2"]}
    dram = {"size": 2**40, "r_cost": DRAM_PJ_B * DRAM_BPC, "w_cost": DRAM_PJ_B * DRAM_BPC, "area": 0.0,
            "latency": 1, "operands": ["I1", "I2", "O"],
            "ports": [zigzag_port("rw_port_1", "read_write", dram_bits, ["I1, tl", "I2, tl", "O, tl", "O, fl"])],
            "served_dimensions": ["D1", "D2"]}
    memories = {"rf_i": zigzag_register("I1"), "rf_w": zigzag_register("I2"), "rf_o": zigzag_register("O"),
                "glb": glb, "dram": dram}
    return {"name": "peer-32x32", "memories": memories,
            "operational_array": {"dimensions": ["D1", "D2"], "sizes": [ROWS, COLS], "unit_energy": MAC_PJ,
                                  "unit_area": 1.0}}


def zigzag_best(m: int, k: int, n: int, opt: str, tmp_path) -> tuple[float, float]:
    """ZigZag's (energy pJ, latency cycles) of its best mapping for `opt`."""
    import yaml

    layer = [{"id": 0, "name": "gemm", "operator_type": "Gemm", "equation": "O[m][n]+=I[m][k]*W[k][n]",
              "loop_dims": ["M", "N", "K"], "loop_sizes": [m, n, k],
              "operand_precision": {"I": 16, "W": 16, "O": 16, "O_final": 16}}]
    mapping = [{"name": "default", "memory_operand_links": {"O": "O", "I": "I1", "W": "I2"}}]
    arch, mp = tmp_path / "arch.yaml", tmp_path / "mapping.yaml"
    arch.write_text(yaml.safe_dump(zigzag_architecture(), sort_keys=False))
    mp.write_text(yaml.safe_dump(mapping, sort_keys=False))
    logging.disable(logging.WARNING)
    try:
        energy, latency, _ = zigzag_api.get_hardware_performance_zigzag(
            layer, str(arch), str(mp), opt=opt, dump_folder=str(tmp_path / "out"), loma_show_progress_bar=False)
    finally:
        logging.disable(logging.NOTSET)
    return energy, latency


@pytest.mark.parametrize("shape", FAST + FULL)
def test_latency_no_worse_than_zigzag_best(shape, tmp_path):
    m, k, n = shape
    p, spec = gemm(1, m, k, n, WORD, WORD, WORD), peer_array()
    z_energy, z_latency = zigzag_best(m, k, n, "latency", tmp_path)
    ze_energy, ze_latency = zigzag_best(m, k, n, "energy", tmp_path)
    lat, en = search(p, spec, "latency"), search(p, spec, "energy")
    print(f"zigzag {m}x{k}x{n}: latency-best {z_latency:.0f} cc {z_energy / 1e6:.3f} uJ; energy-best "
          f"{ze_latency:.0f} cc {ze_energy / 1e6:.3f} uJ | einspace latency-best {lat.cost.cycles:.0f} cc "
          f"{lat.cost.energy_pj / 1e6:.3f} uJ; energy-best {en.cost.cycles:.0f} cc {en.cost.energy_pj / 1e6:.3f} uJ")
    assert lat.cost.cycles <= z_latency
    assert round(z_latency) == ZIGZAG[shape]  # the figure `einspace validate` uses (not rerun there)

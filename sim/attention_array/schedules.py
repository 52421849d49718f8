"""Job schedules: the static order in which a stage's jobs issue their operations.

Each builder takes the per-job cycles of the stage's operations (``StageCycles``) and returns a
function ``n -> list[Op]`` for ``pipeline.simulate_uniform``:

* ``2d`` / ``1d``: load the job's operands, run it on one array;
* ``fused_2d_then_1d``: load, 2D work, then 1D work (FuseMax's tile);
* ``softpipe``: FLAT's software pipeline — QK of job j on the 2D array, then the softmax of job
  j − 1 on the 1D array and its second matrix Einsum (AV or SLNV) on the 2D array;
* ``softpipe_spill``: spilled FLAT's three-deep pipeline (``spill_step``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sim.attention_array.pipeline import Op


@dataclass(frozen=True)
class StageCycles:
    """Cycles per job: off-chip load, each 2D-array operation, the 1D-array operation, and the
    off-chip bytes of spilled FLAT's three steps in cycles."""

    dram: int
    on_2d: tuple[int, ...]
    on_1d: int
    dram_parts: tuple[int, ...] = ()


def spill_step(c: StageCycles, j: int, n: int) -> list[Op]:
    """Step j of spilled FLAT's three-deep software pipeline: the K sweep of block j, the softmax
    read-back of block j − 1 and the V sweep of block j − 2."""
    out = []
    if j < n:
        out += [Op(j, "dram", c.dram_parts[0]), Op(j, "2d", c.on_2d[0])]
    if 0 <= j - 1 < n:
        out += [Op(j - 1, "dram", c.dram_parts[1]), Op(j - 1, "1d", c.on_1d)]
    if 0 <= j - 2 < n:
        out += [Op(j - 2, "dram", c.dram_parts[2]), Op(j - 2, "2d", c.on_2d[1])]
    return out


def _softpipe_spill(c: StageCycles) -> Callable[[int], list[Op]]:
    def make(n: int) -> list[Op]:
        return [op for j in range(n + 2) for op in spill_step(c, j, n)]
    return make


def _softpipe(c: StageCycles) -> Callable[[int], list[Op]]:
    def make(n: int) -> list[Op]:
        seq = []
        for j in range(n):
            seq += [Op(j, "dram", c.dram), Op(j, "2d", c.on_2d[0])]
            if j > 0:
                seq += [Op(j - 1, "1d", c.on_1d), Op(j - 1, "2d", c.on_2d[1])]
            if j == n - 1:
                seq += [Op(j, "1d", c.on_1d), Op(j, "2d", c.on_2d[1])]
        return seq
    return make


def _fused_2d_then_1d(c: StageCycles) -> Callable[[int], list[Op]]:
    def make(n: int) -> list[Op]:
        return [op for j in range(n) for op in (Op(j, "dram", c.dram), Op(j, "2d", c.on_2d[0]), Op(j, "1d", c.on_1d))]
    return make


def _one_array(array: str) -> Callable[[StageCycles], Callable[[int], list[Op]]]:
    def build(c: StageCycles) -> Callable[[int], list[Op]]:
        cycles = c.on_2d[0] if array == "2d" else c.on_1d

        def make(n: int) -> list[Op]:
            return [op for j in range(n) for op in (Op(j, "dram", c.dram), Op(j, array, cycles))]
        return make
    return build


ORDERS: dict[str, Callable[[StageCycles], Callable[[int], list[Op]]]] = {
    "2d": _one_array("2d"), "1d": _one_array("1d"), "fused_2d_then_1d": _fused_2d_then_1d,
    "softpipe": _softpipe, "softpipe_spill": _softpipe_spill}
# Jobs whose buffers are in flight at once (double buffering; spilled FLAT keeps three blocks).
WINDOW_JOBS = {"softpipe_spill": 3}
DEFAULT_WINDOW_JOBS = 2

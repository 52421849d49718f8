"""What an attention dataflow is to the array simulator: its cascade, its binding and its stages.

A ``Dataflow`` names the softmax cascade it runs (``variant``), which of that cascade's Einsums
run on the 2D array and which on the 1D array (its *binding*), how its arrays issue work (FLAT's
pipelined softmax unit, FuseMax's exp as 6 MACs + 1 add) and, given the plan of one layer, the
pipeline stages it runs (``stages``: one ``Stage`` per pass over the data). ``attention.py``
turns each stage into jobs through ``pipeline.simulate_uniform``.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from sim.attention_array.arch import ArraySpec
from sim.attention_array.plan import AttentionPlan
from sim.attention_array.rates import PairRates


@dataclass(frozen=True)
class Stage:
    """One pass of a design: ``jobs`` identical jobs (tiles or query-row blocks) of one instance.

    Bytes are per (batch entry, head) instance; ``slots_2d`` lists the PE cycles of work of each
    2D-array operation of the stage (one or two per job), ``slots_1d`` the 1D array's; ``rows`` ×
    ``cols`` is the block of the 2D array a job can occupy; ``order`` names the job schedule
    (``schedules.ORDERS``); ``dram_split`` spilled FLAT's per-step off-chip bytes."""

    name: str
    jobs: int
    dram_bytes: float
    glb_bytes: float
    slots_2d: tuple[float, ...]
    slots_1d: float
    rows: int
    cols: int
    order: str
    dram_split: tuple[float, ...] = ()


@dataclass(frozen=True)
class StageContext:
    """What a dataflow's ``stages`` reads: the plan, the array, the per-pair rates."""

    dataflow: Dataflow
    plan: AttentionPlan
    arch: ArraySpec
    rates: PairRates

    @property
    def instances(self) -> int:
        return self.plan.shape.instances

    @property
    def q_blocks(self) -> int:
        return math.ceil(self.plan.shape.n_q / self.plan.q_tile)

    @property
    def kv_blocks(self) -> int:
        return math.ceil(self.plan.shape.n_kv / self.plan.kv_tile)

    @property
    def score_glb_bytes(self) -> float:
        """Buffer bytes of the scores: written and read as S, written and read as P."""
        return 4 * self.plan.bytes_per_element * self.plan.pairs

    def pass_dram(self, index: int = 0) -> float:
        """Off-chip bytes of one pass, per instance."""
        return self.plan.pass_bytes[index][1] / self.instances

    def slots(self, array: str, names) -> float:
        """PE cycles of work of the Einsums ``names`` on ``array`` over the plan's pairs."""
        return sum(self.dataflow.einsum_slots(array, self.rates.kinds((n,), self.plan.pairs)) for n in names)


@dataclass(frozen=True)
class Dataflow:
    """One attention dataflow as the array runs it (see the module docstring).

    ``exp_cycles``: PE cycles of one exp when the PEs build it from MACs (FuseMax: 6 MACs + 1 add,
    its subtraction included); 0 when an exp is one operation. ``pipelined_1d``: the 1D array is
    FLAT's pipelined softmax unit (one step per output element of each element-wise Einsum; its
    exp costs the ``exp_pipelined`` energy action). ``skips_masked_tiles``: fully masked (q, kv)
    tiles of a causal layer are skipped (else the design computes whole score rows and costs
    exactly its bidirectional twin). ``paper``: its FuseMax-artifact accounting, if it has one."""

    name: str
    variant: str
    on_2d: tuple[str, ...]
    on_1d: tuple[str, ...]
    stages: Callable[[StageContext], list[Stage]]
    source: str
    pipelined_1d: bool = False
    exp_cycles: int = 0
    skips_masked_tiles: bool = False
    paper: Callable | None = None

    @property
    def einsums(self) -> tuple[str, ...]:
        return self.on_2d + self.on_1d

    def einsum_slots(self, array: str, kinds: dict[str, float]) -> float:
        """PE cycles (issue slots) of one Einsum's operations ``kinds`` on ``array``."""
        if self.exp_cycles and "exp" in kinds:
            rest = sum(v for k, v in kinds.items() if k not in ("sub", "exp"))
            return rest + self.exp_cycles * kinds["exp"]
        if array == "1d" and self.pipelined_1d and kinds:
            return max(kinds.values())
        return sum(kinds.values())

    def energy_kind(self, kind: str, kinds: dict[str, float]) -> str | None:
        """The energy action of one operation kind of an Einsum (None: folded into another)."""
        if self.exp_cycles and kind == "sub" and "exp" in kinds:
            return None
        key = ENERGY_KIND[kind]
        return "exp_pipelined" if key == "exp" and self.pipelined_1d else key


# Energy action of each operation kind (energy.yaml): a causal mask is an index compare and a
# select (the ERT's comparator + mux); SiLU = x·sigmoid(x) is costed as one exp (the ERT has no
# sigmoid unit).
ENERGY_KIND = {"mac": "mac", "mul": "mac", "add": "add", "sub": "add", "max": "max", "exp": "exp",
               "div": "div", "rsqrt": "div", "gelu_tanh": "exp", "gelu": "exp",
               "mask": "max", "relu": "max", "silu": "exp", "sqrt": "div", "reciprocal": "div",
               "neg": "add", "scale": "mac", "offset": "add"}

"""The steps of a multi-token decode, token by token, sharing what does not change with kv.

`DecodeSteps(plan)(kv)` equals `plan.steps(kv)`: the kv-independent steps (weight GEMVs, the KV
append, non-attention ASIC work) are built once and shared by every token; only score/context
steps and the attention ASIC steps are rebuilt per kv, by the plan's own `steps` restricted to
those Einsums. With `runs`, PIM steps are `PimRuns` (what the analytic path consumes), else
`PimStep`.

`segments(kv)` is the same token as `sim.pim.program.DecodeProgram.token_segments` wants it: the
idle cycles before the first PIM step, then per PIM step (position, step, idle cycles after it up
to the next PIM step); the kv-dependent entries are rebuilt from one step per distinct shape
(`PimPlan.shape_key`; such a step keeps the name of the first Einsum of its shape), the rest are
built once.

`compact` (with `runs`) also sums every stretch of consecutive ASIC/transfer steps into one step
per category: the PIM channels idle through the whole stretch either way, so total cycles, command
counts and per-kind cycles are unchanged (not the per-step list).
"""
from __future__ import annotations

from sim.pim.stream import AsicStep


class DecodeSteps:
    """`plan.steps(kv)` with the kv-independent steps built once (see the module docstring)."""

    def __init__(self, plan, *, runs: bool = False, compact: bool = False) -> None:
        self.plan = plan
        self.runs = runs
        self.template = plan.steps(1, runs=runs)
        self.positions = tuple(i for i, d in enumerate(plan.kv_dependent) if d)
        self.compact = compact and runs
        if self.compact:
            self._program = self._compile_program()
            self._idle_steps: dict[tuple[int, int], tuple] = {}

    def _compile_segments(self) -> None:
        """The template's segments with the kv-dependent parts left as shape keys."""
        plan, slot = self.plan, set(self.positions)
        lead: list = [0, []]
        items: list = []
        cur = lead
        for i, step in enumerate(self.template):
            if isinstance(step, AsicStep):
                if i in slot:
                    cur[-1].append(plan.shape_key(plan.placements[i]))
                else:
                    cur[-2] += step.cycles
                continue
            cur = [i, plan.shape_key(plan.placements[i]) if i in slot else step, 0, []]
            items.append(cur)
        self._lead = (lead[0], tuple(lead[1]))
        self._static = [(i, step, idle) for i, step, idle, _ in items]
        self._dynamic = tuple((n, i, step, idle, tuple(keys)) for n, (i, step, idle, keys) in enumerate(items)
                              if keys or isinstance(step, tuple))
        self._keys = {k: plan.placements[i] for i in self.positions
                      for k in [plan.shape_key(plan.placements[i])]}

    def segments(self, kv_len: int) -> tuple[int, list]:
        """(idle cycles before the first PIM step, [(position, PIM step, idle cycles after)])."""
        if not hasattr(self, "_static"):
            self._compile_segments()
        vals = {k: self.plan.step(p, kv_len, runs=self.runs) for k, p in self._keys.items()}
        cyc = {k: v.cycles for k, v in vals.items() if isinstance(v, AsicStep)}
        items = list(self._static)
        for n, i, step, idle, keys in self._dynamic:
            items[n] = (i, vals[step] if isinstance(step, tuple) else step,
                        idle + sum(cyc[k] for k in keys))
        lead, keys = self._lead
        return lead + sum(cyc[k] for k in keys), items

    def _compile_program(self) -> list:
        """Items ("pim", step), ("pim_kv", k) or ("idle", fixed asic, fixed transfer, (k, ...)),
        k indexing the kv-dependent steps."""
        slot = {pos: k for k, pos in enumerate(self.positions)}
        items: list = []
        for i, step in enumerate(self.template):
            if not isinstance(step, AsicStep):
                items.append(("pim_kv", slot[i]) if i in slot else ("pim", step))
                continue
            if not items or items[-1][0] != "idle":
                items.append(["idle", 0, 0, []])
            if i in slot:
                items[-1][3].append(slot[i])
            elif step.category == "transfer":
                items[-1][2] += step.cycles
            else:
                items[-1][1] += step.cycles
        return [tuple(it[:3]) + (tuple(it[3]),) if it[0] == "idle" else it for it in items]

    def _idle(self, asic: int, transfer: int) -> tuple:
        key = (asic, transfer)
        out = self._idle_steps.get(key)
        if out is None:
            out = self._idle_steps[key] = tuple(
                AsicStep("idle", c, cat) for c, cat in ((asic, "asic"), (transfer, "transfer"))
                if c)
        return out

    def __call__(self, kv_len: int) -> list:
        new = self.plan.steps(kv_len, runs=self.runs, only=self.positions)
        if not self.compact:
            steps = list(self.template)
            for i, s in zip(self.positions, new):
                steps[i] = s
            return steps
        out: list = []
        for item in self._program:
            kind = item[0]
            if kind == "pim":
                out.append(item[1])
            elif kind == "pim_kv":
                out.append(new[item[1]])
            else:
                out.extend(self._idle(item[1] + sum(new[k].cycles for k in item[3]), item[2]))
        return out

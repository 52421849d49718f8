"""A cascade: a DAG of extended Einsums over named tensors (TeAAL / FuseMax).

Edges run from the Einsum that writes a tensor to each Einsum that reads it. The only cycles
allowed are recurrences over an *iterative rank* (FuseMax's 1-pass softmax: RM[m1+1] depends on
RM[m1]); an edge whose consumer reads an earlier step than its producer writes is
*loop-carried*, and the graph without those edges must be acyclic.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import networkx as nx
import numpy as np

from ..errors import SpecError
from . import execute
from .einsum import Access, Einsum
from .stats import EinsumStats, einsum_stats
from .tensor import TensorSpec


@dataclass(frozen=True)
class Cascade:
    name: str
    tensors: dict[str, TensorSpec]
    einsums: tuple[Einsum, ...]
    rank_sizes: dict[str, int]
    outputs: tuple[str, ...] = ()
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.validate()

    # ---------------------------------------------------------------- structure
    @cached_property
    def producer(self) -> dict[str, str]:
        """tensor name -> name of the Einsum that writes it."""
        prod: dict[str, str] = {}
        for e in self.einsums:
            prod[e.output.tensor] = e.name
        return prod

    @cached_property
    def by_name(self) -> dict[str, Einsum]:
        return {e.name: e for e in self.einsums}

    @cached_property
    def _position(self) -> dict[str, int]:
        return {e.name: i for i, e in enumerate(self.einsums)}

    @cached_property
    def inputs(self) -> tuple[str, ...]:
        """Tensors no Einsum writes: weights, tokens, tables, the KV cache read by a decode step."""
        return tuple(n for n in self.tensors if n not in self.producer)

    @cached_property
    def graph(self) -> nx.DiGraph:
        g = nx.DiGraph()
        for e in self.einsums:
            g.add_node(e.name)
        for e in self.einsums:
            for acc in e.inputs:
                src = self.producer.get(acc.tensor)
                if src is not None:
                    carried = self._carried(self.by_name[src].output, acc)
                    if g.has_edge(src, e.name):
                        carried = carried and g.edges[src, e.name]["carried"]
                    g.add_edge(src, e.name, tensor=acc.tensor, carried=carried)
        return g

    @staticmethod
    def _carried(written: Access, read: Access) -> bool:
        """True when `read` takes an earlier step of an iterative rank than `written` produces."""
        for w, r in zip(written.index, read.index):
            if w.terms == r.terms and w.terms and r.const < w.const:
                return True
        return False

    @cached_property
    def schedule(self) -> tuple[tuple[str | None, tuple[str, ...]], ...]:
        """Execution order: groups of Einsums, each with the iterative rank it steps over (or None)."""
        g = self.graph
        cond = nx.condensation(g)
        groups = []
        first = {n: min(self._position[m] for m in cond.nodes[n]["members"]) for n in cond.nodes}
        for node in nx.lexicographical_topological_sort(cond, key=first.__getitem__):
            members = sorted(cond.nodes[node]["members"], key=self._position.__getitem__)
            cyclic = len(members) > 1 or g.has_edge(members[0], members[0])
            rank = self._iterative_rank(tuple(members)) if cyclic else None
            inner = g.subgraph(members).copy()
            inner.remove_edges_from([(u, v) for u, v, c in inner.edges(data="carried") if c])
            if not nx.is_directed_acyclic_graph(inner):
                raise SpecError(f"Einsum {members[0]}: cycle through {', '.join(members)} within one step of rank {rank}")
            order = tuple(nx.lexicographical_topological_sort(inner, key=self._position.__getitem__))
            groups.append((rank, order))
        return tuple(groups)

    def _iterative_rank(self, members: tuple[str, ...]) -> str:
        for name in members:
            for expr in self.by_name[name].output.index:
                if len(expr.terms) == 1 and expr.const != 0:
                    return expr.terms[0][0]
        raise SpecError(f"Einsum {members[0]}: cycle through {', '.join(members)} without an iterative rank")

    # --------------------------------------------------------------- validation
    def validate(self) -> None:
        names = set()
        for e in self.einsums:
            if e.name in names:
                raise SpecError(f"Einsum {e.name}: name used twice")
            names.add(e.name)
            e.check_form()
        written: dict[str, str] = {}
        for e in self.einsums:
            if e.output.tensor in written:
                raise SpecError(f"Einsum {e.name}: tensor {e.output.tensor} already written by {written[e.output.tensor]}")
            written[e.output.tensor] = e.name
        for e in self.einsums:
            for rank in e.ranks:
                if rank not in self.rank_sizes:
                    raise SpecError(f"Einsum {e.name}: rank {rank} has no size")
            for acc in (e.output, *e.inputs):
                self._check_access(e, acc, acc is e.output)
        for out in self.outputs:
            if out not in self.tensors:
                raise SpecError(f"cascade {self.name}: output {out} is not a tensor")
        for e in self.einsums:
            if e.kind == "einsum" and e.output.tensor in self.tensors:
                spec = self.tensors[e.output.tensor]
                if spec.init is None and not _exact_cover(e.output, spec, self.rank_sizes):
                    raise SpecError(
                        f"Einsum {e.name}: output {e.output} does not cover tensor {spec.name} exactly "
                        f"once, so the tensor needs an init value"
                    )
        self.schedule

    def _check_access(self, e: Einsum, acc: Access, is_output: bool) -> None:
        spec = self.tensors.get(acc.tensor)
        if spec is None:
            raise SpecError(f"Einsum {e.name}: tensor {acc.tensor} is not declared")
        if e.kind == "gather" and acc is e.inputs[0]:
            return
        if len(acc.index) != len(spec.ranks):
            raise SpecError(f"Einsum {e.name}: {acc} has {len(acc.index)} indices; tensor {spec.name} has ranks {spec.ranks}")
        if e.kind == "append":
            return
        ranges = {r: (0, self.rank_sizes[r]) for r in acc.ranks}
        for rank, size, expr in zip(spec.ranks, spec.shape, acc.index):
            lo, hi = expr.bounds(ranges)
            plain = expr.plain_rank
            if plain is not None and spec.init is None and not spec.lookup and self.rank_sizes[plain] != size:
                raise SpecError(
                    f"Einsum {e.name}: rank {plain} has size {self.rank_sizes[plain]} but tensor "
                    f"{spec.name} has size {size} in rank {rank}"
                )
            if (lo < 0 or hi >= size) and (acc.fill is None or is_output):
                raise SpecError(
                    f"Einsum {e.name}: index {expr} of {spec.name} spans {lo}..{hi}, outside rank {rank} "
                    f"of size {size} (give the access a fill value to pad)"
                )

    # ---------------------------------------------------------------- execution
    def evaluate(self, inputs: dict[str, np.ndarray], keep: str = "outputs") -> dict[str, np.ndarray]:
        """Execute Einsum by Einsum in float64. Returns the cascade outputs (or all tensors
        with keep="all")."""
        values: dict[str, np.ndarray] = {}
        for name in self.inputs:
            spec = self.tensors[name]
            if name not in inputs:
                if spec.init is not None:
                    values[name] = np.full(spec.shape, spec.init)
                    continue
                raise SpecError(f"cascade {self.name}: missing input tensor {name}")
            arr = np.asarray(inputs[name], dtype=np.float64)
            if arr.shape != spec.shape:
                raise SpecError(f"cascade {self.name}: input {name} has shape {arr.shape}; expected {spec.shape} for ranks {spec.ranks}")
            values[name] = arr
        for name in self.producer:
            spec = self.tensors[name]
            if spec.init is not None:
                values[name] = np.full(spec.shape, spec.init)
        full = {r: (0, n) for r, n in self.rank_sizes.items()}
        for rank, members in self.schedule:
            steps = [full] if rank is None else [{**full, rank: (i, i + 1)} for i in range(self.rank_sizes[rank])]
            for ranges in steps:
                for name in members:
                    self._run(self.by_name[name], values, ranges)
        wanted = self.outputs if keep == "outputs" else tuple(values)
        return {n: values[n] for n in wanted}

    def _run(self, e: Einsum, values: dict[str, np.ndarray], ranges: execute.Ranges) -> None:
        spec = self.tensors[e.output.tensor]
        if e.kind == "gather":
            values[spec.name] = execute.gather(e, self.tensors, values)
            return
        if e.kind == "append":
            values[spec.name] = execute.append(e, self.tensors, values)
            return
        if spec.name not in values:
            values[spec.name] = np.full(spec.shape, np.nan if spec.init is None else spec.init)
        result = execute.compute(e, self.tensors, values, ranges)
        execute.write(e.output, spec, values[spec.name], result, ranges)

    # --------------------------------------------------------------- accounting
    @cached_property
    def stats(self) -> tuple[EinsumStats, ...]:
        return tuple(einsum_stats(e, self.tensors, self.rank_sizes) for e in self.einsums)

    def table(self):
        """One row per Einsum: ops by kind, MACs, bytes read/written, arithmetic intensity (a copy
        of a table built once per cascade)."""
        return self._table.copy()

    def memoized(self, key, compute):
        """`compute()` once per cascade and `key`: for figures that depend on the cascade alone
        (a baseline's latency, a mapping of a fixed architecture), reused across design points."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    @cached_property
    def _memo(self) -> dict:
        return {}

    @cached_property
    def _table(self):
        import pandas as pd

        rows = []
        for e, s in zip(self.einsums, self.stats):
            row = {
                "einsum": e.name,
                "layer": e.layer,
                "group": e.group,
                "kind": e.kind,
                "macs": s.macs,
                "ops": s.total_ops,
                "bytes_read": s.total_read,
                "bytes_written": s.total_written,
                "intensity": s.intensity,
            }
            row.update({f"op_{k}": v for k, v in s.ops.items()})
            rows.append(row)
        df = pd.DataFrame(rows)
        op_cols = sorted(c for c in df.columns if c.startswith("op_"))
        df[op_cols] = df[op_cols].fillna(0)
        for col in op_cols:
            if df[col].map(abs).max() < 2**63:  # counts past int64 stay exact Python integers
                df[col] = df[col].astype("int64")
        return df


def _exact_cover(access: Access, spec: TensorSpec, rank_sizes: dict[str, int]) -> bool:
    """True when the output access writes every element of `spec` exactly once: each index is a
    plain rank or a partition `outer*c + inner` with inner of size c, each rank used once."""
    used: list[str] = []
    for expr, size in zip(access.index, spec.shape):
        if expr.const != 0:
            return False
        if expr.plain_rank is not None:
            if rank_sizes[expr.plain_rank] != size:
                return False
        else:
            if len(expr.terms) != 2:
                return False
            (r1, c1), (r2, c2) = expr.terms
            (outer, c), (inner, unit) = ((r1, c1), (r2, c2)) if c1 > c2 else ((r2, c2), (r1, c1))
            if unit != 1 or rank_sizes[inner] != c or rank_sizes[outer] * c != size:
                return False
        used += list(expr.ranks)
    return len(used) == len(set(used))

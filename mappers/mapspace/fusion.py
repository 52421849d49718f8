"""Greedy fusion along a cascade's DAG: which intermediates stay in the global buffer.

Rule (the roofline family's `search-fused` mapping). Walk the Einsums in execution order
(`cascade.schedule` flattened). The tensor t an Einsum p writes is fused with its consumer c when

* t is an `activation` that is not a cascade output, and exactly one Einsum reads it (c: p's only
  successor in `cascade.graph`, whose edge is labelled t) — a tensor with two consumers, the KV
  cache, a cascade output still goes to DRAM;
* neither p nor c belongs to an iterative (recurrent) schedule group;
* t fits: at every Einsum from p to c in execution order (t is live that whole time),
  `footprint` (the bytes the Einsum's nest keeps in the buffer; 0 for an Einsum without a nest,
  whose operands stream) + the tensors already fused and live there + t's bytes ≤ `capacity`.

Fusing t removes, from p, the bytes p writes of t and, from c, the bytes c reads of t (the
cascade's compulsory bytes, `cascade.stats`; for an Einsum costed by a nest, counted at the nest's
element size `element_bytes[name]`), each capped at the Einsum's off-chip bytes. Fused edges join
their Einsums into chains; each connected chain is one fusion group named after its first member.
"""
from __future__ import annotations

from sim.pe_array.fusion import FusionPlan


def execution_order(cascade) -> tuple[list[str], set[str]]:
    """The Einsums in execution order, and those inside iterative (recurrent) groups."""
    order, iterative = [], set()
    for rank, members in cascade.schedule:
        order.extend(members)
        if rank is not None:
            iterative.update(members)
    return order, iterative


def candidate(cascade, producer: str, iterative: set[str]) -> tuple[str, str] | None:
    """(tensor, its single consumer) when `producer`'s output may be fused, else None."""
    if producer in iterative:
        return None
    tensor = cascade.by_name[producer].output.tensor
    spec = cascade.tensors[tensor]
    if spec.role != "activation" or tensor in cascade.outputs:
        return None
    succ = list(cascade.graph.successors(producer))
    if len(succ) != 1 or succ[0] in iterative or succ[0] == producer:
        return None
    edge = cascade.graph.edges[producer, succ[0]]
    if edge["carried"] or edge["tensor"] != tensor:
        return None
    return tensor, succ[0]


def charged(cascade, stats: dict, einsum: str, tensor: str, written: bool, element_bytes: dict) -> float:
    """The bytes `einsum` moves of `tensor` off chip when unfused (module docstring)."""
    s = stats[einsum]
    nbytes = s.bytes_written.get(tensor, 0.0) if written else s.bytes_read.get(tensor, 0.0)
    elem = element_bytes.get(einsum)
    if elem is not None:
        spec = cascade.tensors[tensor]
        nbytes *= elem / (spec.bytes / spec.elements)
    return nbytes


def groups_of(order: list[str], edges: list[tuple[str, str]]) -> dict[str, str]:
    """Einsum -> fusion group (connected fused chains, named after their first member), '' alone."""
    parent = {n: n for n in order}

    def root(n):
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    pos = {n: i for i, n in enumerate(order)}
    for a, b in edges:
        ra, rb = root(a), root(b)
        if ra != rb:
            first, other = (ra, rb) if pos[ra] < pos[rb] else (rb, ra)
            parent[other] = first
    members = {n for e in edges for n in e}
    return {n: (f"fused:{root(n)}" if n in members else "") for n in order}


def fuse(cascade, capacity: float, footprint: dict, offchip: dict, element_bytes: dict | None = None) -> FusionPlan:
    """The greedy fusion of `cascade` (module docstring): `footprint` and `offchip` per Einsum name."""
    element_bytes = element_bytes or {}
    order, iterative = execution_order(cascade)
    pos = {n: i for i, n in enumerate(order)}
    stats = {s.name: s for s in cascade.stats}
    live = {n: float(footprint.get(n, 0.0)) for n in order}
    removed = {n: 0.0 for n in order}
    edges, tensors = [], []
    for p in order:
        found = candidate(cascade, p, iterative)
        if found is None:
            continue
        tensor, c = found
        size = cascade.tensors[tensor].bytes
        window = order[pos[p]:pos[c] + 1] if pos[c] > pos[p] else []
        if not window or any(live[n] + size > capacity for n in window):
            continue
        for n in window:
            live[n] += size
        for n, written in ((p, True), (c, False)):
            saved = charged(cascade, stats, n, tensor, written, element_bytes)
            removed[n] = min(float(offchip[n]), removed[n] + saved)
        edges.append((p, c))
        tensors.append(tensor)
    return FusionPlan(groups=groups_of(order, edges), removed={n: b for n, b in removed.items() if b > 0},
                      tensors=tuple(tensors))

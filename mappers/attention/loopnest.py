"""Explicit loop nests for one attention head, and the exact off-chip traffic counter.

A loop nest is a tree. A :class:`Loop` walks one rank (``"q"``: query rows, ``"kv"``: key/value
rows) in tiles of ``tile`` rows; the last tile is ragged when the tile does not divide the extent.
The head dimension is never tiled: a row of Q, K, V or O is moved whole. An :class:`Access` in a
loop body touches the tile of a tensor selected by the innermost enclosing loop on each rank the
tensor is indexed by (a rank with no enclosing loop is taken whole). A :class:`Compute` marks where
the score tile of the enclosing q and kv loops is computed (it moves no data; it counts pairs).

Residency model (two levels: off-chip memory and one on-chip buffer): every access owns one buffer
slot that holds one tile. Executing an access whose tile differs from the one its slot holds starts
a *run* of that tile:

* ``read``   — the tile is loaded (its bytes are read off chip);
* ``write``  — the tile is produced on chip and written back once when the run ends;
* ``update`` — an accumulator (FlashAttention-1's O, ℓ, m): loaded only if an earlier run of the same
  access already wrote it, then written back when the run ends.

Consecutive executions of the same tile therefore reuse it (e.g. K stays resident under a loop that
does not index K). With causal masking and ``skip_masked`` set, executions whose (q, kv) tile is
fully masked are skipped entirely.

Two loop-order refinements (Q-outer FlashAttention-2 / FuseMax): a ``serpentine`` innermost loop
runs its tiles in reverse on every second execution, and a read access with ``keep = w`` holds
the last ``w`` distinct tiles it loaded (least recently used evicted), so a reversed sweep starts
on the ``w`` tiles the previous sweep ended with. The counter's rule for a sweep — the leading run
of its tiles found among the held ones is reused, the rest loaded — is least-recently-used
replacement for a scan of distinct tiles; the brute-force replay test simulates LRU element by
element. Builders use ``keep > 1`` and ``serpentine`` only where sweeps are whole (no causal tile
skipping).

The counter walks the tree loop by loop; only the innermost loop of a branch is evaluated with numpy
over all of its tiles at once (same semantics, per tile, just vectorized), so layers of a million
tokens count in well under a second per nest.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union

import numpy as np

from mappers.attention.layer import AttentionLayer
from workloads.errors import SpecError

Rank = Literal["q", "kv"]
AccessKind = Literal["read", "write", "update"]


@dataclass(frozen=True)
class TensorSpec:
    """A tensor of one head: the ranks it is indexed by, elements per row and bytes per element."""

    name: str
    ranks: tuple[Rank, ...]
    row_elements: int
    bytes_per_element: int


@dataclass(frozen=True)
class Access:
    """Read, write or update the current tile of ``tensor`` at this point of the nest."""

    tensor: str
    kind: AccessKind
    keep: int = 1


@dataclass(frozen=True)
class Compute:
    """The score tile (current q tile × current kv tile) is computed here."""

    label: str = "S"


@dataclass(frozen=True)
class Loop:
    """Iterate ``rank`` in tiles of ``tile`` rows (ragged last tile), running ``body`` each time."""

    rank: Rank
    tile: int
    body: tuple["Node", ...]
    serpentine: bool = False


Node = Union[Loop, Access, Compute]


@dataclass(frozen=True)
class LoopNest:
    """One pass over the data (a fused kernel, or one Einsum of an unfused cascade).

    ``q_heads`` > 1 packs query heads (grouped-query attention): the ``q`` rank runs over the rows
    of ``q_heads`` query heads that share one K/V head, stacked head after head (packed row r is
    row r mod n_q of head r div n_q), so a query tile may hold rows of several heads and one K/V
    sweep serves all of them. One nest instance then covers ``q_heads`` query heads."""

    name: str
    body: tuple[Node, ...]
    q_heads: int = 1


@dataclass(frozen=True)
class TrafficCount:
    """Off-chip bytes per tensor for a whole layer (all batches and heads)."""

    read_bytes: dict[str, int]
    write_bytes: dict[str, int]
    computed_pairs: int

    @property
    def total_read_bytes(self) -> int:
        return sum(self.read_bytes.values())

    @property
    def total_write_bytes(self) -> int:
        return sum(self.write_bytes.values())

    @property
    def total_bytes(self) -> int:
        return self.total_read_bytes + self.total_write_bytes


def tensor_specs(layer: AttentionLayer) -> dict[str, TensorSpec]:
    """The tensors of one head: Q, K, V, O (rows of head_dim), S, P (scores), m, l (row stats)."""
    d, b, sb = layer.head_dim, layer.bytes_per_element, layer.stat_bytes_per_element
    return {
        "Q": TensorSpec("Q", ("q",), d, b),
        "K": TensorSpec("K", ("kv",), d, b),
        "V": TensorSpec("V", ("kv",), d, b),
        "O": TensorSpec("O", ("q",), d, b),
        "S": TensorSpec("S", ("q", "kv"), 1, b),
        "P": TensorSpec("P", ("q", "kv"), 1, b),
        "m": TensorSpec("m", ("q",), 1, sb),
        "l": TensorSpec("l", ("q",), 1, sb),
    }


def last_row_in_head(q_lo, q_hi, n_q: int, q_heads: int = 1):
    """The largest in-head row index among packed query rows [q_lo, q_hi) (arrays allowed): the
    last row itself, or n_q − 1 when the tile spans a head boundary."""
    last = q_hi - 1
    if q_heads == 1:
        return last
    return np.where(q_lo // n_q == last // n_q, last % n_q, n_q - 1)


def validate_nest(nest: LoopNest, tensors: dict[str, TensorSpec],
                  layer: AttentionLayer | None = None) -> None:
    """Reject nests that reference unknown tensors, bad tiles, or a rank tiled twice on one path."""
    if not isinstance(nest.q_heads, int) or isinstance(nest.q_heads, bool) or nest.q_heads < 1 or (
            layer is not None and layer.group_size % nest.q_heads):
        raise SpecError(f"{nest.name}: q_heads must be a positive divisor of the GQA group size, "
                        f"got {nest.q_heads!r}")
    def visit(body: tuple[Node, ...], ranks: tuple[str, ...]) -> None:
        for node in body:
            if isinstance(node, Loop):
                if node.rank not in ("q", "kv"):
                    raise SpecError(f"{nest.name}: loop rank must be 'q' or 'kv', got {node.rank!r}")
                if not isinstance(node.tile, int) or node.tile < 1:
                    raise SpecError(f"{nest.name}: tile of {node.rank} must be >= 1, got {node.tile!r}")
                if node.rank in ranks:
                    raise SpecError(f"{nest.name}: rank {node.rank} tiled twice on one path")
                if node.serpentine and any(isinstance(c, Loop) for c in node.body):
                    raise SpecError(f"{nest.name}: only an innermost loop can be serpentine")
                visit(node.body, ranks + (node.rank,))
            elif isinstance(node, Access):
                if node.tensor not in tensors:
                    raise SpecError(f"{nest.name}: unknown tensor {node.tensor!r}")
                if node.kind not in ("read", "write", "update"):
                    raise SpecError(f"{nest.name}: bad access kind {node.kind!r}")
                if not isinstance(node.keep, int) or node.keep < 1 or (
                        node.keep > 1 and (node.kind != "read" or tensors[node.tensor].ranks
                                           != ranks[-1:] or not ranks)):
                    raise SpecError(f"{nest.name}: keep={node.keep!r} needs a read of a tensor "
                                    "indexed only by the innermost loop's rank")
    visit(nest.body, ())


@dataclass
class _SlotState:
    last_key: tuple | None = None
    touched: dict = field(default_factory=dict)
    held: list = field(default_factory=list)


class _Counter:
    def __init__(self, layer: AttentionLayer, tensors: dict[str, TensorSpec], skip_masked: bool,
                 q_heads: int = 1):
        self.layer = layer
        self.tensors = tensors
        self.skip = skip_masked and layer.causal
        self.q_heads = q_heads
        self.extent = {"q": q_heads * layer.n_q, "kv": layer.n_kv}
        self.reads: dict[str, int] = {}
        self.writes: dict[str, int] = {}
        self.pairs = 0
        self.slots: dict[tuple, _SlotState] = {}
        self.executions: dict[tuple, int] = {}

    # env: rank -> (tile index, lo, hi) of the innermost enclosing loop on that rank
    def walk(self, body: tuple[Node, ...], env: dict, path: tuple) -> None:
        for pos, node in enumerate(body):
            where = path + (pos,)
            if isinstance(node, Loop):
                if any(isinstance(child, Loop) for child in node.body):
                    ext = self.extent[node.rank]
                    for t in range(-(-ext // node.tile)):
                        lo = t * node.tile
                        inner = dict(env)
                        inner[node.rank] = (t, lo, min(lo + node.tile, ext))
                        self.walk(node.body, inner, where)
                else:
                    self.sweep(node, env, where)
            else:
                self.single(node, env, where)

    def _range(self, rank: str, env: dict) -> tuple[int, int, int]:
        return env.get(rank, (-1, 0, self.extent[rank]))

    def _masked(self, q_lo, q_hi, kv_lo, kv_hi):
        off = self.layer.causal_offset
        return (last_row_in_head(q_lo, q_hi, self.layer.n_q, self.q_heads) + off) < kv_lo

    def single(self, node: Access | Compute, env: dict, where: tuple) -> None:
        _, q_lo, q_hi = self._range("q", env)
        _, kv_lo, kv_hi = self._range("kv", env)
        if self.skip and self._masked(q_lo, q_hi, kv_lo, kv_hi):
            return
        if isinstance(node, Compute):
            self.pairs += (q_hi - q_lo) * (kv_hi - kv_lo)
            return
        spec = self.tensors[node.tensor]
        key = tuple(self._range(r, env)[0] for r in spec.ranks)
        nbytes = spec.row_elements * spec.bytes_per_element
        for r in spec.ranks:
            _, lo, hi = self._range(r, env)
            nbytes *= hi - lo
        slot = self.slots.setdefault(where, _SlotState())
        if slot.last_key == key:
            return
        slot.last_key = key
        self._run_start(node, spec, nbytes, slot.touched.get(key, False))
        slot.touched[key] = True

    def _run_start(self, node: Access, spec: TensorSpec, nbytes: int, touched: bool) -> None:
        if node.kind == "read" or (node.kind == "update" and touched):
            self.reads[spec.name] = self.reads.get(spec.name, 0) + int(nbytes)
        if node.kind in ("write", "update"):
            self.writes[spec.name] = self.writes.get(spec.name, 0) + int(nbytes)

    def _active(self, loop: Loop, env: dict, where: tuple):
        """The tiles of ``loop`` that run in this execution (fully masked ones skipped), in run
        order (reversed on every second execution of a serpentine loop), their lengths, and the
        other rank's range; None when every tile is masked."""
        ext = self.extent[loop.rank]
        tiles = np.arange(-(-ext // loop.tile), dtype=np.int64)
        lo = tiles * loop.tile
        hi = np.minimum(lo + loop.tile, ext)
        other = "kv" if loop.rank == "q" else "q"
        _, o_lo, o_hi = self._range(other, env)
        if self.skip:
            q_lo, q_hi = (lo, hi) if loop.rank == "q" else (o_lo, o_hi)
            kv_lo, kv_hi = (o_lo, o_hi) if loop.rank == "q" else (lo, hi)
            active = ~np.broadcast_to(self._masked(q_lo, q_hi, kv_lo, kv_hi), tiles.shape)
        else:
            active = np.ones(tiles.shape, dtype=bool)
        if not active.any():
            return None
        act_tiles, act_len = tiles[active], (hi - lo)[active]
        runs = self.executions.get(where, 0)
        self.executions[where] = runs + 1
        if loop.serpentine and runs % 2:
            act_tiles, act_len = act_tiles[::-1], act_len[::-1]
        return act_tiles, act_len, (o_lo, o_hi), tiles.size

    def sweep(self, loop: Loop, env: dict, where: tuple) -> None:
        """One execution of an innermost loop: every access of its body over all its tiles at once."""
        active = self._active(loop, env, where)
        if active is None:
            return
        act_tiles, act_len, (o_lo, o_hi), n_tiles = active
        for pos_in_body, node in enumerate(loop.body):
            if isinstance(node, Compute):
                self.pairs += int(act_len.sum()) * (o_hi - o_lo)
                continue
            spec = self.tensors[node.tensor]
            slot = self.slots.setdefault(where + (pos_in_body,), _SlotState())
            base = spec.row_elements * spec.bytes_per_element
            for r in spec.ranks:
                if r != loop.rank:
                    _, r_lo, r_hi = self._range(r, env)
                    base *= r_hi - r_lo
            if loop.rank not in spec.ranks:
                self._fixed_tile(node, spec, slot, env, base)
            elif node.keep > 1:
                self._held_sweep(node, spec, slot, act_tiles, act_len * base)
            else:
                prefix = tuple(self._range(r, env)[0] for r in spec.ranks if r != loop.rank)
                self._run_sweep(node, spec, slot, prefix, spec.ranks.index(loop.rank), act_tiles,
                                act_len * base, n_tiles)

    def _fixed_tile(self, node: Access, spec: TensorSpec, slot: _SlotState, env: dict, nbytes: int) -> None:
        """An access the loop does not index: one tile for the whole sweep."""
        key = tuple(self._range(r, env)[0] for r in spec.ranks)
        if slot.last_key != key:
            slot.last_key = key
            self._run_start(node, spec, nbytes, slot.touched.get(key, False))
            slot.touched[key] = True

    def _held_sweep(self, node: Access, spec: TensorSpec, slot: _SlotState, keys_t, sizes) -> None:
        """A read holding its last ``keep`` tiles (LRU): the sweep's leading run of held tiles is reused."""
        held_set = set(slot.held)
        hits = 0
        while hits < keys_t.size and (int(keys_t[hits]),) in held_set:
            hits += 1
        self.reads[spec.name] = self.reads.get(spec.name, 0) + int(sizes[hits:].sum())
        seq = [(int(t),) for t in keys_t[-node.keep:]]
        slot.held = ([k for k in slot.held if k not in seq] + seq)[-node.keep:]
        slot.last_key = slot.held[-1]

    def _run_sweep(self, node: Access, spec: TensorSpec, slot: _SlotState, prefix: tuple, pos: int,
                   keys_t, sizes, n_tiles: int) -> None:
        """An access indexed by the loop's rank: a run per tile, but the first when its slot holds it."""
        first_key = prefix[:pos] + (int(keys_t[0]),) + prefix[pos:]
        start = 1 if slot.last_key == first_key else 0
        slot.last_key = prefix[:pos] + (int(keys_t[-1]),) + prefix[pos:]
        run_t, run_bytes = keys_t[start:], sizes[start:]
        if node.kind == "read":
            self.reads[spec.name] = self.reads.get(spec.name, 0) + int(run_bytes.sum())
            return
        self.writes[spec.name] = self.writes.get(spec.name, 0) + int(run_bytes.sum())
        if node.kind == "update":
            seen = slot.touched.setdefault(prefix, np.zeros(n_tiles, dtype=bool))
            self.reads[spec.name] = self.reads.get(spec.name, 0) + int(run_bytes[seen[run_t]].sum())
            seen[run_t] = True


def count_traffic(nests: tuple[LoopNest, ...], layer: AttentionLayer, *,
                  skip_masked: bool = True) -> TrafficCount:
    """Exact off-chip bytes of running ``nests`` in order, for every (batch, head) instance.

    Each (batch, query head) runs the same nests on its own rows; no data is shared between
    instances (K/V of a GQA group are re-read per query head), so the per-head count is multiplied
    by ``layer.instances``. A nest with ``q_heads`` > 1 covers that many query heads of one group
    at once, so its count is multiplied by ``layer.instances // q_heads``.
    """
    tensors = tensor_specs(layer)
    for nest in nests:
        validate_nest(nest, tensors, layer)
    reads: dict[str, int] = {}
    writes: dict[str, int] = {}
    pairs = 0
    for nest in nests:
        counter = _Counter(layer, tensors, skip_masked, nest.q_heads)
        counter.walk(nest.body, {}, (nest.name,))
        n = layer.instances // nest.q_heads
        for k, v in counter.reads.items():
            reads[k] = reads.get(k, 0) + v * n
        for k, v in counter.writes.items():
            writes[k] = writes.get(k, 0) + v * n
        pairs += counter.pairs * n
    return TrafficCount(
        read_bytes={k: v for k, v in sorted(reads.items()) if v},
        write_bytes={k: v for k, v in sorted(writes.items()) if v},
        computed_pairs=pairs,
    )

"""The exact traffic counter against a brute-force replay of the loop nests.

The replay iterates every iteration of every loop (no vectorization, no arithmetic on tile counts),
decides masking by enumerating every (i, j) pair of a tile, and simulates the on-chip buffer as an
explicit residency set: each access owns a slot holding a set of elements (rows of Q/K/V/O/m/ℓ,
single scores of S/P) with dirty bits, and DRAM remembers which elements were ever written back.
Bytes moved are counted element by element. It also checks that every needed (query, key) pair is
computed exactly once and that the slots never hold more than the mapping's reported footprint.
With GQA head packing (a nest's ``q_heads`` > 1) the q rank enumerates the rows of the group's
heads one head after another, and pairs are recorded as (head, query row, key row).
"""
from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mappers.attention.designs import (
    DESIGNS,
    ORDER_VARIANTS,
    PACKING_DESIGNS,
    build,
    unfused_on_chip_bytes,
)
from mappers.attention.layer import AttentionLayer
from mappers.attention.loopnest import Compute, Loop, tensor_specs


class _Slot:
    def __init__(self):
        self.elements: frozenset = frozenset()
        self.dirty: set = set()
        self.held: list[frozenset] = []     # read accesses with keep > 1: tiles, LRU first

    def size(self):
        return len(self.elements) + sum(len(tile) for tile in self.held)


def replay(mapping):
    """Per-instance reads, writes, computed (head, query, key) triples and peak occupancy, plus
    the number of instances (batch × heads, divided by the packed heads)."""
    layer = mapping.layer
    specs = tensor_specs(layer)
    (q_heads,) = {nest.q_heads for nest in mapping.nests}
    extent = {"q": q_heads * layer.n_q, "kv": layer.n_kv}
    off = layer.n_kv - layer.n_q
    skip = mapping.skip_masked and layer.causal
    reads: dict[str, int] = {}
    writes: dict[str, int] = {}
    dram_written: dict[str, set] = {name: set() for name in specs}
    computed: list[tuple[int, int]] = []
    peak = 0

    def elem_bytes(tensor):
        s = specs[tensor]
        return s.row_elements * s.bytes_per_element

    def flush(slot, tensor):
        if slot.dirty:
            writes[tensor] = writes.get(tensor, 0) + len(slot.dirty) * elem_bytes(tensor)
            dram_written[tensor] |= slot.dirty
        slot.elements = frozenset()
        slot.dirty = set()

    def rows(rank, env):
        return env.get(rank, range(extent[rank]))

    def fully_masked(env):
        if not skip:
            return False
        return all(j > r % layer.n_q + off for r in rows("q", env) for j in rows("kv", env))

    for nest in mapping.nests:
        slots: dict[tuple, tuple[_Slot, str]] = {}
        executions: dict[tuple, int] = {}

        def run(body, env, path):
            nonlocal peak
            for pos, node in enumerate(body):
                where = path + (pos,)
                if isinstance(node, Loop):
                    n = extent[node.rank]
                    starts = list(range(0, n, node.tile))
                    runs = executions.get(where, 0)
                    executions[where] = runs + 1
                    if node.serpentine and runs % 2:
                        starts.reverse()
                    for lo in starts:
                        inner = dict(env)
                        inner[node.rank] = range(lo, min(lo + node.tile, n))
                        run(node.body, inner, where)
                    continue
                if fully_masked(env):
                    continue
                if isinstance(node, Compute):
                    computed.extend((r // layer.n_q, r % layer.n_q, j)
                                    for r in rows("q", env) for j in rows("kv", env))
                    continue
                spec = specs[node.tensor]
                elements = frozenset(itertools.product(*(rows(r, env) for r in spec.ranks)))
                slot, _ = slots.setdefault(where, (_Slot(), node.tensor))
                if node.keep > 1:
                    if elements in slot.held:
                        slot.held.remove(elements)
                    else:
                        reads[node.tensor] = reads.get(node.tensor, 0) + len(elements) * elem_bytes(
                            node.tensor)
                        if len(slot.held) == node.keep:
                            slot.held.pop(0)
                    slot.held.append(elements)
                elif slot.elements != elements:
                    flush(slot, node.tensor)
                    if node.kind == "read":
                        loaded = elements
                    elif node.kind == "update":
                        loaded = elements & dram_written[node.tensor]
                    else:
                        loaded = frozenset()
                    reads[node.tensor] = reads.get(node.tensor, 0) + len(loaded) * elem_bytes(
                        node.tensor)
                    slot.elements = elements
                if node.kind in ("write", "update"):
                    slot.dirty |= elements
                occupancy = sum(s.size() * elem_bytes(t) for s, t in slots.values())
                peak = max(peak, occupancy)

        run(nest.body, {}, ())
        for slot, tensor in slots.values():
            flush(slot, tensor)
    reads = {k: v for k, v in reads.items() if v}
    writes = {k: v for k, v in writes.items() if v}
    return reads, writes, computed, peak, layer.batch * layer.heads // q_heads


def _needed_pairs(layer, q_heads):
    off = layer.n_kv - layer.n_q
    return {(h, i, j) for h in range(q_heads) for i in range(layer.n_q) for j in range(layer.n_kv)
            if not layer.causal or j <= i + off}


def _mapping(design, layer, q_tile, kv_tile, skip, keep=1, serpentine=False, pack=False):
    if design == "unfused":
        buffer = unfused_on_chip_bytes(layer) - 1
    else:
        buffer = 10**9
    return build(design, layer, buffer, q_tile, kv_tile, skip_masked=skip, kv_keep=keep,
                 serpentine=serpentine, pack_heads=pack)


def _check(mapping):
    layer = mapping.layer
    reads, writes, computed, peak, n = replay(mapping)
    t = mapping.traffic
    assert t.read_bytes == {k: v * n for k, v in sorted(reads.items())}
    assert t.write_bytes == {k: v * n for k, v in sorted(writes.items())}
    assert t.computed_pairs == len(computed) * n
    q_heads = layer.group_size if mapping.pack_heads else 1
    assert set(computed) >= _needed_pairs(layer, q_heads)
    assert len(computed) == len(set(computed))
    assert peak <= mapping.footprint_bytes


@pytest.mark.parametrize("design", DESIGNS)
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("n_q,n_kv,q_tile,kv_tile", [
    (7, 7, 3, 2), (8, 8, 4, 4), (5, 9, 2, 4), (9, 9, 9, 1), (6, 11, 5, 3), (1, 13, 1, 5),
])
def test_attn_counter_equals_replay_grid(design, causal, n_q, n_kv, q_tile, kv_tile):
    layer = AttentionLayer(n_q=n_q, n_kv=n_kv, head_dim=3, batch=2, heads=2, causal=causal)
    for skip in (True, False):
        _check(_mapping(design, layer, q_tile, kv_tile, skip))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    design=st.sampled_from(DESIGNS),
    n_q=st.integers(1, 14), extra_kv=st.integers(0, 6),
    q_tile=st.integers(1, 16), kv_tile=st.integers(1, 16),
    d=st.integers(1, 5), b=st.sampled_from([1, 2, 4]),
    causal=st.booleans(), skip=st.booleans(),
)
def test_attn_counter_equals_replay_random(design, n_q, extra_kv, q_tile, kv_tile, d, b, causal,
                                           skip):
    layer = AttentionLayer(n_q=n_q, n_kv=n_q + extra_kv, head_dim=d, bytes_per_element=b,
                           causal=causal)
    _check(_mapping(design, layer, q_tile, kv_tile, skip))


def test_attn_fa2_hand_count():
    # n=10, Br=4 -> 3 q tiles (4, 4, 2 rows); K and V re-read per q tile; d=2, 2 B/element
    layer = AttentionLayer(n_q=10, n_kv=10, head_dim=2)
    t = build("flashattention2", layer, 10**6, 4, 3).traffic
    assert t.read_bytes == {"K": 3 * 10 * 2 * 2, "Q": 10 * 2 * 2, "V": 3 * 10 * 2 * 2}
    assert t.write_bytes == {"O": 10 * 2 * 2}


def test_attn_fa2_causal_skip_hand_count():
    # causal n=8, Br=Bc=4: q tile 0 sees kv tile 0 only; q tile 1 starts on kv tile 0, still
    # resident, then loads kv tile 1 -> 2 tile loads. Without skipping: t0 t1 | t0 t1 -> 4 loads.
    layer = AttentionLayer(n_q=8, n_kv=8, head_dim=1, bytes_per_element=1, causal=True)
    assert build("flashattention2", layer, 10**6, 4, 4).traffic.read_bytes["K"] == 8
    assert build("flashattention2", layer, 10**6, 4, 4, skip_masked=False).traffic.read_bytes[
        "K"] == 16


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    design=st.sampled_from(ORDER_VARIANTS),
    n_q=st.integers(1, 14), extra_kv=st.integers(0, 8),
    q_tile=st.integers(1, 16), kv_tile=st.integers(1, 6), keep=st.integers(1, 6),
    serpentine=st.booleans(), causal=st.booleans(), d=st.integers(1, 3),
)
def test_attn_kept_tail_and_serpentine_equal_lru_replay(design, n_q, extra_kv, q_tile, kv_tile,
                                                       keep, serpentine, causal, d):
    """K/V tails kept across reversed sweeps: the counter's leading-run rule against an explicit
    least-recently-used buffer of ``keep`` tiles (causal layers without tile skipping)."""
    layer = AttentionLayer(n_q=n_q, n_kv=n_q + extra_kv, head_dim=d, causal=causal)
    _check(_mapping(design, layer, q_tile, kv_tile, not causal, keep, serpentine))


def test_attn_serpentine_hand_count():
    # n = 10, Br = 4 (3 sweeps), Bc = 3 (tiles of 3, 3, 3, 1 rows), 4 B per row
    layer = AttentionLayer(n_q=10, n_kv=10, head_dim=2)
    k = {(keep, serp): build("flashattention2", layer, 10**6, 4, 3, kv_keep=keep,
                             serpentine=serp).traffic.read_bytes["K"]
         for keep, serp in [(1, True), (2, True), (3, False), (4, True)]}
    assert k[(1, True)] == 4 * (10 + (10 - 1) + (10 - 3))      # reuse tile 3, then tile 0
    assert k[(2, True)] == 4 * (10 + (10 - 4) + (10 - 6))      # tiles 3, 2 then 0, 1
    assert k[(3, False)] == 4 * 30                              # forward sweeps: LRU keeps nothing
    assert k[(4, True)] == 4 * 10                               # every tile kept


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("n_q,n_kv,q_tile,kv_tile,rows", [
    (7, 7, 3, 2, 2), (5, 9, 2, 4, 5), (6, 11, 5, 3, 4), (1, 13, 1, 5, 1),
])
def test_attn_unfused_row_softmax_equals_replay(causal, n_q, n_kv, q_tile, kv_tile, rows):
    """Unfused with the row-block softmax: S and P each cross the chip boundary twice."""
    layer = AttentionLayer(n_q=n_q, n_kv=n_kv, head_dim=3, batch=2, heads=2, causal=causal)
    mapping = build("unfused", layer, unfused_on_chip_bytes(layer) - 1, q_tile, kv_tile,
                    skip_masked=False, softmax_rows=rows)
    _check(mapping)
    scores = 2 * 2 * n_q * n_kv * 2         # instances × elements × 2 B
    assert mapping.traffic.read_bytes["S"] == mapping.traffic.write_bytes["P"] == scores


@pytest.mark.parametrize("design", PACKING_DESIGNS)
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("heads,kv_heads", [(4, 2), (3, 1), (4, 4)])
@pytest.mark.parametrize("n_q,n_kv,q_tile,kv_tile", [
    (7, 7, 3, 2), (5, 9, 4, 4), (6, 11, 5, 3), (1, 13, 1, 5), (4, 6, 8, 4), (3, 3, 2, 1),
])
def test_attn_packed_heads_equal_replay_grid(design, causal, heads, kv_heads, n_q, n_kv, q_tile,
                                             kv_tile):
    """GQA head packing: query tiles that straddle heads, ragged tiles, causal skipping."""
    layer = AttentionLayer(n_q=n_q, n_kv=n_kv, head_dim=2, batch=2, heads=heads,
                           kv_heads=kv_heads, causal=causal)
    for skip in (True, False):
        mapping = _mapping(design, layer, q_tile, kv_tile, skip, pack=True)
        assert mapping.nests[0].q_heads == heads // kv_heads
        _check(mapping)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    design=st.sampled_from(PACKING_DESIGNS),
    n_q=st.integers(1, 9), extra_kv=st.integers(0, 6),
    q_tile=st.integers(1, 30), kv_tile=st.integers(1, 12), keep=st.integers(1, 5),
    serpentine=st.booleans(), heads=st.sampled_from([(2, 1), (3, 1), (4, 2), (6, 2)]),
    causal=st.booleans(), skip=st.booleans(), d=st.integers(1, 3),
)
def test_attn_packed_heads_equal_replay_random(design, n_q, extra_kv, q_tile, kv_tile, keep,
                                               serpentine, heads, causal, skip, d):
    layer = AttentionLayer(n_q=n_q, n_kv=n_q + extra_kv, head_dim=d, heads=heads[0],
                           kv_heads=heads[1], causal=causal)
    if design not in ORDER_VARIANTS or (causal and skip):
        keep, serpentine = 1, False
    _check(_mapping(design, layer, q_tile, kv_tile, skip, keep, serpentine, pack=True))


def test_attn_packed_heads_hand_count():
    # n = 6, 2 heads per K/V group, Br = 4, Bc = 3: packed rows 0..11 in 3 tiles (4, 4, 4) -> 3 K/V
    # sweeps per group; unpacked 2 tiles per head × 2 heads = 4 sweeps per group
    layer = AttentionLayer(n_q=6, n_kv=6, head_dim=1, bytes_per_element=1, heads=2, kv_heads=1)
    packed = build("flashattention2", layer, 10**6, 4, 3, pack_heads=True).traffic
    plain = build("flashattention2", layer, 10**6, 4, 3).traffic
    assert packed.read_bytes["K"] == 3 * 6
    assert plain.read_bytes["K"] == 2 * 2 * 6
    assert packed.read_bytes["Q"] == plain.read_bytes["Q"] == 12
    # FlashAttention-1 packed: K, V once per group instead of once per query head
    fa1 = build("flashattention1", layer, 10**6, 4, 3, pack_heads=True).traffic
    assert fa1.read_bytes["K"] == 6
    assert build("flashattention1", layer, 10**6, 4, 3).traffic.read_bytes["K"] == 12

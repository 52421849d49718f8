"""Each attention cascade equals a directly written numpy softmax attention (FuseMax Cascades
3-5 against the textbook definition softmax(QK^T/sqrt(d)) V)."""
import math

import numpy as np
import pytest

from workloads.attention import VARIANTS, add_attention
from workloads.ir import CascadeBuilder


def reference_attention(q, k, v, causal, q_offset):
    """q[B,P,G,J,E], k[B,M,G,E], v[B,M,G,F] -> [B,P,G,J,F]; causal: key m visible to query p
    iff m <= p + q_offset."""
    scores = np.einsum("bpgje,bmge->bgjpm", q, k) / math.sqrt(q.shape[-1])
    if causal:
        p, m = q.shape[1], k.shape[1]
        hidden = np.arange(m)[None, :] > np.arange(p)[:, None] + q_offset
        scores = np.where(hidden, -np.inf, scores)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    return np.einsum("bgjpm,bmgf->bpgjf", weights, v)


SHAPES = [
    # B, P, M, G, J, E, F, block, causal, q_offset
    (1, 8, 8, 2, 1, 4, 4, 4, True, 0),     # dividing blocks, MHA
    (2, 5, 7, 1, 3, 3, 5, 3, True, 2),     # GQA, non-dividing block, offset queries (chunked prefill)
    (1, 6, 6, 2, 2, 4, 4, 4, False, 0),    # bidirectional (BERT-like), non-dividing
    (1, 1, 11, 2, 2, 8, 8, 4, True, 10),   # decode step over a cache of 10, non-dividing
    (1, 9, 9, 1, 1, 2, 3, 1, True, 0),     # block of one key
    (1, 4, 4, 1, 1, 4, 4, 16, True, 0),    # block larger than the sequence
]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("shape", SHAPES)
def test_attention_cascade_matches_numpy_softmax_attention(variant, shape):
    B, P, M, G, J, E, F, block, causal, q_offset = shape
    b = CascadeBuilder("attn")
    for rank, size in dict(B=B, P=P, M=M, G=G, J=J, E=E, F=F).items():
        b.rank(rank, size)
    b.tensor("Q", "B,P,G,J,E", role="input")
    b.tensor("K", "B,M,G,E", role="input")
    b.tensor("V", "B,M,G,F", role="input")
    out = add_attention(b, "", variant=variant, q="Q", k="K", v="V", causal=causal, q_offset=q_offset, block=block)
    b.output(out)
    cascade = b.build()
    rng = np.random.default_rng(sum(shape))
    q = rng.normal(size=(B, P, G, J, E)) * 2
    k = rng.normal(size=(B, M, G, E)) * 2
    v = rng.normal(size=(B, M, G, F))
    got = cascade.evaluate({"Q": q, "K": k, "V": v})[out]
    np.testing.assert_allclose(got, reference_attention(q, k, v, causal, q_offset), rtol=0, atol=1e-9)


def test_one_pass_cascade_is_a_recurrence_over_the_outer_key_rank():
    b = CascadeBuilder("attn")
    for rank, size in dict(B=1, P=3, M=10, G=1, J=1, E=2, F=2).items():
        b.rank(rank, size)
    for t, r in (("Q", "B,P,G,J,E"), ("K", "B,M,G,E"), ("V", "B,M,G,F")):
        b.tensor(t, r, role="input")
    add_attention(b, "", variant="1pass", q="Q", k="K", v="V", causal=True, block=4)
    cascade = b.build()
    iterative = [members for rank, members in cascade.schedule if rank == "M1"]
    assert ("RM",) in iterative
    assert {"SPD", "RD"} == set(next(m for m in iterative if "RD" in m))
    assert {"SPNV", "RNV"} == set(next(m for m in iterative if "RNV" in m))
    assert cascade.rank_sizes["M1"] == 3  # ceil(10 / 4)


def test_passes_over_keys_per_variant():
    """FuseMax's taxonomy: 3-pass reads the score tensor in three passes, 2-pass in two, 1-pass in one."""
    def passes(variant):
        b = CascadeBuilder("attn")
        for rank, size in dict(B=1, P=4, M=8, G=1, J=1, E=2, F=2).items():
            b.rank(rank, size)
        for t, r in (("Q", "B,P,G,J,E"), ("K", "B,M,G,E"), ("V", "B,M,G,F")):
            b.tensor(t, r, role="input")
        add_attention(b, "", variant=variant, q="Q", k="K", v="V", causal=False, block=4)
        return {e.note for e in b.einsums if e.note.startswith("pass")}

    assert passes("3pass") == {"pass 1", "pass 2", "pass 3"}
    assert passes("2pass") == {"pass 1", "pass 2"}
    assert passes("1pass") == set()

"""Sliding-window attention (Mistral, Jiang et al. 2023, Sec. 2 "Sliding Window Attention"):
a query at position q attends only to keys k with q - k < W (the Hugging Face convention:
`sliding_window` keys including itself).

Two effects on a lowered step:
- work: a step that starts after `past` cached tokens reads only the last `min(past, W-1)` of
  them (older keys are outside every new query's window), so the key rank M of a decode step
  is at most W: the rolling-buffer KV cache of the Mistral paper;
- mask: within the keys read, scores with q - k >= W are masked (a prefill longer than W).

The mask is added to the QK Einsum that `attention.add_attention` built, in its output space;
it fills a large finite negative (not -inf) because a whole key block of the 1- or 2-pass
cascades may lie outside the window, and exp(-inf - (-inf)) is undefined; after the running-max
correction such a block contributes exactly 0 (the diagonal key is always inside the window).
"""
from __future__ import annotations

from dataclasses import replace

from .errors import SpecError
from .ir import CascadeBuilder, mask

WINDOW_FILL = -1e30


def kept_past(window: int | None, past: int) -> int:
    """Cached positions a step reads: all of them, or the last `window - 1` under a window."""
    if window is None:
        return past
    if not isinstance(window, int) or window < 1:
        raise SpecError(f"sliding_window must be a positive integer; got {window!r}")
    return min(past, window - 1)


def restrict_to_window(b: CascadeBuilder, first: int, window: int, kept: int) -> None:
    """Mask scores outside the window in the attention cascade appended after Einsum `first`.

    Key m of the step is absolute position `past - kept + m`, query p is `past + p`, so
    q - k >= W is `P + kept > M + W - 1` (with M the key index, `M1*M0size+M0` when blocked).
    """
    n_q, n_kv = b.rank_sizes["P"], b.rank_sizes["M"]
    if kept + n_q - 1 < window:  # no query is W or more positions after key 0
        return
    for i in range(first, len(b.einsums)):
        e = b.einsums[i]
        if e.name.endswith("QK"):
            blocked = "M1" in e.output.ranks
            key = f"M1*{b.rank_sizes['M0']}+M0" if blocked else "M"
            window_mask = mask(f"P+{kept}", f"{key}+{window - 1}", WINDOW_FILL)
            b.einsums[i] = replace(e, post=(*e.post, window_mask))
            return
    raise SpecError(f"no QK Einsum found to restrict to a sliding window of {window} ({n_kv} keys)")

"""Inputs for functional execution of a lowered model: RoPE tables and seeded random weights."""
from __future__ import annotations

import math

import numpy as np

from .errors import SpecError
from .ir import Cascade
from .models import ModelSpec


def rope_tables(model: ModelSpec, n_positions: int) -> tuple[np.ndarray, np.ndarray]:
    """COS[T,E0] and SIN[T,E1,E0] for RoPE (Su et al. 2021) in the `rotate_half` convention of
    the released LLaMA/Phi code: frequencies theta^(-2i/rot), and the rotated half is
    [-x2, x1], so SIN[t,0,i] = -sin(t*f_i), SIN[t,1,i] = +sin(t*f_i)."""
    rot = model.rotary_dim or model.d_head
    inv_freq = scaled_frequencies(model, model.rope_theta ** (-np.arange(0, rot, 2, dtype=np.float64) / rot))
    angles = np.arange(n_positions, dtype=np.float64)[:, None] * inv_freq[None, :]
    sin = np.sin(angles)
    return np.cos(angles), np.stack([-sin, sin], axis=1)


def scaled_frequencies(model: ModelSpec, inv_freq: np.ndarray) -> np.ndarray:
    """RoPE frequencies after the model's `rope_scaling`.

    linear (position interpolation, Chen et al. 2023): every frequency divided by `factor`.
    llama3 (Llama 3.1, Meta 2024; the released `rope_scaling` fields factor, low_freq_factor,
    high_freq_factor, original_max_position_embeddings): wavelengths longer than
    original/low_freq_factor are divided by `factor`, shorter than original/high_freq_factor kept,
    and in between interpolated with s = (original/wavelength - low) / (high - low):
    f' = (1 - s) f / factor + s f.
    """
    kind = model.rope_scaling
    if kind == "none":
        return inv_freq
    if kind == "linear":
        return inv_freq / model.rope_factor
    if kind != "llama3":
        raise SpecError(f"rope_scaling {kind!r}; allowed: none, linear, llama3")
    factor, low, high = model.rope_factor, model.rope_low_freq_factor, model.rope_high_freq_factor
    original = model.rope_original_positions
    wavelength = 2 * np.pi / inv_freq
    smooth = (original / wavelength - low) / (high - low)
    medium = (1 - smooth) * inv_freq / factor + smooth * inv_freq
    out = np.where(wavelength > original / low, inv_freq / factor, inv_freq)
    between = (wavelength <= original / low) & (wavelength >= original / high)
    return np.where(between, medium, out)


def relative_buckets(model: ModelSpec, n_keys: int, n_queries: int, q_offset: int = 0,
                     bidirectional: bool = True) -> np.ndarray:
    """T5's relative position buckets BKT[M,P] (Raffel et al. 2020, Sec. 2.1; the released
    `_relative_position_bucket`) of key m and query p at position p + q_offset: relative position
    r = m - (p + q_offset); bidirectional (encoder) halves the buckets, the upper half for r > 0,
    and takes |r|; unidirectional (decoder) takes max(-r, 0). Half of the remaining n buckets
    are exact (|r| < n/2), the rest logarithmic up to relative_max_distance, computed in float32
    as the released code does."""
    rel = np.arange(n_keys)[:, None] - (np.arange(n_queries)[None, :] + q_offset)
    n = model.relative_buckets
    out = np.zeros_like(rel)
    if bidirectional:
        n //= 2
        out += (rel > 0) * n
        rel = np.abs(rel)
    else:
        rel = -np.minimum(rel, 0)
    exact = n // 2
    ratio = np.log(np.maximum(rel, 1).astype(np.float32) / exact) / math.log(model.relative_max_distance / exact)
    large = np.minimum(exact + (ratio * (n - exact)).astype(np.int64), n - 1)
    return out + np.where(rel < exact, rel, large)


def position_tables(cascade: Cascade, model: ModelSpec) -> dict[str, np.ndarray]:
    """The position inputs a cascade reads: RoPE's COS/SIN, T5's bucket indices ENC.BKT
    (bidirectional, the encoder tokens) and DEC.BKT (causal, the decoder step after kv_len)."""
    out: dict[str, np.ndarray] = {}
    if "COS" in cascade.inputs:
        out["COS"], out["SIN"] = rope_tables(model, cascade.tensors["COS"].shape[0])
    for name, bidirectional in (("ENC.BKT", True), ("DEC.BKT", False)):
        if name in cascade.inputs:
            keys, queries = cascade.tensors[name].shape
            offset = 0 if bidirectional else cascade.meta["kv_len"]
            out[name] = relative_buckets(model, keys, queries, offset, bidirectional)
    return out


def random_inputs(cascade: Cascade, seed: int = 0, std: float = 0.02) -> dict[str, np.ndarray]:
    """Seeded inputs for every input tensor of a lowered cascade: N(0, std) weights (std 0.02 is
    GPT-2's `initializer_range`), norm gains near 1, token ids below the vocabulary size, exact
    RoPE tables, N(0,1) KV caches."""
    rng = np.random.default_rng(seed)
    model = ModelSpec(**cascade.meta["spec"]) if "spec" in cascade.meta else None
    tables = position_tables(cascade, model) if model is not None else {}
    values: dict[str, np.ndarray] = {}
    for name in cascade.inputs:
        spec = cascade.tensors[name]
        if name in tables:
            values[name] = tables[name]
        elif name in ("TOK", "TT", "ETOK"):
            table = cascade.tensors["WTT" if name == "TT" else "WTE"]
            values[name] = rng.integers(0, table.shape[0], size=spec.shape)
        elif name.endswith(".G"):
            values[name] = 1.0 + 0.1 * rng.standard_normal(spec.shape)
        elif spec.role == "kv_cache" or spec.role == "input":
            values[name] = rng.standard_normal(spec.shape)
        else:
            values[name] = std * rng.standard_normal(spec.shape)
    return values

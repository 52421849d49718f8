"""Inputs for functional execution of a lowered model: RoPE tables and seeded random weights."""
from __future__ import annotations

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


def random_inputs(cascade: Cascade, seed: int = 0, std: float = 0.02) -> dict[str, np.ndarray]:
    """Seeded inputs for every input tensor of a lowered cascade: N(0, std) weights (std 0.02 is
    GPT-2's `initializer_range`), norm gains near 1, token ids below the vocabulary size, exact
    RoPE tables, N(0,1) KV caches."""
    rng = np.random.default_rng(seed)
    model = ModelSpec(**cascade.meta["spec"]) if "spec" in cascade.meta else None
    values: dict[str, np.ndarray] = {}
    for name in cascade.inputs:
        spec = cascade.tensors[name]
        if name in ("COS", "SIN"):
            cos, sin = rope_tables(model, spec.shape[0])
            values[name] = cos if name == "COS" else sin
        elif name in ("TOK", "TT"):
            table = cascade.tensors["WTE" if name == "TOK" else "WTT"]
            values[name] = rng.integers(0, table.shape[0], size=spec.shape)
        elif name.endswith(".G"):
            values[name] = 1.0 + 0.1 * rng.standard_normal(spec.shape)
        elif spec.role == "kv_cache" or spec.role == "input":
            values[name] = rng.standard_normal(spec.shape)
        else:
            values[name] = std * rng.standard_normal(spec.shape)
    return values

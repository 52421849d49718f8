"""Inputs for functional execution of a lowered model: RoPE tables and seeded random weights."""
from __future__ import annotations

import numpy as np

from .ir import Cascade
from .models import ModelSpec


def rope_tables(model: ModelSpec, n_positions: int) -> tuple[np.ndarray, np.ndarray]:
    """COS[T,E0] and SIN[T,E1,E0] for RoPE (Su et al. 2021) in the `rotate_half` convention of
    the released LLaMA/Phi code: frequencies theta^(-2i/rot), and the rotated half is
    [-x2, x1], so SIN[t,0,i] = -sin(t*f_i), SIN[t,1,i] = +sin(t*f_i)."""
    rot = model.rotary_dim or model.d_head
    inv_freq = model.rope_theta ** (-np.arange(0, rot, 2, dtype=np.float64) / rot)
    angles = np.arange(n_positions, dtype=np.float64)[:, None] * inv_freq[None, :]
    sin = np.sin(angles)
    return np.cos(angles), np.stack([-sin, sin], axis=1)


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

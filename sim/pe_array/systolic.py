"""Pipeline fill and drain of a systolic array, SCALE-Sim's closed form.

Samajdar et al., "A Systematic Methodology for Characterizing Scalability of DNN Accelerators
using SCALE-Sim", ISPASS 2020, §III-B (Eqs. 1–3): a fold that maps S_R × S_C operands on the array
(S_R ≤ R rows, S_C ≤ C columns) and streams T elements through it takes

    τ = 2·S_R + S_C + T − 2  cycles

(operands enter skewed: S_R cycles to fill the rows, S_C to cross the columns, S_R − 2 to drain
the last partial sums), and a workload larger than the array takes τ per fold over
⌈S_R/R⌉·⌈S_C/C⌉ folds, the folds not overlapped. The same form holds for output-, weight- and
input-stationary dataflows; only what S_R, S_C and T stand for changes (OS: S_R = M, S_C = N,
T = K; WS: S_R = K, S_C = N, T = M; IS: S_R = K, S_C = M, T = N).

In a loop nest (`sim.pe_array.cost.folds`) a fold is one residency of the most stationary
operand in the PEs (its per-PE tile's temporal refills); S_R, S_C are the spatial factors on rows
and columns; T is the temporal steps per fold. The overhead beyond T is `fold_overhead_cycles`.
"""
from __future__ import annotations

import math


def fold_overhead_cycles(rows_used: int, cols_used: int) -> int:
    """Fill and drain of one fold: τ − T = 2·S_R + S_C − 2."""
    return 2 * rows_used + cols_used - 2


def scalesim_cycles(sr: int, sc: int, t: int, rows: int, cols: int) -> int:
    """SCALE-Sim's total cycles for an S_R × S_C × T mapping on an R × C array (Eqs. 1–3)."""
    folds = math.ceil(sr / rows) * math.ceil(sc / cols)
    return folds * (2 * min(sr, rows) + min(sc, cols) + t - 2)

"""Affine index expressions of extended Einsums.

An index into one rank of a tensor is an affine combination of iteration ranks plus a constant:
`M` (plain), `P+1023` (a query at an offset into the KV cache), `M1*64+M0` (rank partitioning,
TeAAL/FuseMax `m = m1*M0 + m0`), `M1+1` (an iterative rank's next step), `1-E1` (RoPE's half swap).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..errors import SpecError

_TOKEN = re.compile(r"\s*(?:(\d+)|([A-Za-z_][A-Za-z0-9_]*)|(.))")


@dataclass(frozen=True)
class Affine:
    """sum(coeff * rank) + const, with terms sorted by rank name."""

    terms: tuple[tuple[str, int], ...] = ()
    const: int = 0

    @staticmethod
    def rank(name: str) -> "Affine":
        return Affine(((name, 1),), 0)

    @staticmethod
    def parse(text: str) -> "Affine":
        """Parse e.g. `M1*64+M0`, `P+7`, `1-E1`, `M1+1`, `7` (no evaluation of Python)."""
        tokens = [m.groups() for m in _TOKEN.finditer(text.strip())]
        coeffs: dict[str, int] = {}
        const = 0
        sign = 1
        i = 0

        def fail() -> SpecError:
            return SpecError(f"bad index expression {text!r}: use sums of RANK, INT*RANK, RANK*INT, INT")

        expect_term = True
        while i < len(tokens):
            num, name, other = tokens[i]
            if expect_term:
                if other == "-" and i == 0:
                    sign, i = -1, i + 1
                    continue
                factor, rank = 1, None
                if num is not None:
                    factor = int(num)
                elif name is not None:
                    rank = name
                else:
                    raise fail()
                i += 1
                if i < len(tokens) and tokens[i][2] == "*":
                    i += 1
                    if i >= len(tokens):
                        raise fail()
                    num2, name2, _ = tokens[i]
                    if num2 is not None and rank is not None:
                        factor = int(num2)
                    elif name2 is not None and rank is None:
                        rank = name2
                    else:
                        raise fail()
                    i += 1
                if rank is None:
                    const += sign * factor
                else:
                    coeffs[rank] = coeffs.get(rank, 0) + sign * factor
                expect_term = False
            else:
                if other is None or other not in "+-":
                    raise fail()
                sign = 1 if other == "+" else -1
                i += 1
                expect_term = True
        if expect_term:
            raise fail()
        return Affine(tuple(sorted((r, c) for r, c in coeffs.items() if c != 0)), const)

    @property
    def ranks(self) -> tuple[str, ...]:
        return tuple(r for r, _ in self.terms)

    @property
    def plain_rank(self) -> str | None:
        """The rank name if this expression is exactly one rank with coefficient 1, else None."""
        if self.const == 0 and len(self.terms) == 1 and self.terms[0][1] == 1:
            return self.terms[0][0]
        return None

    def shifted(self, by: int) -> "Affine":
        return Affine(self.terms, self.const + by)

    def bounds(self, ranges: dict[str, tuple[int, int]]) -> tuple[int, int]:
        """Inclusive [min, max] over rank ranges given as (start, stop) half-open."""
        lo = hi = self.const
        for rank, coeff in self.terms:
            start, stop = ranges[rank]
            a, b = coeff * start, coeff * (stop - 1)
            lo += min(a, b)
            hi += max(a, b)
        return lo, hi

    def values(self, axes: tuple[str, ...], ranges: dict[str, tuple[int, int]]) -> np.ndarray:
        """The expression over the grid of `axes` (broadcastable array, one axis per entry)."""
        out = np.full((1,) * len(axes), self.const, dtype=np.int64)
        for rank, coeff in self.terms:
            start, stop = ranges[rank]
            shape = [1] * len(axes)
            shape[axes.index(rank)] = stop - start
            out = out + coeff * np.arange(start, stop, dtype=np.int64).reshape(shape)
        return out

    def __str__(self) -> str:
        parts = []
        for rank, coeff in self.terms:
            term = rank if abs(coeff) == 1 else f"{rank}*{abs(coeff)}"
            parts.append(("-" if coeff < 0 else "+") + term)
        if self.const or not parts:
            parts.append(("-" if self.const < 0 else "+") + str(abs(self.const)))
        text = "".join(parts)
        return text[1:] if text.startswith("+") else text

"""One row of `einspace validate`: an einspace figure beside the reference figure it claims (or
only reports) to reproduce, with the tolerance it is held to."""
from __future__ import annotations

import math
from dataclasses import dataclass

DOC = "docs/validation.md"


class Unavailable(Exception):
    """A reference whose figures this checkout does not hold (e.g. `shared/reference/` absent):
    its rows are skipped, and the reason printed."""


@dataclass(frozen=True)
class Row:
    """`claimed`: the project states it reproduces this figure at `tolerance`; a row that is not
    claimed is reported (its `note` names the section that explains the difference).

    `bound` False: pass when |einspace / reference - 1| <= tolerance. `bound` True: the reference
    is a lower bound einspace may not go below: pass when 1 <= ratio <= 1 + tolerance. `upper`
    True: the reference is an upper bound einspace may not exceed (a peer tool's best): pass when
    1 - tolerance <= ratio <= 1."""

    reference: str
    case: str
    einspace: float
    reference_value: float
    tolerance: float
    claimed: bool
    note: str = ""
    bound: bool = False
    upper: bool = False

    @property
    def ratio(self) -> float:
        if self.reference_value == 0:
            return 1.0 if self.einspace == 0 else math.inf
        return self.einspace / self.reference_value

    @property
    def passed(self) -> bool:
        r = self.ratio
        if not math.isfinite(r):
            return False
        if self.bound:
            return 1 - 1e-12 <= r <= 1 + self.tolerance + 1e-12
        if self.upper:
            return 1 - self.tolerance - 1e-12 <= r <= 1 + 1e-12
        return abs(r - 1) <= self.tolerance + 1e-12

    def to_dict(self) -> dict:
        """JSON-ready; the keys are a stable interface (docs/validation.md)."""
        r = self.ratio
        return {"reference": self.reference, "case": self.case, "einspace": self.einspace,
                "reference_value": self.reference_value, "ratio": r if math.isfinite(r) else None,
                "tolerance": self.tolerance, "bound": self.bound, "upper": self.upper, "claimed": self.claimed,
                "passed": self.passed, "note": self.note}


def within(reference: str, case: str, einspace: float, reference_value: float, tolerance: float,
           claimed: bool = True, note: str = "") -> Row:
    return Row(reference, case, float(einspace), float(reference_value), tolerance, claimed, note)

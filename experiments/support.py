"""Which (model, phase, family) points run, and why the others are refused.

`support_matrix()` tries every zoo model in every phase on every family, at a small size (one
layer, 64 tokens), through `Family.result` — the path of `einspace run` and of a sweep — and
checks the contract on each Result that comes back (`Result.check_covers`: one row per Einsum,
MACs equal to the cascade's). A refused point is a `SpecError` whose one line is the reason
`einspace run` prints (exit 2). `python -m experiments.support` prints the table kept in
docs/families.md.
"""
from __future__ import annotations

from dataclasses import dataclass

from experiments.families import cascade_of, get_family, names
from experiments.schema import Workloads
from experiments.space import Point
from workloads import MODELS
from workloads.errors import SpecError
from workloads.lower import PHASES

SEQ_LEN = 64


@dataclass(frozen=True)
class Support:
    model: str
    phase: str
    family: str
    runs: bool
    reason: str = ""


def workload(model: str, phase: str, seq_len: int = SEQ_LEN) -> dict:
    return Workloads(models=[model], phases=[phase], seq_len=[seq_len], layers=1).combos()[0]


def try_point(family: str, model: str, phase: str) -> Support:
    """Run one point; a `SpecError` (the point is refused) becomes its reason."""
    fam = get_family(family)
    w = workload(model, phase)
    if phase not in fam.phases:
        return Support(model, phase, family, False, f"family {family} models {', '.join(fam.phases)}")
    try:
        result = fam.result(Point(family, fam.default_mapping, w, {}))
    except SpecError as err:
        return Support(model, phase, family, False, str(err))
    result.check_covers(cascade_of(w))
    return Support(model, phase, family, True)


def support_matrix(models=MODELS, phases=PHASES, families=None) -> list[Support]:
    return [try_point(f, m, p) for m in models for p in phases for f in (families or names())]


def markdown(matrix: list[Support]) -> str:
    """One row per (model, phase), one column per family: `runs`, or the refusal's reason."""
    families = list(dict.fromkeys(s.family for s in matrix))
    lines = ["| model | phase | " + " | ".join(families) + " |", "|---|---|" + "---|" * len(families)]
    cells: dict[tuple[str, str], dict[str, str]] = {}
    for s in matrix:
        cells.setdefault((s.model, s.phase), {})[s.family] = "runs" if s.runs else f"no: {s.reason}"
    for (model, phase), row in cells.items():
        lines.append(f"| {model} | {phase} | " + " | ".join(row[f].replace("|", "/") for f in families) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(support_matrix()), end="")

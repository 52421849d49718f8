"""`einspace validate`: every reference the project claims, one table (docs/validation.md).

One module per reference, each with `rows(fast) -> list[Row]` (`row.Row`: einspace's figure, the
reference's, the tolerance, claimed or only reported, a note); `REFERENCES` lists them in the
table's order. A module with `FAST = False` is left out of the `--fast` subset (said so in the
output); one whose reference file this checkout lacks raises `row.Unavailable` and is skipped
with the reason."""
from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field

from experiments.validation.row import Row, Unavailable

# reference name -> module under experiments.validation
REFERENCES = {
    "aim": "aim",
    "ramulator-ddr4": "ramulator",
    "bitmod": "bitmod",
    "fusemax": "fusemax",
    "fa2-io-bound": "io_bound",
    "pim-gpt": "pim_gpt",
    "mapspace-peers": "mapspace",
}


@dataclass
class Validation:
    """The rows of one `einspace validate` run, what was skipped and why, and wall times (s)."""

    fast: bool
    rows: list[Row] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    wall_s: dict[str, float] = field(default_factory=dict)

    @property
    def claimed(self) -> list[Row]:
        return [r for r in self.rows if r.claimed]

    @property
    def failed(self) -> list[Row]:
        return [r for r in self.claimed if not r.passed]

    @property
    def ok(self) -> bool:
        return not self.failed


def module(name: str):
    return importlib.import_module(f"experiments.validation.{REFERENCES[name]}")


def run(fast: bool = False, only: tuple[str, ...] = ()) -> Validation:
    """Every reference (or those in `only`), in `REFERENCES` order."""
    out = Validation(fast)
    for name in REFERENCES:
        if only and name not in only:
            continue
        mod = module(name)
        if fast and not getattr(mod, "FAST", True):
            out.skipped[name] = "not in --fast (slow; the full `einspace validate` runs it)"
            continue
        start = time.perf_counter()
        try:
            out.rows.extend(mod.rows(fast))
        except Unavailable as why:
            out.skipped[name] = str(why)
        out.wall_s[name] = time.perf_counter() - start
    return out

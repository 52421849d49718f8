"""What `sim.pim.simulate` runs: a decode program, the `plan` of a PIM `Mapping`.

A mapper (`mappers.pim`) builds it; the simulator only reads what this protocol names, so `sim`
never imports a mapper. A program is `tokens` decode tokens run back to back as one command
stream, each token one step per Einsum of the cascade, in cascade order.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class DecodeProgram(Protocol):
    """`tokens`: decode tokens simulated; `queries`: query vectors per token step (batch x new
    tokens); `kv_len`: the cascade's cache length; `kv_dependent[i]`: whether Einsum i's work scales
    with the kv length; `token_kv(t)`: the kv length token t attends over; `token_steps(t)`: its
    steps (`PimRuns`/`PimStep`/`AsicStep`), one per Einsum; `token_segments(t)`: the same token
    as (idle cycles before its first PIM step, [(position, PIM step, idle cycles after it)]), each
    stretch of ASIC/transfer steps summed; `work_totals()`: per step, summed over the tokens, its
    ASIC cycles, transfer cycles and PIM command counts (REFs aside) -- what does not depend on
    the timing."""

    tokens: int
    queries: int
    kv_len: int

    @property
    def kv_dependent(self) -> tuple[bool, ...]: ...

    def token_kv(self, token: int) -> int: ...

    def token_steps(self, token: int) -> list: ...

    def token_segments(self, token: int) -> tuple[int, list]: ...

    def work_totals(self) -> tuple[list[int], list[int], list[dict[str, int]]]: ...

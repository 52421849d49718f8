"""Request streams: the common ``ADDR R|W [cycle]`` trace format and synthetic generators.

Trace lines hold a hex (``0x...``) or decimal byte address, ``R`` or ``W`` and an optional arrival
cycle; blank lines and ``#`` comments are skipped. The operation may also be spelled as other
simulators' traces spell it -- ``READ``/``WRITE`` (DRAMSim3: ``0x... READ 12``), ``RD``/``WR``,
``LD``/``ST`` or ``LOAD``/``STORE`` (Ramulator 2 LoadStoreTrace: ``LD 0x...``), ``P_MEM_RD``/
``P_MEM_WR`` (DRAMSim2 k6 traces) -- any case, and may come before the address. Without a
cycle a request arrives at cycle 0 and enters the controller as soon as its queue has room. Each request is one burst (the standard's burst size); the low address bits inside
a burst are ignored.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workloads.errors import SpecError

SYNTHETIC = ("stream", "strided", "random")
READ_OPS = ("R", "READ", "RD", "LD", "LOAD", "P_MEM_RD")
WRITE_OPS = ("W", "WRITE", "WR", "ST", "STORE", "P_MEM_WR")


@dataclass(frozen=True, slots=True)
class TraceEntry:
    address: int
    is_write: bool
    arrival: int = 0


def _parse_int(text: str) -> int:
    return int(text, 16) if text.lower().startswith("0x") else int(text, 10)


def parse_trace_lines(lines, source: str) -> list[TraceEntry]:
    """Parse trace text; errors name `source` and the line."""
    entries: list[TraceEntry] = []
    for lineno, raw in enumerate(lines, start=1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        parts = text.split()
        where = f"{source}:{lineno}"
        if len(parts) not in (2, 3):
            raise SpecError(f"{where}: expected 'ADDR R|W [cycle]', got {raw.strip()!r}")
        if parts[0].upper() in READ_OPS + WRITE_OPS:
            parts[0], parts[1] = parts[1], parts[0]
        try:
            address = _parse_int(parts[0])
        except ValueError:
            raise SpecError(f"{where}: address {parts[0]!r} is not a hex (0x..) or decimal "
                            "integer") from None
        op = parts[1].upper()
        if op not in READ_OPS + WRITE_OPS:
            raise SpecError(f"{where}: operation {parts[1]!r}; allowed: "
                            f"{', '.join(READ_OPS + WRITE_OPS)}")
        arrival = 0
        if len(parts) == 3:
            try:
                arrival = _parse_int(parts[2])
            except ValueError:
                raise SpecError(f"{where}: cycle {parts[2]!r} is not an integer") from None
        if address < 0 or arrival < 0:
            raise SpecError(f"{where}: address and cycle must be non-negative")
        entries.append(TraceEntry(address, op in WRITE_OPS, arrival))
    return entries


def read_trace(path: str | Path) -> list[TraceEntry]:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise SpecError(f"{path}: cannot read trace ({err.strerror})") from None
    except UnicodeDecodeError:
        raise SpecError(f"{path}: trace is not text; expected lines 'ADDR R|W [cycle]'") from None
    return parse_trace_lines(text.splitlines(), str(path))


def synthetic(kind: str, requests: int, burst_bytes: int, capacity_bytes: int,
              stride_bytes: int | None = None, seed: int = 0,
              write_fraction: float = 0.0) -> list[TraceEntry]:
    """`requests` accesses, all arriving at cycle 0.

    ``stream``: consecutive bursts; ``strided``: every `stride_bytes`; ``random``: uniform over
    the capacity, burst-aligned. A `write_fraction` of them (chosen by `seed`) are writes.
    """
    if kind not in SYNTHETIC:
        raise SpecError(f"synthetic pattern {kind!r}; allowed: {', '.join(SYNTHETIC)}")
    if requests < 0:
        raise SpecError(f"--requests {requests}: must be non-negative")
    rng = np.random.default_rng(seed)
    index = np.arange(requests, dtype=np.int64)
    if kind == "stream":
        addresses = index * burst_bytes
    elif kind == "strided":
        stride = stride_bytes if stride_bytes is not None else burst_bytes
        if stride <= 0:
            raise SpecError(f"--stride {stride}: must be a positive number of bytes")
        addresses = index * stride
    else:
        addresses = rng.integers(0, capacity_bytes // burst_bytes, size=requests) * burst_bytes
    writes = rng.random(requests) < write_fraction if write_fraction > 0 else np.zeros(
        requests, dtype=bool)
    return [TraceEntry(int(a) % capacity_bytes, bool(w)) for a, w in zip(addresses, writes)]

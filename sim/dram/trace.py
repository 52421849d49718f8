"""Request streams: the common ``ADDR R|W [cycle]`` trace format and synthetic generators.

Trace lines hold a hex (``0x...``) or decimal byte address, ``R`` or ``W`` and an optional arrival
cycle (non-decreasing down the file); blank lines and ``#`` comments are skipped. The operation may also be spelled as other
simulators' traces spell it -- ``READ``/``WRITE`` (DRAMSim3: ``0x... READ 12``), ``RD``/``WR``,
``LD``/``ST`` or ``LOAD``/``STORE`` (Ramulator 2 LoadStoreTrace: ``LD 0x...``), ``P_MEM_RD``/
``P_MEM_WR`` (DRAMSim2 k6 traces) -- any case, and may come before the address. Without a
cycle a request arrives with the one before it (the first at cycle 0) and enters the controller
as soon as its queue has room. Each request is one burst (the standard's burst size); the low address bits inside
a burst are ignored.

``trace_format="ramulator"`` reads Ramulator 2's own trace frontends strictly, two tokens a line:
``LD ADDR`` / ``ST ADDR`` (LoadStoreTrace; decimal or ``0x`` hex byte address) and ``R X`` /
``W X`` (ReadWriteTrace), where X is a byte address or, with commas, Ramulator's address vector
``channel,rank,bankgroup,bank,row,column`` (``channel,bankgroup,bank,row,column`` for a standard
without ranks; column in bursts), placed at the byte address the run's mapping decodes to those
coordinates. No arrival cycles: every request arrives at cycle 0 and waits for queue room, as
Ramulator's frontend retries a rejected send.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from workloads.errors import SpecError

SYNTHETIC = ("stream", "strided", "random")
MAX_REQUESTS = 1_000_000  # default bound on a trace's or a pattern's requests (docs/limits.md)
MAX_LINE_CHARS = 256  # a trace line longer than this is not a trace line
READ_OPS = ("R", "READ", "RD", "LD", "LOAD", "P_MEM_RD")
WRITE_OPS = ("W", "WRITE", "WR", "ST", "STORE", "P_MEM_WR")
TRACE_FORMATS = ("einspace", "ramulator")
RAMULATOR_OPS = {"LD": False, "ST": True, "R": False, "W": True}
VectorAddress = Callable[[list[int]], int]


@dataclass(frozen=True, slots=True)
class TraceEntry:
    address: int
    is_write: bool
    arrival: int = 0


def _parse_int(text: str) -> int:
    return int(text, 16) if text.lower().startswith("0x") else int(text, 10)


def parse_trace_line(raw: str, where: str) -> TraceEntry | None:
    """One trace line (None for a blank or comment line; arrival -1 when the line has no cycle);
    errors name `where`."""
    text = raw.split("#", 1)[0].strip()
    if not text:
        return None
    parts = text.split()
    if len(parts) not in (2, 3):
        raise SpecError(f"{where}: expected 'ADDR R|W [cycle]', got {raw.strip()[:80]!r}")
    if parts[0].upper() in READ_OPS + WRITE_OPS:
        parts[0], parts[1] = parts[1], parts[0]
    try:
        address = _parse_int(parts[0])
    except ValueError:
        raise SpecError(f"{where}: address {parts[0][:40]!r} is not a hex (0x..) or decimal integer") from None
    op = parts[1].upper()
    if op not in READ_OPS + WRITE_OPS:
        raise SpecError(f"{where}: operation {parts[1][:40]!r}; allowed: {', '.join(READ_OPS + WRITE_OPS)}")
    arrival = None
    if len(parts) == 3:
        try:
            arrival = _parse_int(parts[2])
        except ValueError:
            raise SpecError(f"{where}: cycle {parts[2][:40]!r} is not an integer") from None
    if address < 0 or (arrival is not None and arrival < 0):
        raise SpecError(f"{where}: address and cycle must be non-negative")
    return TraceEntry(address, op in WRITE_OPS, -1 if arrival is None else arrival)


def parse_ramulator_line(raw: str, where: str,
                         vector_address: VectorAddress | None = None) -> TraceEntry | None:
    """One line of a Ramulator 2 trace (LoadStoreTrace ``LD|ST ADDR``, ReadWriteTrace
    ``R|W ADDR`` or ``R|W v0,v1,...``); None for a blank line. `vector_address` turns an address
    vector into a byte address (`address.vector_address`); errors name `where`."""
    text = raw.strip()
    if not text:
        return None
    parts = text.split()
    if len(parts) != 2 or parts[0] not in RAMULATOR_OPS:
        raise SpecError(f"{where}: expected a Ramulator trace line 'LD|ST ADDR' or 'R|W ADDR' "
                        f"(or 'R|W ch,ra,bg,ba,ro,co'), got {text[:80]!r}")
    token = parts[1]
    if "," in token:
        address = _vector_line_address(parts[0], token, where, vector_address)
    else:
        try:
            address = _parse_int(token)
        except ValueError:
            raise SpecError(f"{where}: address {token[:40]!r} is not a hex (0x..) or decimal "
                            "integer") from None
    if address < 0:
        raise SpecError(f"{where}: address must be non-negative")
    return TraceEntry(address, RAMULATOR_OPS[parts[0]], -1)


def _vector_line_address(op: str, token: str, where: str,
                         vector_address: VectorAddress | None) -> int:
    if op not in ("R", "W"):
        raise SpecError(f"{where}: an address vector goes with R|W (ReadWriteTrace), not {op}")
    if vector_address is None:
        raise SpecError(f"{where}: an address vector needs the standard and mapping to place it")
    try:
        vector = [int(v, 10) for v in token.split(",")]
    except ValueError:
        raise SpecError(f"{where}: address vector {token[:40]!r} is not comma-separated "
                        "decimal integers") from None
    try:
        return vector_address(vector)
    except SpecError as err:
        raise SpecError(f"{where}: {err}") from None


def line_parser(trace_format: str = "einspace", vector_address: VectorAddress | None = None):
    """The one-line parser of `trace_format` (`TRACE_FORMATS`)."""
    if trace_format == "einspace":
        return parse_trace_line
    if trace_format == "ramulator":
        return partial(parse_ramulator_line, vector_address=vector_address)
    raise SpecError(f"trace format {trace_format!r}; allowed: {', '.join(TRACE_FORMATS)}")


def parse_trace_lines(lines, source: str, *, capacity_bytes: int | None = None,
                      max_requests: int = MAX_REQUESTS, trace_format: str = "einspace",
                      vector_address: VectorAddress | None = None) -> list[TraceEntry]:
    """Parse trace lines; errors name `source` and the line. Arrival cycles must not go
    backwards (a line without a cycle arrives with the request before it, the first at cycle 0),
    addresses must lie below `capacity_bytes` (when given), and more than `max_requests` requests
    is an error (raise the bound to simulate a longer trace)."""
    return list(_checked_entries(lines, source, capacity_bytes, max_requests,
                                 line_parser(trace_format, vector_address)))


def bounded_lines(handle):
    """Lines of an open text file, each read with a length bound (so a file without newlines,
    such as /dev/zero, fails on its first line instead of filling memory)."""
    while True:
        line = handle.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        yield line


def read_trace(path: str | Path, *, capacity_bytes: int | None = None,
               max_requests: int = MAX_REQUESTS, trace_format: str = "einspace",
               vector_address: VectorAddress | None = None) -> list[TraceEntry]:
    """The requests of a trace file, streamed line by line (see `parse_trace_lines`)."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as handle:
            return parse_trace_lines(bounded_lines(handle), str(path), capacity_bytes=capacity_bytes,
                                     max_requests=max_requests, trace_format=trace_format,
                                     vector_address=vector_address)
    except OSError as err:
        raise SpecError(f"{path}: cannot read trace ({err.strerror})") from None
    except UnicodeDecodeError:
        raise SpecError(f"{path}: trace is not text; expected lines 'ADDR R|W [cycle]'") from None


CHUNK = 65536  # requests per chunk of a streamed request source


def entry_chunks(entries, chunk: int = CHUNK):
    """`TraceEntry`s (any iterable, consumed lazily) as chunks of arrays (addresses uint64,
    is_write bool, arrivals int64) for the streaming engine. Addresses wrap at 2**64 (the
    mapping reads only bits below the device capacity)."""
    buf: list[TraceEntry] = []
    for entry in entries:
        buf.append(entry)
        if len(buf) == chunk:
            yield _as_arrays(buf)
            buf = []
    if buf:
        yield _as_arrays(buf)


def _as_arrays(buf: list[TraceEntry]):
    n = len(buf)
    addresses = np.fromiter((e.address & 0xFFFF_FFFF_FFFF_FFFF for e in buf), np.uint64, n)
    writes = np.fromiter((e.is_write for e in buf), bool, n)
    arrivals = np.fromiter((e.arrival for e in buf), np.int64, n)
    return addresses, writes, arrivals


def trace_chunks(path: str | Path, *, capacity_bytes: int | None = None,
                 max_requests: int = MAX_REQUESTS, chunk: int = CHUNK,
                 trace_format: str = "einspace", vector_address: VectorAddress | None = None):
    """A trace file as chunks of arrays (see `entry_chunks`), parsed line by line with the
    checks of `parse_trace_lines`, without holding the whole trace."""
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as handle:
            yield from entry_chunks(_checked_entries(
                bounded_lines(handle), str(path), capacity_bytes, max_requests,
                line_parser(trace_format, vector_address)), chunk)
    except OSError as err:
        raise SpecError(f"{path}: cannot read trace ({err.strerror})") from None
    except UnicodeDecodeError:
        raise SpecError(f"{path}: trace is not text; expected lines 'ADDR R|W [cycle]'") from None


def _checked_entries(lines, source: str, capacity: int | None, max_requests: int,
                     parse_line=parse_trace_line):
    """The checked entries of `parse_trace_lines`, one at a time."""
    last, count = 0, 0
    for lineno, raw in enumerate(lines, start=1):
        where = f"{source}:{lineno}"
        if len(raw) > MAX_LINE_CHARS:
            raise SpecError(f"{where}: line longer than {MAX_LINE_CHARS} characters; not a trace line "
                            "'ADDR R|W [cycle]'")
        entry = parse_line(raw, where)
        if entry is None:
            continue
        if entry.arrival == -1:
            entry = TraceEntry(entry.address, entry.is_write, last)
        if entry.arrival < last:
            raise SpecError(f"{where}: cycle {entry.arrival} is before the previous request's {last}; "
                            "arrival cycles must not decrease")
        if capacity is not None and entry.address >= capacity:
            raise SpecError(f"{where}: address {entry.address:#x} is past the device's {capacity:#x} bytes")
        if count == max_requests:
            raise SpecError(f"{source}: more than {max_requests:,} requests; raise --max-requests to simulate it")
        last, count = entry.arrival, count + 1
        yield entry


def _check_synthetic(kind: str, requests: int, max_requests: int) -> None:
    if kind not in SYNTHETIC:
        raise SpecError(f"synthetic pattern {kind!r}; allowed: {', '.join(SYNTHETIC)}")
    if requests < 0:
        raise SpecError(f"--requests {requests}: must be non-negative")
    if requests > max_requests:
        raise SpecError(f"--requests {requests:,}: more than {max_requests:,}; raise --max-requests to simulate it")


def synthetic_chunks(kind: str, requests: int, burst_bytes: int, capacity_bytes: int,
                     stride_bytes: int | None = None, seed: int = 0, write_fraction: float = 0.0,
                     max_requests: int = MAX_REQUESTS, chunk: int = CHUNK):
    """The requests of `synthetic` (the same ones, same order) as chunks of arrays (addresses
    uint64, is_write bool, arrivals int64), generated chunk by chunk in flat memory."""
    _check_synthetic(kind, requests, max_requests)
    stride = stride_bytes if stride_bytes is not None else burst_bytes
    if kind == "strided" and stride <= 0:
        raise SpecError(f"--stride {stride}: must be a positive number of bytes")
    rng = np.random.default_rng(seed)
    rng_writes = np.random.default_rng(seed)  # draws after the addresses, as `synthetic` does
    if kind == "random" and write_fraction > 0:
        for start in range(0, requests, chunk):
            rng_writes.integers(0, capacity_bytes // burst_bytes, size=min(chunk, requests - start))
    step = {"stream": burst_bytes, "strided": stride}.get(kind, 0)
    for start in range(0, requests, chunk):
        n = min(chunk, requests - start)
        if kind == "random":
            addresses = rng.integers(0, capacity_bytes // burst_bytes, size=n) * burst_bytes
        else:
            addresses = np.arange(start, start + n, dtype=np.int64) * step
        writes = rng_writes.random(n) < write_fraction if write_fraction > 0 else np.zeros(n, bool)
        yield ((addresses % capacity_bytes).astype(np.uint64), writes, np.zeros(n, np.int64))


def synthetic(kind: str, requests: int, burst_bytes: int, capacity_bytes: int,
              stride_bytes: int | None = None, seed: int = 0,
              write_fraction: float = 0.0, max_requests: int = MAX_REQUESTS) -> list[TraceEntry]:
    """`requests` accesses, all arriving at cycle 0.

    ``stream``: consecutive bursts; ``strided``: every `stride_bytes`; ``random``: uniform over
    the capacity, burst-aligned. A `write_fraction` of them (chosen by `seed`) are writes.
    """
    return [TraceEntry(a, w) for addresses, writes, _ in synthetic_chunks(
        kind, requests, burst_bytes, capacity_bytes, stride_bytes, seed, write_fraction,
        max_requests) for a, w in zip(addresses.tolist(), writes.tolist())]

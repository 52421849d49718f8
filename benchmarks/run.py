"""Run every `benchmarks/bench_*.py` module and write one Markdown table.

Each module exposes `run() -> list[dict]`; every dict is one row with at least the keys
`benchmark`, `metric`, `value` and `unit`.

The table goes to `reports/bench/bench.md` (ignored by git) unless `--update` rewrites the
checked-in `reports/bench.md` or `--out` names another file.
"""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import platform
import time
from pathlib import Path

import benchmarks
from benchmarks import targets

SCRATCH = Path("reports/bench/bench.md")
CHECKED_IN = Path("reports/bench.md")


def collect() -> list[dict]:
    rows: list[dict] = []
    for info in sorted(pkgutil.iter_modules(benchmarks.__path__), key=lambda m: m.name):
        if not info.name.startswith("bench_"):
            continue
        print(f"{info.name} ...", end="", flush=True)  # a module can run for minutes: say which
        module = importlib.import_module(f"benchmarks.{info.name}")
        start = time.perf_counter()
        for row in module.run():
            rows.append({"module": info.name, **row})
        print(f" {time.perf_counter() - start:.1f} s", flush=True)
    return rows


def to_markdown(rows: list[dict]) -> str:
    head = "| module | benchmark | metric | value | unit |\n| --- | --- | --- | ---: | --- |\n"
    body = "".join(
        f"| {r['module']} | {r['benchmark']} | {r['metric']} | {r['value']:.4g} | {r['unit']} |\n"
        for r in rows
    )
    return (
        f"# einspace benchmarks\n\nMachine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.system()}; written {time.strftime('%Y-%m-%d %H:%M:%S')}.\n\n"
        f"## Targets\n\n{targets.table(rows)}\n## All rows\n\n" + head + body
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=None, help=f"output file [default: {SCRATCH}, ignored by git]")
    parser.add_argument("--update", action="store_true", help=f"rewrite the checked-in {CHECKED_IN}")
    args = parser.parse_args()
    if args.update and args.out is not None:
        parser.error("give --update or --out, not both")
    args.out = CHECKED_IN if args.update else args.out or SCRATCH
    rows = collect()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(to_markdown(rows))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

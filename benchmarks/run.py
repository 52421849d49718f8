"""Run every `benchmarks/bench_*.py` module and write one Markdown table.

Each module exposes `run() -> list[dict]`; every dict is one row with at least the keys
`benchmark`, `metric`, `value` and `unit`.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import platform
import time
from pathlib import Path

import benchmarks


def collect() -> list[dict]:
    rows: list[dict] = []
    for info in sorted(pkgutil.iter_modules(benchmarks.__path__), key=lambda m: m.name):
        if not info.name.startswith("bench_"):
            continue
        module = importlib.import_module(f"benchmarks.{info.name}")
        start = time.perf_counter()
        for row in module.run():
            rows.append({"module": info.name, **row})
        print(f"{info.name}: {time.perf_counter() - start:.1f} s", flush=True)
    return rows


def to_markdown(rows: list[dict]) -> str:
    head = "| module | benchmark | metric | value | unit |\n| --- | --- | --- | ---: | --- |\n"
    body = "".join(
        f"| {r['module']} | {r['benchmark']} | {r['metric']} | {r['value']:.4g} | {r['unit']} |\n"
        for r in rows
    )
    return (
        f"# einspace benchmarks\n\nMachine: {platform.machine()}, Python {platform.python_version()}, "
        f"{platform.system()}; written {time.strftime('%Y-%m-%d %H:%M:%S')}.\n\n" + head + body
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("reports/bench.md"))
    args = parser.parse_args()
    rows = collect()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(to_markdown(rows))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

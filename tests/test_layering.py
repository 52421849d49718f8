"""The import order of docs/ARCHITECTURE.md, enforced: import-linter's layers contract (declared in
pyproject.toml) holds for the tree, and fails on one wrong import; no private name crosses modules."""
from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
PACKAGES = CONFIG["root_packages"]


def lint(where: Path, config: Path) -> subprocess.CompletedProcess:
    code = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    return subprocess.run([sys.executable, "-c", code, "--no-cache", str(config)], cwd=where, capture_output=True,
                          text=True, env={"PYTHONPATH": str(where), "PATH": "/usr/bin:/bin"}, timeout=120)


def test_the_tree_keeps_the_layers():
    out = lint(ROOT, ROOT / "pyproject.toml")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]


def test_one_sim_module_importing_mappers_breaks_the_contract(tmp_path):
    for pkg in PACKAGES:
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "__init__.py").write_text("")
    (tmp_path / "mappers" / "search.py").write_text("def best():\n    return 1\n")
    (tmp_path / "sim" / "engine.py").write_text("import workloads\n")
    config = tmp_path / "pyproject.toml"
    config.write_text((ROOT / "pyproject.toml").read_text())
    assert lint(tmp_path, config).returncode == 0
    (tmp_path / "sim" / "engine.py").write_text("import workloads\nfrom mappers.search import best\n")
    out = lint(tmp_path, config)
    assert out.returncode != 0
    assert "sim.engine -> mappers.search" in out.stdout


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def private_imports(path: Path, text: str | None = None) -> list[str]:
    """`from other.module import _name` statements of one file."""
    module = _module_name(path)
    found = []
    for node in ast.walk(ast.parse(path.read_text() if text is None else text, str(path))):
        if not isinstance(node, ast.ImportFrom):
            continue
        source = _resolve(module, node, path.name == "__init__.py")
        for alias in node.names:
            name = alias.name
            if name.startswith("_") and not name.startswith("__") and source != module:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: from {source} import {name}")
    return found


def test_no_private_name_is_imported_across_modules():
    found = [hit for pkg in PACKAGES for f in sorted((ROOT / pkg).rglob("*.py")) for hit in private_imports(f)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("text, hits", [("from sim.pim.engine import _merge\n", 1),
                                        ("from .engine import run_fast, _Channel\n", 1),
                                        ("from sim.pim.engine import run_fast\n", 0)])
def test_the_private_import_check_finds_them(text, hits):
    assert len(private_imports(ROOT / "sim" / "pim" / "probe.py", text)) == hits

"""No function on the simulation path (workloads, sim, mappers) is over 60 lines or McCabe
complexity 15, unless its docstring says why in a paragraph starting `Why one function:`."""
from __future__ import annotations

import ast
from pathlib import Path

import mccabe
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("workloads", "sim", "mappers")
MAX_LINES, MAX_COMPLEXITY = 60, 15
REASON = "Why one function:"


def complexity(tree: ast.Module) -> dict[int, int]:
    """Line of each function's `def` -> its McCabe complexity."""
    visitor = mccabe.PathGraphingAstVisitor()
    visitor.preorder(tree, visitor)
    return {graph.lineno: graph.complexity() for graph in visitor.graphs.values()}


def oversized(path: Path, text: str | None = None) -> list[str]:
    tree = ast.parse(path.read_text() if text is None else text)
    cc = complexity(tree)
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        lines, c = node.end_lineno - node.lineno + 1, cc.get(node.lineno, 1)
        if (lines > MAX_LINES or c > MAX_COMPLEXITY) and REASON not in (ast.get_docstring(node) or ""):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}: {lines} lines, complexity {c}")
    return found


def test_simulation_path_functions_are_small():
    found = [hit for pkg in PACKAGES for f in sorted((ROOT / pkg).rglob("*.py")) for hit in oversized(f)]
    assert not found, "\n".join(found)


BRANCHY = "def f(x):\n" + "".join(f"    if x == {i}:\n        return {i}\n" for i in range(16)) + "    return -1\n"


@pytest.mark.parametrize("text, hits", [(BRANCHY, 1),
                                        (BRANCHY.replace("(x):\n", f'(x):\n    """{REASON} a table."""\n'), 0),
                                        ("def g():\n" + "    pass\n" * 61, 1), ("def h():\n    return 1\n", 0)])
def test_the_size_check_finds_them(text, hits):
    assert len(oversized(ROOT / "sim" / "probe.py", text)) == hits

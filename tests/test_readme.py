"""README honesty: its links stay inside the repository, its commands are literal (no `a|b`
placeholders), and what its and the Makefile's commands write lies under folders git ignores."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = [README, *sorted((ROOT / "docs").glob("*.md"))]


def code_blocks(text: str) -> list[str]:
    return re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)


def commands(text: str) -> list[str]:
    """The command lines of the README's code blocks, comments stripped."""
    out = []
    for block in code_blocks(text):
        for line in block.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line and not line.startswith("#"):
                out.append(line)
    return out


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_links_stay_inside_the_repository(doc):
    text = doc.read_text()
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        assert not re.match(r"[a-z]+:", target), f"{doc.name}: link leaves the repository: {target}"
        path = (doc.parent / target.split("#")[0]).resolve()
        assert path.is_relative_to(ROOT), f"{doc.name}: link outside the repository: {target}"
        assert path.exists(), f"{doc.name}: link to a missing file: {target}"


def test_readme_commands_are_literal():
    for line in commands(README.read_text()):
        assert not re.search(r"\w\|\w", line), f"placeholder alternatives in a README command: {line}"


def _ignored(path: str) -> bool:
    return subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 0


def outputs(line: str) -> list[str]:
    """Paths a README command line writes: redirections, --reproduce / -o / --out-dir folders."""
    found = re.findall(r"(?:>|--reproduce|-o|--output|--out-dir|--out)\s+(\S+)", line)
    return [f.rstrip("/") + ("/x" if not Path(f).suffix else "") for f in found]


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(), reason="not a git checkout")
def test_readme_and_makefile_commands_write_only_ignored_paths():
    from benchmarks.run import SCRATCH
    from experiments.cli.rtl import SYNTH_SCRATCH

    written = [p for line in commands(README.read_text()) for p in outputs(line)]
    assert written, "the README's commands should name where they write"
    # what `make demo`, `make bench`, `rtl synth` and a sweep write by default
    written += ["runs/demo-20260101-000000/manifest.json", "reports/demo-20260101-000000/index.html",
                str(SCRATCH), f"{SYNTH_SCRATCH}/synth.csv", f"{SYNTH_SCRATCH}/synth.png"]
    for path in written:
        assert _ignored(path), f"a README or Makefile command writes {path}, which git tracks"
    makefile = (ROOT / "Makefile").read_text()
    bench = re.search(r"^bench:.*\n((?:\t.*\n)+)", makefile, flags=re.M).group(1)
    assert "--update" not in bench and "reports/bench.md" not in bench


def test_rtl_synth_update_and_out_dir_exclude_each_other():
    from experiments.cli import main

    assert main(["rtl", "synth", "pe", "--update", "--out-dir", "somewhere"]) == 2

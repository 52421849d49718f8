"""Where einspace may write: run names are slugs, and every output path stays inside its root.

A run name (from `--run`, `--resume`, the experiment's `name:` or its file name) becomes a folder
under `--runs-dir` and `--reports-dir`; it must be a slug — letters, digits, `.`, `_`, `-`,
starting with a letter or digit, at most 100 characters — so `..`, `/`, an absolute path or `.`
cannot name a folder elsewhere. `inside(root, name)` also resolves symlinks: a run folder that is a
link out of its root is refused.
"""
from __future__ import annotations

import re
from pathlib import Path

from workloads.errors import SpecError

SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
SLUG_RULE = "letters, digits, '.', '_', '-', starting with a letter or digit, at most 100 characters"


def is_slug(text: str) -> bool:
    return bool(SLUG.fullmatch(text)) and ".." not in text


def check_slug(text: str, what: str) -> str:
    """`text` itself, or a one-line SpecError naming `what` (e.g. `--run`)."""
    if not isinstance(text, str) or not is_slug(text):
        raise SpecError(f"{what} {text!r}: not a valid run name; allowed: {SLUG_RULE}")
    return text


def slugify(text: str) -> str:
    """A slug made from free text (a file stem): other characters become '-'."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._").replace("..", ".")
    return (s or "run")[:80]


def inside(root: str | Path, name: str, what: str) -> Path:
    """`root/name`, refused (one line) unless it resolves inside `root`."""
    check_slug(name, what)
    root = Path(root)
    path = root / name
    if not path.resolve().is_relative_to(root.resolve()):
        raise SpecError(f"{what} {name!r}: {path} resolves outside {root} (a symlink?)")
    return path

"""Where the reference simulators' figures live: `shared/reference/` beside the repository (read
only; each file says what produced it), or `$EINSPACE_REFERENCES` when set."""
from __future__ import annotations

import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def reference_dir() -> Path:
    return Path(os.environ.get("EINSPACE_REFERENCES", REPO.parent / "shared" / "reference"))


def load(name: str) -> dict | None:
    """The reference file `name` (e.g. `aim_gemv.json`), or None when this checkout has none."""
    path = reference_dir() / name
    return json.loads(path.read_text()) if path.is_file() else None

"""Architecture presets as data: one YAML file per family in this folder.

Each file maps a preset name to the fields its builder takes plus a `source:` (the paper,
datasheet or standard the numbers come from; "assumption: …" where none exists). `load(family,
build)` validates the file at the edge — a missing or empty `source`, or a field the builder does
not take, is one `SpecError` line naming the file, the preset and the key — and returns
name -> spec. Adding a preset is adding an entry to the family's YAML file.
"""
from __future__ import annotations

import inspect
from pathlib import Path
from typing import Callable, TypeVar

import yaml

from workloads.errors import SpecError

PRESETS_DIR = Path(__file__).parent
T = TypeVar("T")


def read(path: Path) -> dict[str, dict]:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise SpecError(f"{path.name}: cannot read presets ({err})") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise SpecError(f"{path.name}: expected a mapping of preset name -> fields")
    return data


def load(family: str, build: Callable[..., T], folder: Path = PRESETS_DIR) -> dict[str, T]:
    """The presets of `family` (`<folder>/<family>.yaml`), each built by `build(name=…, **fields)`."""
    path = folder / f"{family}.yaml"
    params = inspect.signature(build).parameters.values()
    open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
    accepted = {p.name for p in params}
    out = {}
    for name, fields in read(path).items():
        if not str(fields.get("source", "")).strip():
            raise SpecError(f"{path.name}: {name}.source: every preset cites where its numbers come from")
        unknown = [] if open_ended else sorted(set(fields) - accepted)
        if unknown:
            raise SpecError(f"{path.name}: {name}.{unknown[0]}: unknown field; allowed: {', '.join(sorted(accepted))}")
        try:
            out[name] = build(name=name, **fields)
        except TypeError as err:
            raise SpecError(f"{path.name}: {name}: {err}") from None
    return out

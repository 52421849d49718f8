"""The results store of one run: `runs/RUN/`.

    manifest.json        run name, experiment hash, family, search, sessions (engine, jobs, wall time)
    experiment.yaml      the experiment file as it was when the run started
    points/ID.parquet    one file per finished point: its per-Einsum rows; the point (workload,
                         parameters) and its design-level metrics sit in the file's metadata

Every file is written under a temporary name and `os.replace`d into place, so a run killed at any
instant (even SIGKILL) leaves only complete points behind; `--resume` skips them. Files are not
fsynced: a killed process loses nothing the kernel already has, and only a power cut could lose the
last points (which a resume then recomputes).
"""
from __future__ import annotations

import json
import os
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from filelock import FileLock, Timeout
import pyarrow as pa
import pyarrow.parquet as pq

from workloads.errors import SpecError

_META_KEY = b"einspace"


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


class RunStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.points_dir = self.root / "points"

    @property
    def name(self) -> str:
        return self.root.name

    @contextmanager
    def lock(self):
        """Hold the run folder for one process: a second `einspace sweep` on the same run (new or
        resumed) exits 2 naming the holder instead of computing beside it."""
        fresh = not self.root.exists()
        self.root.mkdir(parents=True, exist_ok=True)
        holder = self.root / ".lock.pid"
        lock = FileLock(self.root / ".lock", timeout=0)
        try:
            lock.acquire()
        except Timeout:
            pid = holder.read_text().strip() if holder.exists() else "?"
            raise SpecError(f"run {self.name!r} is being written by another einspace process (pid {pid}); "
                            "wait for it or choose another --run") from None
        try:
            holder.write_text(str(os.getpid()))
            yield self
        finally:
            holder.unlink(missing_ok=True)
            lock.release()
            if fresh and not self.exists():
                self.remove_empty()

    def remove_empty(self) -> None:
        """Remove a run folder that never got its manifest (the run was refused before it started)."""
        (self.root / ".lock").unlink(missing_ok=True)
        for folder in (self.points_dir, self.root):
            if folder.exists() and not any(folder.iterdir()):
                folder.rmdir()

    def exists(self) -> bool:
        return (self.root / "manifest.json").exists()

    def create(self, manifest: dict, experiment_text: str) -> None:
        self.points_dir.mkdir(parents=True, exist_ok=True)
        _atomic_write_bytes(self.root / "experiment.yaml", experiment_text.encode())
        self.write_manifest(manifest)

    def manifest(self) -> dict:
        try:
            manifest = json.loads((self.root / "manifest.json").read_text())
        except FileNotFoundError:
            raise SpecError(f"run {self.name!r} not found under {self.root.parent} (no manifest.json)") from None
        except (ValueError, UnicodeDecodeError):
            raise SpecError(f"{self.root / 'manifest.json'}: damaged (not JSON); the run cannot be resumed — "
                            "start a new run") from None
        if not isinstance(manifest, dict) or not {"experiment_sha256", "sessions"} <= set(manifest):
            raise SpecError(f"{self.root / 'manifest.json'}: damaged (keys missing); start a new run")
        return manifest

    def write_manifest(self, manifest: dict) -> None:
        _atomic_write_bytes(self.root / "manifest.json", json.dumps(manifest, indent=2, sort_keys=True).encode())

    def experiment_text(self) -> str:
        return (self.root / "experiment.yaml").read_text()

    def clean_temporaries(self) -> None:
        for tmp in self.points_dir.glob(".tmp-*"):
            tmp.unlink(missing_ok=True)

    def _files(self) -> list[Path]:
        return sorted(p for p in self.points_dir.glob("*.parquet") if not p.name.startswith("."))

    def done_ids(self) -> set[str]:
        return {p.stem for p in self._files()}

    def write(self, point: dict, point_id: str, metrics: dict, rows: pd.DataFrame) -> None:
        n = len(rows)
        columns = {"point_id": pa.array([point_id] * n, pa.string()), "row": pa.array(range(n), pa.int64())}
        for col in rows.columns:
            values = rows[col].to_numpy()
            columns[col] = pa.array(values.astype(str) if values.dtype == object else values)
        table = pa.table(columns)
        meta = {"point": point, "metrics": {k: float(v) for k, v in metrics.items()}}
        table = table.replace_schema_metadata({_META_KEY: json.dumps(meta).encode()})
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        _atomic_write_bytes(self.points_dir / f"{point_id}.parquet", sink.getvalue().to_pybytes())

    def read_meta(self, point_id: str) -> dict:
        return self._meta(self.points_dir / f"{point_id}.parquet")

    def _meta(self, path: Path) -> dict:
        """The point and metrics of one point file; a damaged file is one line naming it."""
        try:
            meta = json.loads(pq.read_schema(path).metadata[_META_KEY])
            if not isinstance(meta["metrics"], dict) or not {"family", "mapping", "workload", "params"} <= set(meta["point"]):
                raise KeyError("point")
            return meta
        except (pa.ArrowException, OSError, KeyError, TypeError, ValueError):
            raise SpecError(f"{path}: damaged point file; `einspace results {self.name} --repair` moves it to "
                            f"{self.name}/damaged/ and `einspace sweep … --resume {self.name}` recomputes it") from None

    def damaged(self) -> list[Path]:
        """Point files that cannot be read back."""
        bad = []
        for f in self._files():
            try:
                self._meta(f)
                pq.read_table(f)
            except (SpecError, pa.ArrowException, OSError):
                bad.append(f)
        return bad

    def repair(self) -> list[Path]:
        """Move damaged point files to `damaged/` (kept for inspection; a resume recomputes them)."""
        bad = self.damaged()
        if bad:
            (self.root / "damaged").mkdir(exist_ok=True)
        for f in bad:
            os.replace(f, self.root / "damaged" / f.name)
        return bad

    def points(self) -> pd.DataFrame:
        """One row per finished point: id, workload, parameters, metrics; sorted by point id.
        A parameter whose name is also a metric is kept as `param_<name>`."""
        records = []
        for f in self._files():
            meta = self._meta(f)
            metrics = meta["metrics"]
            params = {(f"param_{k}" if k in metrics else k): v for k, v in meta["point"]["params"].items()}
            records.append({"point_id": f.stem, "family": meta["point"]["family"],
                            "mapping": meta["point"]["mapping"], **meta["point"]["workload"], **params, **metrics})
        df = pd.DataFrame.from_records(records)
        return df.sort_values("point_id", kind="stable").reset_index(drop=True) if len(df) else df

    def einsums(self) -> pd.DataFrame:
        """One row per Einsum per finished point, sorted by point id then cascade order."""
        files = self._files()
        if not files:
            return pd.DataFrame()
        for f in files:
            self._meta(f)
        df = pa.concat_tables([pq.read_table(f) for f in files], promote_options="permissive").to_pandas()
        return df.sort_values(["point_id", "row"], kind="stable").reset_index(drop=True)


def new_manifest(run: str, exp_path: str, exp_hash: str, family: str, search: dict) -> dict:
    return {"run": run, "experiment_file": str(exp_path), "experiment_sha256": exp_hash, "family": family,
            "search": search, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "sessions": []}

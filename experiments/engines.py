"""Where points are evaluated: a local process pool (default), dask.distributed or ray.

All three use the library's own scheduler; an engine only turns `fn(chunk)` calls into results in
completion order. dask and ray are the optional `dist` extra.
"""
from __future__ import annotations

import concurrent.futures as cf
import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import signal
import sys
from abc import abstractmethod
from contextlib import AbstractContextManager
from typing import Callable, Iterable, Iterator

from workloads.errors import SpecError

ENGINES = ("local", "dask", "ray")
# Loggers the distributed engines write through; `quiet` raises them to ERROR.
ENGINE_LOGGERS = {"dask": ("distributed", "dask", "tornado", "bokeh"), "ray": ("ray",)}


def silence(engine: str) -> None:
    """Raise the engine's loggers to ERROR (warnings and info banners off; errors still print)."""
    for name in ENGINE_LOGGERS.get(engine, ()):
        logging.getLogger(name).setLevel(logging.ERROR)
_INSTALL = "install the optional extra: .venv/bin/pip install -e '.[dist]'"


class Engine(AbstractContextManager):
    name = "engine"
    shares_filesystem = False  # True: workers write point files into the run folder themselves

    @abstractmethod
    def map_unordered(self, fn: Callable, chunks: Iterable) -> Iterator:
        """Yield `fn(chunk)` for every chunk, in completion order."""

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        return None


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent() -> None:
    """Worker initializer: ask the kernel to SIGKILL this worker when its parent dies (Linux
    prctl PR_SET_PDEATHSIG), so a sweep killed with -9 leaves no worker behind; elsewhere a no-op."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    parent = multiprocessing.parent_process()
    if parent is not None and os.getppid() != parent.pid:  # the parent died before the call
        os._exit(1)


class LocalEngine(Engine):
    """`jobs` worker processes (`concurrent.futures.ProcessPoolExecutor`, forked after the runner
    has lowered every workload, so workers start with the cascades); jobs=1 runs inline. Workers
    write their points' files themselves (`shares_filesystem`)."""

    name = "local"
    shares_filesystem = True

    def __init__(self, jobs: int = 1):
        self.jobs = jobs
        self._pool = cf.ProcessPoolExecutor(max_workers=jobs, initializer=die_with_parent) if jobs > 1 else None

    def map_unordered(self, fn, chunks):
        if self._pool is None:
            for chunk in chunks:
                yield fn(chunk)
            return
        futures = [self._pool.submit(fn, c) for c in chunks]
        try:
            for fut in cf.as_completed(futures):
                yield fut.result()
        finally:
            for fut in futures:
                fut.cancel()

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


class DaskEngine(Engine):
    """`dask.distributed.Client` on `address`, or on a `LocalCluster` of `jobs` single-thread workers.
    `quiet`: the scheduler's, workers' and client's logs below ERROR are dropped."""

    name = "dask"

    def __init__(self, jobs: int = 1, address: str | None = None, quiet: bool = False):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise SpecError(f"--engine dask needs dask.distributed; {_INSTALL}") from None
        if quiet:
            silence("dask")
        self._cluster = None
        if address:
            self.client = Client(address)
        else:
            self._cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True,
                                         dashboard_address=None,
                                         silence_logs=logging.ERROR if quiet else logging.WARNING)
            self.client = Client(self._cluster)

    def map_unordered(self, fn, chunks):
        from dask.distributed import as_completed

        futures = self.client.map(fn, list(chunks), pure=False)
        for fut in as_completed(futures):
            yield fut.result()

    def close(self):
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()


class RayEngine(Engine):
    """`ray.init(address)` (a local ray instance of `jobs` CPUs when no address) and ray tasks.
    `quiet`: ray's own logging (the start banner, warnings) below ERROR is dropped; workers' output
    never reaches the driver (`log_to_driver=False`)."""

    name = "ray"

    def __init__(self, jobs: int = 1, address: str | None = None, quiet: bool = False):
        try:
            import ray
        except ImportError:
            raise SpecError(f"--engine ray needs ray; {_INSTALL}") from None
        self.ray = ray
        if quiet:
            silence("ray")
            os.environ.setdefault("RAY_DEDUP_LOGS", "0")
        level = {"logging_level": logging.ERROR} if quiet else {}
        if address:
            ray.init(address=address, ignore_reinit_error=True, log_to_driver=False, **level)
        else:
            ray.init(num_cpus=jobs, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False, **level)

    def map_unordered(self, fn, chunks):
        remote = self.ray.remote(fn)
        pending = [remote.remote(c) for c in chunks]
        while pending:
            done, pending = self.ray.wait(pending, num_returns=1)
            yield self.ray.get(done[0])

    def close(self):
        self.ray.shutdown()


def check_engine(name: str, jobs: int = 1, address: str | None = None) -> None:
    """Refuse an engine request in one line before any run folder or worker exists."""
    if name not in ENGINES:
        raise SpecError(f"unknown engine {name!r}; allowed: {', '.join(ENGINES)}")
    if jobs < 1:
        raise SpecError(f"--jobs must be >= 1, got {jobs}")
    if name == "local" and address:
        raise SpecError("--address is for --engine dask or ray, not local")


def make_engine(name: str, jobs: int = 1, address: str | None = None, quiet: bool = False) -> Engine:
    """The engine `name`; `quiet` silences a distributed engine's logging below ERROR."""
    if jobs < 1:
        raise SpecError(f"--jobs must be >= 1, got {jobs}")
    if name == "local":
        if address:
            raise SpecError("--address is for --engine dask or ray, not local")
        return LocalEngine(jobs)
    if name == "dask":
        return DaskEngine(jobs, address, quiet)
    if name == "ray":
        return RayEngine(jobs, address, quiet)
    raise SpecError(f"unknown engine {name!r}; allowed: {', '.join(ENGINES)}")

"""Progress on stderr for the commands that can wait longer than 2 s (`pim`, `attention` and
`bitserial --reproduce`): a rich bar with the current item, done / total and the elapsed time, or
a spinner with the elapsed time for one long call. Off with `--quiet` or `--format json`."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")


def _progress(total: bool):
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                               TimeElapsedColumn)

    columns = [SpinnerColumn(), TextColumn("{task.description}")]
    if total:
        columns += [BarColumn(), MofNCompleteColumn()]
    return Progress(*columns, TimeElapsedColumn(), console=Console(stderr=True), transient=False)


def steps(items: Iterable[T], label: str, enabled: bool, name=str) -> Iterator[T]:
    """Yield `items`, showing `label: <name(item)>`, done / total and the elapsed time."""
    items = list(items)
    if not enabled:
        yield from items
        return
    with _progress(total=True) as bar:
        task = bar.add_task(label, total=len(items))
        for item in items:
            bar.update(task, description=f"{label}: {name(item)}")
            yield item
            bar.advance(task)
        bar.update(task, description=f"{label}: done")


@contextmanager
def working(label: str, enabled: bool):
    """A spinner with `label` and the elapsed time while the block runs."""
    if not enabled:
        yield
        return
    with _progress(total=False) as bar:
        bar.add_task(label, total=None)
        yield

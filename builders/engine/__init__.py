"""The one parallel-map seam of the builders: map a function over work units.

A *work unit* is plain, picklable data (manifest rows, source roots by corpus name, the
output spec, cache sizes): everything the function needs travels with it, so the same
function can run in this process, in a local process pool, or on another machine. The
function may also receive a per-worker *state* (a decoded-speech cache, a Spleeter
subprocess): ``state`` is a picklable zero-argument factory called once per worker, and
the state's ``close()`` (if any) runs when that worker ends.

Results come back in the order of the units, whatever order they finish in; ``on_result``
sees each one as it finishes (for progress records). Progress is a tqdm bar on stderr,
off with ``progress=False`` or ``MISME_NO_PROGRESS=1``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from builders.engine import local
from builders.errors import UserError

StateFactory = Callable[[], Any]


def add_arguments(parser: argparse.ArgumentParser, *, default_workers: int = 1) -> None:
    """The engine options every heavy step shares."""
    parser.add_argument("--workers", type=int, default=default_workers,
                        help=f"parallel worker processes (default {default_workers})")


def check_workers(workers: int) -> int:
    """``workers`` if it is a usable worker count, else a UserError."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise UserError(f"--workers must be at least 1, got {workers!r}")
    return workers


def map_units(fn: Callable[..., Any], units: Sequence[Any], *, workers: int = 1, desc: str = "work",
              unit: str = "unit", weights: Sequence[int] | None = None, state: StateFactory | None = None,
              on_result: Callable[[int, Any], None] | None = None, chunksize: int = 1,
              progress: bool = True) -> list[Any]:
    """``[fn(u) for u in units]`` (or ``fn(state, u)``), run by ``workers`` processes.

    ``weights[i]`` is what unit i adds to the progress bar (default 1, e.g. clips per
    batch); ``chunksize`` units travel to a worker together. The first exception a unit
    raises stops the run (units not started are cancelled) and is re-raised here.
    """
    check_workers(workers)
    return local.map_units(fn, list(units), workers=workers, desc=desc, unit=unit,
                           weights=list(weights) if weights is not None else [1] * len(units),
                           state=state, on_result=on_result, chunksize=max(1, int(chunksize)),
                           progress=progress)

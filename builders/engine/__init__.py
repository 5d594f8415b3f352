"""The one parallel-map seam of the builders: map a function over work units.

A *work unit* is plain, picklable data (manifest rows, source roots by corpus name, the
output spec, cache sizes): everything the function needs travels with it, so the same
function can run in this process, in a local process pool, or on a Ray cluster
(``--engine ray``). The function may also receive a per-worker *state* (a decoded-speech
cache, a Spleeter subprocess): ``state`` is a picklable zero-argument factory called once
per worker, and the state's ``close()`` (if any) runs when that worker ends.

Results come back in the order of the units, whatever order they finish in; ``on_result``
sees each one as it finishes (for progress records). Progress is a tqdm bar on stderr,
off with ``progress=False`` or ``MISME_NO_PROGRESS=1``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

from builders.engine import local
from builders.engine.options import BACKENDS, Engine, check_workers

StateFactory = Callable[[], Any]
__all__ = [
    "BACKENDS",
    "Engine",
    "add_arguments",
    "check_workers",
    "engine_from_args",
    "map_units",
    "resolve_engine",
]


def add_arguments(parser: argparse.ArgumentParser, *, default_workers: int = 1) -> None:
    """The engine options every heavy step shares."""
    parser.add_argument(
        "--workers",
        type=int,
        default=default_workers,
        help=f"parallel workers (default {default_workers})",
    )
    parser.add_argument(
        "--engine",
        choices=BACKENDS,
        default="local",
        help="local: this machine's processes (default); ray: a Ray cluster",
    )
    parser.add_argument(
        "--ray-address",
        metavar="auto|HOST:PORT",
        default=None,
        help="join this Ray cluster (default with --engine ray: start a local one)",
    )
    parser.add_argument("--verbose", action="store_true", help="show the engine's own logs (Ray)")


def engine_from_args(args: argparse.Namespace) -> Engine:
    """The :class:`Engine` the command line asks for."""
    return Engine(
        getattr(args, "engine", "local"),
        args.workers,
        getattr(args, "ray_address", None),
        getattr(args, "verbose", False),
    )


def resolve_engine(engine: Engine | None, workers: int = 1) -> Engine:
    """``engine`` if given, else the local engine with ``workers`` processes."""
    return engine if engine is not None else Engine(workers=check_workers(workers))


def map_units(
    fn: Callable[..., Any],
    units: Sequence[Any],
    *,
    workers: int = 1,
    engine: Engine | None = None,
    desc: str = "work",
    unit: str = "unit",
    weights: Sequence[int] | None = None,
    state: StateFactory | None = None,
    on_result: Callable[[int, Any], None] | None = None,
    chunksize: int = 1,
    progress: bool = True,
) -> list[Any]:
    """``[fn(u) for u in units]`` (or ``fn(state, u)``), run by ``engine`` (default: ``workers`` local processes).

    ``weights[i]`` is what unit i adds to the progress bar (default 1, e.g. clips per
    batch); ``chunksize`` units travel to a worker together. The first exception a unit
    raises stops the run (units not started are cancelled) and is re-raised here.
    """
    engine = resolve_engine(engine, workers)
    options = {
        "desc": desc,
        "unit": unit,
        "weights": list(weights) if weights is not None else [1] * len(units),
        "state": state,
        "on_result": on_result,
        "chunksize": max(1, int(chunksize)),
        "progress": progress,
    }
    if engine.backend == "ray":
        from builders.engine import ray_backend

        return ray_backend.map_units(fn, list(units), engine=engine, **options)
    return local.map_units(fn, list(units), workers=engine.workers, **options)

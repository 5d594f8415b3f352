"""``OUT/build-state.json``: machine-local state of a build (the source roots by corpus).

Not part of the dataset: manifests store paths relative to each corpus root, so the same
plan renders on any machine that names its own roots (``--root corpus=PATH``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from builders.common.atomic import atomic_file
from builders.errors import UserError


def write_build_state(out: Path, roots: Mapping[str, Path]) -> None:
    """Record the absolute source roots of this machine."""
    with atomic_file(Path(out) / "build-state.json") as tmp:
        tmp.write_text(json.dumps({"roots": {k: str(v) for k, v in sorted(roots.items())}}, indent=2) + "\n")


def read_roots(out: Path) -> dict[str, str]:
    """The roots recorded by :func:`write_build_state`; UserError when there are none."""
    state = Path(out) / "build-state.json"
    try:
        roots = json.loads(state.read_text())["roots"]
    except FileNotFoundError:
        raise UserError(f"{state} not found: give the source roots (e.g. --ravdess/--deam/--soundtracks)") from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UserError(f"{state} is not valid build state: {error}") from error
    if not isinstance(roots, dict):
        raise UserError(f"{state} is not valid build state: roots is not a table")
    return roots


def resolve_roots(out: Path, roots: Mapping[str, Path | str] | None, corpora: Iterable[str]) -> dict[str, str]:
    """Absolute roots of ``corpora`` from ``roots`` or OUT/build-state.json, checked to exist."""
    given = read_roots(out) if roots is None else roots
    resolved = {}
    for corpus in sorted(set(corpora)):
        root = given.get(corpus)
        if not root or not Path(root).is_dir():
            raise UserError(f"source root for {corpus!r} not found: {root}")
        resolved[corpus] = str(Path(root).resolve())
    return resolved

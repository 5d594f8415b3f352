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
        tmp.write_text(
            json.dumps({"roots": {k: str(v) for k, v in sorted(roots.items())}}, indent=2) + "\n"
        )


def read_roots(out: Path) -> dict[str, str]:
    """The roots recorded by :func:`write_build_state`; UserError when there are none."""
    state = Path(out) / "build-state.json"
    try:
        roots = json.loads(state.read_text())["roots"]
    except FileNotFoundError:
        raise UserError(
            f"{state} not found: give the source roots (e.g. --ravdess/--deam/--soundtracks)"
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UserError(f"{state} is not valid build state: {error}") from error
    if not isinstance(roots, dict):
        raise UserError(f"{state} is not valid build state: roots is not a table")
    return roots


def resolve_roots(
    out: Path, roots: Mapping[str, Path | str] | None, corpora: Iterable[str], *, check: bool = True
) -> dict[str, str]:
    """Absolute roots of ``corpora`` from ``roots`` (those given win) or OUT/build-state.json.

    ``check`` (on by default) requires each root to be a folder here; a cluster's roots
    may exist only on its nodes, where each unit checks its own files.
    """
    given = read_roots(out) if roots is None else roots
    resolved = {}
    for corpus in sorted(set(corpora)):
        root = given.get(corpus)
        if not root or (check and not Path(root).is_dir()):
            raise UserError(f"source root for {corpus!r} not found: {root}")
        resolved[corpus] = str(Path(root).resolve()) if check else str(root)
    return resolved


def roots_from_options(
    out: Path, values: Iterable[str] | None, roots_file: Path | None = None
) -> dict[str, str] | None:
    """The build's recorded roots overridden by ``--root corpus=PATH`` options and/or a
    ``--roots-file`` (JSON, or TOML ``corpus = "PATH"``); None when neither is given."""
    overrides = _root_overrides(values, roots_file)
    if overrides is None:
        return None
    try:
        recorded = read_roots(out)
    except UserError:
        recorded = {}
    _refuse_unknown_corpora(overrides, set(recorded) | _planned_corpora(out))
    return {**recorded, **overrides}


def _refuse_unknown_corpora(overrides: Mapping[str, str], known: set[str]) -> None:
    """A root named for no corpus of the build (a misspelt name) would be ignored: refuse it.
    Nothing is checked when the build records no corpus yet (no plan)."""
    unknown = sorted(set(overrides) - known)
    if known and unknown:
        raise UserError(
            f"--root/--roots-file: unknown corpus {', '.join(map(repr, unknown))}; "
            f"this build's corpora: {', '.join(sorted(known))}"
        )


def _planned_corpora(out: Path) -> set[str]:
    """The corpora of the plan's sources manifest (empty when there is none)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        column = pq.read_table(Path(out) / "manifests" / "sources.parquet", columns=["corpus"])
    except (FileNotFoundError, pa.ArrowInvalid, KeyError, OSError):
        return set()
    return {str(value) for value in column["corpus"].unique().to_pylist() if value is not None}


def _root_overrides(values: Iterable[str] | None, roots_file: Path | None) -> dict[str, str] | None:
    roots: dict[str, str] = {}
    if roots_file is not None:
        roots.update(_read_roots_file(Path(roots_file)))
    for value in values or ():
        corpus, sep, path = value.partition("=")
        if not sep or not corpus.strip() or not path.strip():
            raise UserError(
                f"--root must be CORPUS=PATH (e.g. ravdess=/mnt/ravdess), got {value!r}"
            )
        roots[corpus.strip()] = path.strip()
    return roots or None


def _read_roots_file(path: Path) -> dict[str, str]:
    import tomllib

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise UserError(f"cannot read --roots-file {path}: {error.strerror or error}") from None
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as error:
        raise UserError(f"--roots-file {path} is neither JSON nor TOML: {error}") from None
    data = data.get("roots", data)
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise UserError(f"--roots-file {path} must map corpus names to paths")
    return dict(data)


def add_root_arguments(parser) -> None:
    """``--root`` and ``--roots-file``: where the source corpora are on the machines that render."""
    parser.add_argument(
        "--root",
        action="append",
        metavar="CORPUS=PATH",
        help="source root of one corpus on the machines that run the units (repeatable; "
        "default: the roots recorded by the plan in OUT/build-state.json)",
    )
    parser.add_argument(
        "--roots-file",
        type=Path,
        metavar="FILE",
        help='corpus roots as JSON or TOML (corpus = "PATH"); --root options override it',
    )

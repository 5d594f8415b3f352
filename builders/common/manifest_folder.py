"""A plan's manifests folder, written as a whole and kept when the plan did not change.

``OUT/manifests/`` is written into a temporary folder and renamed into place
(:func:`builders.common.atomic.atomic_dir`), so it is either the complete new plan or the
old one. When the folder already holds the same plan, it is left untouched: later steps
(render, separation) add columns and files to it, and a re-plan must not lose them. A
changed plan over a rendered build is refused unless forced, and then deletes what the old
plan's render made (:func:`builders.common.rendered.clear_rendered`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from builders.common.atomic import atomic_dir
from builders.common.manifest import read_manifest_frame, write_manifest
from builders.common.rendered import clear_rendered
from builders.errors import UserError


class _Unchanged(Exception):
    """Raised inside ``atomic_dir`` to discard a freshly written plan equal to the existing one."""


def write_manifest_folder(
    folder: Path,
    tables: Mapping[str, pd.DataFrame],
    texts: Mapping[str, str],
    *,
    force: bool = False,
) -> bool:
    """Write ``tables`` (Parquet, by file name) and ``texts`` (UTF-8) as the folder ``folder``.

    Returns True when the folder was (re)written, False when it already held this plan
    (same texts byte for byte; every planned table present with at least the planned
    columns holding the planned values). A changed plan in a build folder that holds outputs
    of the old one (shards, digest, ...) is a UserError naming ``--force``; with ``force``
    those outputs are deleted first. OSError becomes a UserError naming the folder.
    """
    folder = Path(folder)
    try:
        with atomic_dir(folder) as tmp:
            for name, frame in tables.items():
                write_manifest(frame, tmp / name)
            for name, text in texts.items():
                (tmp / name).write_text(text, encoding="utf-8")
            if same_plan(tmp, folder, list(tables), list(texts)):
                raise _Unchanged
            clear_rendered(folder.parent, force=force)
    except _Unchanged:
        return False
    except OSError as error:
        raise UserError(
            f"cannot write manifests under {folder.parent}: {error.strerror or error}"
        ) from error
    return True


def same_plan(new: Path, existing: Path, tables: list[str], texts: list[str]) -> bool:
    """True when ``existing`` holds ``new``'s plan (later steps may have added columns, files)."""
    for name in texts:
        if (
            not (existing / name).is_file()
            or (existing / name).read_bytes() != (new / name).read_bytes()
        ):
            return False
    for name in tables:
        if not (existing / name).is_file():
            return False
        planned = read_manifest_frame(new / name)
        try:
            present = read_manifest_frame(existing / name)
        except UserError:
            return False
        if not set(planned.columns) <= set(present.columns):
            return False
        if not present[list(planned.columns)].equals(planned):
            return False
    return True

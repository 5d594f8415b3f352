"""Write-then-rename helpers: an output either exists complete or not at all.

Temporary names are ``.<name>.tmp-<host>-<pid>-<random>``: unique across the hosts and
processes of one run (a cluster writes into one shared build folder), and recognisable,
so that :func:`remove_stale_temp_files` can clear what a killed run left behind.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path

TEMP_MARK = ".tmp-"
_HOST = re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname())[:32] or "host"


def temp_sibling(path: Path, kind: str = "tmp") -> Path:
    """A fresh hidden sibling of ``path`` whose name no other process or host can draw."""
    path = Path(path)
    return path.with_name(f".{path.name}.{kind}-{_HOST}-{os.getpid()}-{secrets.token_hex(4)}")


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it to ``path`` on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_dir(path: Path) -> Iterator[Path]:
    """Yield an empty temporary folder; on success it replaces ``path`` as a whole."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_sibling(path)
    tmp.mkdir()
    try:
        yield tmp
        old = temp_sibling(path, "old")
        if path.exists():
            os.replace(path, old)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def remove_stale_temp_files(folder: Path, started_at: float | None = None) -> int:
    """Remove temporary files below ``folder`` older than ``started_at`` (default: now).

    Only names made by :func:`temp_sibling` are touched, and only those older than this
    run: files of this run are removed by their own context managers.
    """
    started_at = time.time() if started_at is None else started_at
    removed = 0
    if not Path(folder).is_dir():
        return 0
    for stale in Path(folder).rglob(f".*{TEMP_MARK}*"):
        try:
            if stale.is_file() and stale.stat().st_mtime < started_at:
                stale.unlink()
                removed += 1
        except FileNotFoundError:  # removed meanwhile by its own run
            continue
    return removed

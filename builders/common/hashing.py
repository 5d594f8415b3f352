"""Checksums of files and of canonical text lines."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path


def file_sha256(path: Path | str) -> str:
    """sha256 of a file's bytes (``hashlib.file_digest``: chunked, bounded memory)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def lines_sha256(lines: Iterable[str]) -> str:
    """sha256 of the UTF-8 concatenation of ``lines`` (each should end with ``\\n``)."""
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode())
    return digest.hexdigest()

"""Installed package versions and the environment lock, recorded in recipes and dataset cards.

Byte-identical builds need the same packages that touch audio bytes (decoding, resampling,
encoding, loudness, Parquet; the ffmpeg binary that decodes M4A/AAC, Ogg, Opus and WebM): a build records their versions and the sha256 of the checkout's
hashed lock file (the one `make install` installs from), and ``verify`` says which differ in another environment.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from builders.common.decode import ffmpeg_version  # re-exported for the card
from builders.common.hashing import file_sha256

LOCK_FILE = Path(__file__).resolve().parents[2] / "requirements" / "main.lock"
NO_LOCK = "unknown (not installed from requirements/main.lock)"


BINARY_VERSIONS = {"ffmpeg": ffmpeg_version}  # tools that are no distribution: their own version


def package_version(name: str) -> str:
    """The installed version of distribution ``name`` (of the ffmpeg binary that decodes and
    measures for ``"ffmpeg"``), or ``"unknown"``."""
    if name in BINARY_VERSIONS:
        return BINARY_VERSIONS[name]()
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def package_versions(names: Iterable[str]) -> dict[str, str]:
    """``{"python": ..., name: version, ...}`` in the order given."""
    return {"python": platform.python_version(), **{name: package_version(name) for name in names}}


def lock_sha256() -> str:
    """sha256 of the lock file this checkout installs from (``make install``)."""
    return file_sha256(LOCK_FILE) if LOCK_FILE.is_file() else NO_LOCK


def differences(recorded: dict[str, str]) -> list[str]:
    """``name: recorded -> installed`` for every recorded version this environment does not have."""
    here = {"python": platform.python_version()}
    changed = []
    for name, version in sorted(recorded.items()):
        installed = here.get(name) or package_version(name)
        if name != "misme-toolkit" and installed != version:
            changed.append(f"{name}: {version} -> {installed}")
    return changed

"""Installed package versions, recorded in recipes and dataset cards."""

from __future__ import annotations

import platform
from collections.abc import Iterable
from importlib import metadata


def package_version(name: str) -> str:
    """The installed version of distribution ``name``, or ``"unknown"``."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def package_versions(names: Iterable[str]) -> dict[str, str]:
    """``{"python": ..., name: version, ...}`` in the order given."""
    return {"python": platform.python_version(), **{name: package_version(name) for name in names}}

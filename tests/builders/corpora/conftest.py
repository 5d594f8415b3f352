"""Locating the shared reference annotation files (real formats, no audio)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def reference_data_root() -> Path:
    """``$MISME_REFERENCE_DATA`` or ``../shared/reference-data`` next to the repository."""
    configured = os.environ.get("MISME_REFERENCE_DATA")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[3].parent / "shared" / "reference-data"


@pytest.fixture(scope="session")
def reference_data() -> Path:
    root = reference_data_root()
    if not root.is_dir():
        pytest.skip(f"reference data not available at {root} (set MISME_REFERENCE_DATA)")
    return root

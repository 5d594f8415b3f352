"""Random generators derived from (seed, purpose, stable id), never from iteration order."""

from __future__ import annotations

import hashlib

import numpy as np


def derive_seed(seed: int, purpose: str, stable_id: str = "") -> int:
    """A 64-bit integer that depends only on ``seed``, ``purpose`` and ``stable_id``."""
    digest = hashlib.sha256(f"{int(seed)}\x1f{purpose}\x1f{stable_id}".encode()).digest()
    return int.from_bytes(digest[:8], "little")


def rng_for(seed: int, purpose: str, stable_id: str = "") -> np.random.Generator:
    """A PCG64 generator for one random decision about one item.

    Two calls with the same arguments give generators that produce the same stream,
    whatever else was drawn before, in whatever process.
    """
    return np.random.Generator(np.random.PCG64(derive_seed(seed, purpose, stable_id)))


def seeded_order(ids: list[str], seed: int, purpose: str) -> list[str]:
    """``ids`` in an order drawn from (seed, purpose, id) only: stable under reordering and subsetting."""
    keys = {i: rng_for(seed, purpose, i).random() for i in ids}
    return sorted(ids, key=lambda i: (keys[i], i))

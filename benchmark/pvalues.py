"""How a p-value reads on a page or in a table: never a bare 0."""

from __future__ import annotations

import math


def p_text(p: float | None) -> str:
    """A p-value as read on a page: 3 decimals, or scientific below 0.001 ("3.2e-07"),
    "< 1e-16" below double precision's resolution (never a bare 0), "" for a missing one."""
    if p is None or not math.isfinite(p):
        return ""
    if p < 1e-16:
        return "< 1e-16"
    return f"{p:.1e}" if p < 1e-3 else f"{p:.3f}"

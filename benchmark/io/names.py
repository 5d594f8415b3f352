"""Which extra solution columns are groups and breakdowns.

The first group column found is the unit that the bootstrap resamples and the leaderboard's
public/private split keeps whole (ids of one speaker, artist or track are not independent);
each breakdown column gets scores per value.
"""

from __future__ import annotations

from collections.abc import Iterable

GROUP_COLUMNS = ("actor", "speaker", "group", "artist")
BREAKDOWN_COLUMNS = ("gender", "corpus")


def extra_columns(names: list[str]) -> list[str]:
    """The first group column and the breakdown columns among ``names``, in that order."""
    groups = [c for c in GROUP_COLUMNS if c in names][:1]
    return groups + [c for c in BREAKDOWN_COLUMNS if c in names and c not in groups]


def group_column(columns: Iterable[str]) -> str | None:
    """The first of :data:`GROUP_COLUMNS` among ``columns`` (a solution frame, or the column
    names, or the ``text`` of :class:`~benchmark.io.arrays.SolutionArrays`), or None."""
    return next((c for c in GROUP_COLUMNS if c in columns), None)

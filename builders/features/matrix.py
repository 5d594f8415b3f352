"""A view's feature table as a matrix in the order of given ids: what every baseline fits on.

A feature choice is one set (``music-essentia``), a named combination
(``music-essentia-compare``, :data:`~builders.features.extractors.COMBINED_SETS`) or names
joined by ``+`` (``music-essentia+music-compare``, the Essentia + ComParE set of seed 003):
its matrix is the sets' matrices side by side, its column names each prefixed with its set's
name.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from builders.errors import UserError
from builders.features import extract as feats
from builders.features.extractors import COMBINED_SETS, FEATURE_SETS


def feature_sets(choice: str) -> tuple[str, ...]:
    """The extracted sets of a feature choice, in order, each once; UserError naming the
    known sets and combinations for an unknown name."""
    names: list[str] = []
    for name in (part.strip() for part in str(choice).split("+")):
        found = COMBINED_SETS.get(name, (name,))
        unknown = [n for n in found if n not in FEATURE_SETS]
        if unknown or not name:
            known = ", ".join([*FEATURE_SETS, *COMBINED_SETS])
            raise UserError(
                f"unknown feature set '{name}' in '{choice}'; choose from {known} "
                "(or several joined by '+')"
            )
        names += [n for n in found if n not in names]
    return tuple(names)


def combined_matrix(
    out: Path, choice: str, view: str, ids: Sequence[str] | pd.Series, **options
) -> np.ndarray:
    """:func:`feature_matrix` of each set of ``choice``, columns side by side."""
    return feature_matrix(out, choice, view, list(ids), **options)


def set_parts(feature_set: str) -> list[str]:
    """The sets a feature choice is made of (:func:`feature_sets`)."""
    return list(feature_sets(feature_set))


def has_table(out: Path, feature_set: str, view: str) -> bool:
    """Whether every set of ``feature_set`` has a table for ``view``."""
    return all(feats.table_path(out, part, view).is_file() for part in set_parts(feature_set))


def feature_names(out: Path, feature_set: str, view: str) -> list[str]:
    """The matrix's column names (prefixed with the set's name in a combination)."""
    parts = set_parts(feature_set)
    names = []
    for part in parts:
        columns = feats.read_table(feats.table_path(out, part, view)).columns
        prefix = f"{part}:" if len(parts) > 1 else ""
        names += [f"{prefix}{c}" for c in columns if c != "id"]
    return names


def feature_matrix(
    out: Path,
    feature_set: str,
    view: str,
    ids: Sequence[str] | pd.Series,
    *,
    missing_hint: str | None = None,
    exact: bool = True,
) -> np.ndarray:
    """``OUT/features/<feature_set>/<view>.parquet`` as float64 rows in the order of ``ids``
    (a combination: its sets' matrices side by side).

    UserError naming the step to run when the table is missing (``missing_hint``, default:
    the features command) or lacks some of ``ids``; with ``exact`` also when it holds ids
    that ``ids`` does not name (features of another build).
    """
    parts = set_parts(feature_set)
    if len(parts) > 1:
        matrices = [
            feature_matrix(out, part, view, ids, missing_hint=missing_hint, exact=exact)
            for part in parts
        ]
        return np.concatenate(matrices, axis=1)
    path = feats.table_path(out, feature_set, view)
    if not path.is_file():
        hint = missing_hint or f"run `misme-build features {out} --set {feature_set}`"
        raise UserError(f"no {feature_set} features for view '{view}' ({path}); {hint}")
    table = feats.read_table(path).set_index("id")
    wanted = pd.Index(list(ids))
    extra = table.index.difference(wanted)
    if exact and len(extra):
        raise UserError(
            f"features/manifest mismatch: {path} has {len(extra)} ids not in the manifests "
            f"(e.g. {extra[0]}); the features belong to another build"
        )
    missing = wanted.difference(table.index)
    if len(missing):
        raise UserError(
            f"features/manifest mismatch: {path} lacks {len(missing)} of {len(wanted)} clips "
            f"(e.g. {missing[0]}); finish rendering, then re-run `misme-build features`"
        )
    return table.loc[wanted].to_numpy(dtype="float64")

"""A view's feature table as a matrix in the order of given ids: what every baseline fits on."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from builders.errors import UserError
from builders.features import extract as feats


def feature_matrix(
    out: Path,
    feature_set: str,
    view: str,
    ids: Sequence[str] | pd.Series,
    *,
    missing_hint: str | None = None,
    exact: bool = True,
) -> np.ndarray:
    """``OUT/features/<feature_set>/<view>.parquet`` as float64 rows in the order of ``ids``.

    UserError naming the step to run when the table is missing (``missing_hint``, default:
    the features command) or lacks some of ``ids``; with ``exact`` also when it holds ids
    that ``ids`` does not name (features of another build).
    """
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

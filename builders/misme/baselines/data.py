"""The baselines' inputs: manifests, fold checks, labels per role, feature matrices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from builders.errors import UserError
from builders.features.matrix import feature_matrix, has_table, set_parts
from builders.misme.baselines.settings import Domain
from builders.misme.spec import SPEECH_CORPORA, made_by


def load_manifests(out: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """sources.parquet and mixes.parquet of a build, ids as str."""
    folder = Path(out) / "manifests"
    paths = [folder / "sources.parquet", folder / "mixes.parquet"]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise UserError(f"{missing[0]} not found; run `misme-build misme plan` (and render) first")
    sources, mixes = (pd.read_parquet(p) for p in paths)
    for frame, column in (
        (sources, "source_id"),
        (mixes, "mix_id"),
        (mixes, "speech_id"),
        (mixes, "music_id"),
    ):
        frame[column] = frame[column].astype(str)
    return sources, mixes


def _fold_values(frame: pd.DataFrame, what: str) -> pd.Series:
    folds = pd.to_numeric(frame["fold"], errors="coerce")
    bad = folds.isna() | (folds != folds.round())
    if bad.any():
        raise UserError(
            f"inconsistent fold column: {int(bad.sum())} {what} rows have no whole-number fold"
        )
    return folds.astype("int64")


def check_folds(sources: pd.DataFrame, mixes: pd.DataFrame) -> None:
    """UserError if a source sits in two folds, an actor spans folds, or a mix's fold
    differs from the fold of its speech or music source."""
    sources = sources.assign(fold=_fold_values(sources, "sources.parquet"))
    mixes = mixes.assign(fold=_fold_values(mixes, "mixes.parquet"))
    per_source = sources.groupby("source_id")["fold"].nunique()
    if (per_source > 1).any():
        sid = per_source[per_source > 1].index[0]
        raise UserError(f"inconsistent fold column: source {sid} is in more than one fold")
    if "actor" in sources.columns:
        actors = sources.dropna(subset=["actor"]).groupby("actor")["fold"].nunique()
        if (actors > 1).any():
            raise UserError(
                f"inconsistent fold column: actor {actors[actors > 1].index[0]} is in more than "
                "one fold (folds must be speaker-independent)"
            )
    fold_of = sources.drop_duplicates("source_id").set_index("source_id")["fold"]
    for column in ("speech_id", "music_id"):
        unknown = ~mixes[column].isin(fold_of.index)
        if unknown.any():
            raise UserError(
                f"mixes.parquet names {column} {mixes.loc[unknown, column].iloc[0]} which is not in "
                "sources.parquet"
            )
        differs = mixes[column].map(fold_of) != mixes["fold"]
        if differs.any():
            row = mixes[differs].iloc[0]
            raise UserError(
                f"inconsistent fold column: mix {row['mix_id']} is in fold {row['fold']} but its "
                f"{column.split('_')[0]} source {row[column]} is in fold {fold_of[row[column]]}"
            )
    if mixes["fold"].nunique() < 2:
        raise UserError("cross-validation needs at least two folds; the manifests have one")


def labels(domain: Domain, role: str, sources: pd.DataFrame, mixes: pd.DataFrame) -> pd.DataFrame:
    """``id, fold`` + targets of the clips of one role (single-source or mix), sorted by id."""
    if role == "single":
        speech = sources["corpus"].isin(SPEECH_CORPORA)
        rows = sources[speech if domain.classification else ~speech]
        frame = rows.rename(columns={"source_id": "id"})
    else:
        frame = mixes.rename(columns={"mix_id": "id"})
    frame = frame[["id", "fold", *domain.targets]].copy()
    frame["fold"] = frame["fold"].astype("int64")
    if domain.classification:
        frame["emotion"] = frame["emotion"].astype("int64")
    else:
        frame[list(domain.targets)] = frame[list(domain.targets)].astype("float64")
    return frame.sort_values("id", kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------- features


def feature_hint(out: Path, domain: Domain, view: str) -> str:
    if not (Path(out) / "audio" / view).is_dir():
        return f"the view '{view}' is made by {made_by(view)}, then `misme-build features`"
    missing = [p for p in set_parts(domain.feature_set) if not has_table(out, p, view)]
    sets = " and ".join(f"--set {p}" for p in missing or [domain.feature_set])
    return f"run `misme-build features {out} {sets} --views {view}`"


def has_features(out: Path, domain: Domain, view: str) -> bool:
    return has_table(out, domain.feature_set, view)


def load_features(out: Path, domain: Domain, view: str, expected: pd.DataFrame) -> np.ndarray:
    """Feature matrix of ``view`` in the row order of ``expected`` (ids must match exactly)."""
    return feature_matrix(
        out, domain.feature_set, view, expected["id"], missing_hint=feature_hint(out, domain, view)
    )

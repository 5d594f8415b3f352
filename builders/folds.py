"""Seeded fold assignment that never splits a speaker or a music clip across folds."""

from __future__ import annotations

import pandas as pd

from builders.errors import UserError
from builders.seeding import rng_for, seeded_order


def quadrant(valence: float, arousal: float, midpoint: float = 5.0) -> str:
    """Russell quadrant on a scale centred at ``midpoint`` (zero counts as low).

    Q1: V>0, A>0; Q2: V<=0, A>0; Q3: V<=0, A<=0; Q4: V>0, A<=0.
    """
    v, a = valence - midpoint, arousal - midpoint
    if a > 0:
        return "Q1" if v > 0 else "Q2"
    return "Q4" if v > 0 else "Q3"


def _fold_offsets(n_folds: int, seed: int, purpose: str) -> list[int]:
    """A seeded permutation of fold numbers 1..n_folds, so fold 1 is not always the fullest."""
    order = rng_for(seed, purpose, "fold-order").permutation(n_folds)
    return [int(f) + 1 for f in order]


def assign_actor_folds(actors: pd.DataFrame, n_folds: int, seed: int) -> dict[str, int]:
    """Folds for speakers: each gender shuffled and dealt round-robin over the folds.

    With 24 RAVDESS actors (12 male, 12 female) and 6 folds this gives exactly
    2 male + 2 female actors per fold. ``actors`` has columns ``actor`` and ``gender``.
    """
    folds: dict[str, int] = {}
    fold_order = _fold_offsets(n_folds, seed, "folds-actors")
    position = 0
    for gender in sorted(actors["gender"].unique()):
        members = sorted(actors.loc[actors["gender"] == gender, "actor"].astype(str).unique())
        for actor in seeded_order(members, seed, f"folds-actors-{gender}"):
            folds[actor] = fold_order[position % n_folds]
            position += 1
    return folds


def assign_music_folds(music: pd.DataFrame, n_folds: int, seed: int) -> dict[str, int]:
    """Folds for music clips: equal sizes (+-1), stratified by corpus and V/A quadrant.

    Clips are grouped into strata (corpus, quadrant), shuffled within each stratum by
    a key drawn from (seed, id), and dealt round-robin over the folds, the deal
    continuing from stratum to stratum so fold sizes differ by at most one.
    ``music`` has columns ``source_id``, ``corpus``, ``quadrant``.
    """
    folds: dict[str, int] = {}
    fold_order = _fold_offsets(n_folds, seed, "folds-music")
    position = 0
    strata = music.groupby(["corpus", "quadrant"], sort=True)["source_id"]
    for (corpus, quad), ids in strata:
        for source_id in seeded_order(sorted(ids.astype(str)), seed, f"folds-music-{corpus}-{quad}"):
            folds[source_id] = fold_order[position % n_folds]
            position += 1
    return folds


def check_folds(speech: pd.DataFrame, music: pd.DataFrame, n_folds: int) -> None:
    """Raise UserError when a fold has no speaker or no music clip."""
    for name, table in (("speech", speech), ("music", music)):
        present = set(table["fold"].unique())
        missing = sorted(set(range(1, n_folds + 1)) - present)
        if missing:
            raise UserError(
                f"too few {name} sources for {n_folds} folds: fold(s) {missing} would be empty "
                f"({len(table)} {name} files found)"
            )


def fold_audit(speech: pd.DataFrame, music: pd.DataFrame, n_folds: int) -> dict:
    """Per fold: actors, genders, emotion counts, music count per corpus and quadrant."""
    audit: dict[str, dict] = {}
    for fold in range(1, n_folds + 1):
        s = speech[speech["fold"] == fold]
        m = music[music["fold"] == fold]
        audit[f"fold{fold}"] = {
            "actors": sorted(s["actor"].astype(str).unique().tolist()),
            "genders": {g: int(n) for g, n in s.drop_duplicates("actor")["gender"].value_counts().sort_index().items()},
            "speech_clips": int(len(s)),
            "emotions": {str(e): int(n) for e, n in s["emotion_name"].value_counts().sort_index().items()},
            "music_clips": int(len(m)),
            "music_per_corpus": {c: int(n) for c, n in m["corpus"].value_counts().sort_index().items()},
            "music_per_quadrant": {q: int(n) for q, n in m["quadrant"].value_counts().sort_index().items()},
        }
    return audit


def leakage_check(speech: pd.DataFrame, music: pd.DataFrame) -> dict:
    """Counts of actors / music clips / artists found in more than one fold (all must be 0)."""
    def multi(table: pd.DataFrame, column: str) -> int:
        values = table.dropna(subset=[column])
        if values.empty:
            return 0
        return int((values.groupby(column)["fold"].nunique() > 1).sum())

    report = {"actors_in_several_folds": multi(speech, "actor"), "music_in_several_folds": multi(music, "source_id")}
    if "artist" in music.columns:
        report["artists_in_several_folds"] = multi(music, "artist")
    return report


__all__ = [
    "assign_actor_folds",
    "assign_music_folds",
    "check_folds",
    "fold_audit",
    "leakage_check",
    "quadrant",
]

"""MiSME folds: speakers dealt by gender, music stratified by corpus and quadrant (docs/spec.md section 4)."""

from __future__ import annotations

import pandas as pd

from builders.common.folds import deal_round_robin, groups_in_several_folds, require_every_fold


def assign_actor_folds(actors: pd.DataFrame, n_folds: int, seed: int) -> dict[str, int]:
    """Folds for speakers: each gender shuffled and dealt round-robin over the folds.

    With 24 RAVDESS actors (12 male, 12 female) and 6 folds this gives exactly
    2 male + 2 female actors per fold. ``actors`` has columns ``actor`` and ``gender``.
    """
    strata = [
        (gender, actors.loc[actors["gender"] == gender, "actor"].astype(str))
        for gender in sorted(actors["gender"].unique())
    ]
    return deal_round_robin(strata, n_folds, seed, "folds-actors")


def assign_music_folds(music: pd.DataFrame, n_folds: int, seed: int) -> dict[str, int]:
    """Folds for music clips: equal sizes (+-1), stratified by corpus and V/A quadrant.

    ``music`` has columns ``source_id``, ``corpus``, ``quadrant``.
    """
    strata = [
        (f"{corpus}-{quad}", ids.astype(str))
        for (corpus, quad), ids in music.groupby(["corpus", "quadrant"], sort=True)["source_id"]
    ]
    return deal_round_robin(strata, n_folds, seed, "folds-music")


def check_folds(speech: pd.DataFrame, music: pd.DataFrame, n_folds: int) -> None:
    """Raise UserError when a fold has no speaker or no music clip."""
    require_every_fold(speech, n_folds, "speech")
    require_every_fold(music, n_folds, "music")


def fold_audit(speech: pd.DataFrame, music: pd.DataFrame, n_folds: int) -> dict:
    """Per fold: actors, genders, emotion counts, music count per corpus and quadrant."""
    audit: dict[str, dict] = {}
    for fold in range(1, n_folds + 1):
        s = speech[speech["fold"] == fold]
        m = music[music["fold"] == fold]
        audit[f"fold{fold}"] = {
            "actors": sorted(s["actor"].astype(str).unique().tolist()),
            "genders": {
                g: int(n)
                for g, n in s.drop_duplicates("actor")["gender"].value_counts().sort_index().items()
            },
            "speech_clips": int(len(s)),
            "emotions": {
                str(e): int(n) for e, n in s["emotion_name"].value_counts().sort_index().items()
            },
            "music_clips": int(len(m)),
            "music_per_corpus": {
                c: int(n) for c, n in m["corpus"].value_counts().sort_index().items()
            },
            "music_per_quadrant": {
                q: int(n) for q, n in m["quadrant"].value_counts().sort_index().items()
            },
        }
    return audit


def leakage_check(speech: pd.DataFrame, music: pd.DataFrame) -> dict:
    """Counts of actors / music clips / artists found in more than one fold (all must be 0)."""
    report = {
        "actors_in_several_folds": groups_in_several_folds(speech, "actor"),
        "music_in_several_folds": groups_in_several_folds(music, "source_id"),
    }
    if "artist" in music.columns:
        report["artists_in_several_folds"] = groups_in_several_folds(music, "artist")
    return report

"""Folds of the instrumental-MER clips, their audit, and cross-corpus possible duplicates.

Folds: clips that share a normalised artist, a song (a DEAM song, a Soundtracks excerpt
or set-1/set-2 pair, an EMOPIA YouTube video) form one group
(:func:`~builders.common.folds.connected_groups`); groups are dealt to the folds by
:func:`~builders.common.folds.stratified_group_folds` on the quadrant, so no artist, song
or video spans folds and each fold's quadrant shares stay close to the overall shares.
Artists are normalised before grouping: Unicode NFKD, accents removed, case-folded,
whitespace runs as one space (``"  Björk "`` and ``"bjork"`` are one artist).

Possible duplicates across corpora (the thesis's check, flagged for inspection, nothing
removed): for two songs of different corpora, the share of one song's artist tokens found
among the other's artist tokens (EMOPIA has no artist: its YouTube title's tokens) is
compared with the recipe's ``artist_token_overlap`` (0.66); either direction counts.
"""

from __future__ import annotations

import unicodedata
from fractions import Fraction

import pandas as pd

from builders.common.folds import connected_groups, groups_in_several_folds, stratified_group_folds
from builders.corpora.spotify_match import tokens
from builders.errors import UserError

QUADRANTS = ("Q1", "Q2", "Q3", "Q4")
FOLD_PURPOSE = "instrumental-mer-folds"


def normalise_artist(artist: str | None) -> str | None:
    """The artist as grouped: NFKD without accents, case-folded, single spaces; None if empty."""
    if artist is None or pd.isna(artist):
        return None
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", str(artist)) if not unicodedata.combining(c)
    )
    text = " ".join(plain.casefold().split())
    return text or None


def group_keys(clips: pd.DataFrame) -> dict[str, list[str]]:
    """Per clip id: ``song:<corpus>:<song_id>`` and, when known, ``artist:<normalised>``."""
    keys = {}
    for clip_id, corpus, song, artist in zip(
        clips["clip_id"], clips["corpus"], clips["song_id"], clips["artist"]
    ):
        found = [f"song:{corpus}:{song}"]
        normalised = normalise_artist(artist)
        if normalised:
            found.append(f"artist:{normalised}")
        keys[str(clip_id)] = found
    return keys


def assign_folds(
    clips: pd.DataFrame, n_folds: int, seed: int, max_size_deviation: float
) -> pd.DataFrame:
    """``clips`` with ``fold`` (1..n_folds) and ``fold_group`` (the group's smallest clip id).

    UserError when a fold would be empty or its size more than ``max_size_deviation`` away
    from the mean fold size (too few or too unequal groups for that many folds).
    """
    groups = connected_groups(group_keys(clips))
    labels = dict(zip(clips["clip_id"].astype(str), clips["quadrant"].astype(str)))
    folds = stratified_group_folds(groups, labels, n_folds, seed, FOLD_PURPOSE)
    placed = clips.assign(
        fold=clips["clip_id"].map(folds).astype("int64"), fold_group=clips["clip_id"].map(groups)
    )
    _check_sizes(placed, n_folds, max_size_deviation, len(set(groups.values())))
    return placed


def _check_sizes(clips: pd.DataFrame, n_folds: int, deviation: float, n_groups: int) -> None:
    sizes = clips["fold"].value_counts().reindex(range(1, n_folds + 1), fill_value=0)
    mean = len(clips) / n_folds
    worst = float((sizes - mean).abs().max() / mean) if mean else 1.0
    if sizes.min() == 0 or worst > deviation + 1e-12:
        listed = ", ".join(f"fold{k} {n}" for k, n in sizes.items())
        raise UserError(
            f"cannot make {n_folds} folds of similar size from {len(clips)} clips in {n_groups} "
            f"artist/song groups ({listed}; allowed: within {deviation:.0%} of {mean:.1f}); "
            "use fewer folds (folds.n_folds) or more sources"
        )


def leaks(clips: pd.DataFrame) -> dict[str, int]:
    """Artists, songs and videos found in more than one fold (all must be 0)."""
    frame = clips.assign(
        artist_key=clips["artist"].map(normalise_artist),
        song_key=clips["corpus"] + ":" + clips["song_id"],
    )
    videos = frame[frame["corpus"] == "emopia"]
    return {
        "artists_in_several_folds": groups_in_several_folds(frame, "artist_key"),
        "songs_in_several_folds": groups_in_several_folds(
            frame[frame["corpus"] != "emopia"], "song_key"
        ),
        "videos_in_several_folds": groups_in_several_folds(videos, "song_key"),
    }


def counts(clips: pd.DataFrame, n_folds: int) -> dict:
    """Clips per corpus and quadrant, per fold (with quadrant shares) and in total."""

    def table(frame: pd.DataFrame) -> dict:
        return {
            corpus: {q: int((part["quadrant"] == q).sum()) for q in QUADRANTS}
            for corpus, part in sorted(frame.groupby("corpus"))
        }

    total = len(clips)
    by_fold = {}
    for fold in range(1, n_folds + 1):
        part = clips[clips["fold"] == fold]
        shares = {
            q: round(float((part["quadrant"] == q).mean()) if len(part) else 0.0, 4)
            for q in QUADRANTS
        }
        by_fold[f"fold{fold}"] = {
            "clips": int(len(part)),
            "by_corpus_quadrant": table(part),
            "quadrant_shares": shares,
        }
    return {
        "clips": int(total),
        "by_corpus": {c: int(n) for c, n in sorted(clips["corpus"].value_counts().items())},
        "by_quadrant": {q: int((clips["quadrant"] == q).sum()) for q in QUADRANTS},
        "by_corpus_quadrant": table(clips),
        "quadrant_shares": {
            q: round(float((clips["quadrant"] == q).mean()), 4) if total else 0.0 for q in QUADRANTS
        },
        "by_fold": by_fold,
    }


def possible_duplicates(clips: pd.DataFrame, threshold: float) -> list[dict]:
    """Song pairs of different corpora whose artist tokens overlap (see module docstring)."""
    songs = clips.drop_duplicates(["corpus", "song_id"]).sort_values(["corpus", "song_id"])
    limit = Fraction(str(threshold))
    records = []
    for corpus, song, artist, title in zip(
        songs["corpus"], songs["song_id"], songs["artist"], songs["title"]
    ):
        artist_tokens = tokens(artist) if isinstance(artist, str) else frozenset()
        text = (
            artist_tokens
            if artist_tokens
            else (tokens(title) if isinstance(title, str) and corpus == "emopia" else frozenset())
        )
        records.append(
            (
                corpus,
                song,
                artist if isinstance(artist, str) else None,
                artist_tokens,
                text,
                title if isinstance(title, str) else None,
            )
        )
    flagged = []
    for i, (corpus_a, song_a, artist_a, tokens_a, text_a, title_a) in enumerate(records):
        for corpus_b, song_b, artist_b, tokens_b, text_b, title_b in records[i + 1 :]:
            if corpus_a == corpus_b:
                continue
            overlap = max(_share(tokens_a, text_b), _share(tokens_b, text_a))
            if overlap >= limit and overlap > 0:
                flagged.append(
                    {
                        "a": f"{corpus_a}:{song_a}",
                        "b": f"{corpus_b}:{song_b}",
                        "artist_a": artist_a,
                        "artist_b": artist_b,
                        "title_a": title_a,
                        "title_b": title_b,
                        "overlap": round(float(overlap), 4),
                    }
                )
    return flagged


def _share(artist_tokens: frozenset[str], other: frozenset[str]) -> Fraction:
    if not artist_tokens:
        return Fraction(0)
    return Fraction(len(artist_tokens & other), len(artist_tokens))

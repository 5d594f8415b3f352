"""Artist- and track-independent folds stratified on valence x arousal bins.

Tracks that share a normalised artist (any credited artist of a collaboration) or an audio
file form one group (:func:`~builders.common.folds.connected_groups`); a group never spans
folds, and every frame has its track's fold. Groups are dealt by
:func:`~builders.common.folds.stratified_group_folds` on the tracks' bins: valence and
arousal are each cut at their quantiles over the dataset's tracks (``valence_bins = 3``:
terciles), bin ``v<i>a<j>`` (1-based; a value on an edge goes to the lower bin).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np
import pandas as pd

from builders.common.folds import (
    connected_groups,
    groups_in_several_folds,
    require_every_fold,
    stratified_group_folds,
)
from builders.errors import UserError

_CREDIT_SEPARATORS = re.compile(r"\s*(?:[&,;/+]|\b(?:feat|ft|featuring|vs)\b\.?|\band\b)\s*")
_NOT_WORD = re.compile(r"[^\w]+|_")


def normalise_artist(name: str) -> str:
    """An artist name compared loosely: accents removed, case-folded, punctuation to spaces,
    a leading ``the`` dropped.

    >>> normalise_artist("  The Cardigans ")
    'cardigans'
    >>> normalise_artist("Beyoncé")
    'beyonce'
    """
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    words = _NOT_WORD.sub(" ", plain.casefold()).split()
    return " ".join(words[1:] if len(words) > 1 and words[0] == "the" else words)


def artist_keys(artist: str) -> tuple[str, ...]:
    """The normalised names of every artist a credit names (split at ``&``, ``,``, ``;``,
    ``/``, ``+``, ``feat.``, ``ft.``, ``featuring``, ``vs.`` and ``and``), sorted.

    >>> artist_keys("Hans Zimmer & Lisa Gerrard feat. The London Choir")
    ('hans zimmer', 'lisa gerrard', 'london choir')
    """
    parts = _CREDIT_SEPARATORS.split(artist.casefold())
    keys = {normalise_artist(part) for part in parts} - {""}
    return tuple(sorted(keys or {normalise_artist(artist) or artist.strip().casefold()}))


def quantile_edges(values: Sequence[float], n_bins: int) -> list[float]:
    """The ``n_bins - 1`` inner quantiles of ``values`` (numpy's linear interpolation)."""
    if n_bins <= 1:
        return []
    return [
        float(q)
        for q in np.quantile(
            np.asarray(values, dtype=np.float64), [k / n_bins for k in range(1, n_bins)]
        )
    ]


def bin_of(value: float, edges: Sequence[float]) -> int:
    """1-based bin of ``value``: one more than the number of edges strictly below it."""
    return int(np.searchsorted(np.asarray(edges, dtype=np.float64), value, side="left")) + 1


def vad_bins(tracks: pd.DataFrame, valence_bins: int, arousal_bins: int) -> tuple[pd.Series, dict]:
    """Each track's ``v<i>a<j>`` bin (by track_id) and the edges used."""
    edges = {
        "valence": quantile_edges(tracks["valence_tags"], valence_bins),
        "arousal": quantile_edges(tracks["arousal_tags"], arousal_bins),
    }
    labels = [
        f"v{bin_of(v, edges['valence'])}a{bin_of(a, edges['arousal'])}"
        for v, a in zip(tracks["valence_tags"], tracks["arousal_tags"])
    ]
    return pd.Series(labels, index=tracks["track_id"].to_numpy(), dtype="object"), edges


def artist_groups(tracks: pd.DataFrame) -> pd.Series:
    """Each track's group (by track_id), named by the smallest artist key in the group.

    ``tracks`` needs ``track_id``, ``artist`` and ``source_sha256`` (null without audio).
    """
    keys = {
        row.track_id: [f"artist:{key}" for key in artist_keys(row.artist)]
        + ([f"audio:{row.source_sha256}"] if isinstance(row.source_sha256, str) else [])
        for row in tracks.itertuples()
    }
    group_of = connected_groups(keys)
    names: dict[str, str] = {}
    for row in tracks.itertuples():
        first = min(artist_keys(row.artist))
        group = group_of[row.track_id]
        names[group] = min(names.get(group, first), first)
    return pd.Series({tid: names[group] for tid, group in group_of.items()}, dtype="object")


def assign_folds(
    tracks: pd.DataFrame, n_folds: int, valence_bins: int, arousal_bins: int, seed: int
) -> tuple[pd.DataFrame, dict]:
    """``tracks`` with ``artist_group``, ``vad_bin`` and ``fold`` columns, and the fold audit."""
    groups = artist_groups(tracks)
    if groups.nunique() < n_folds:
        raise UserError(
            f"{len(tracks)} tracks by {groups.nunique()} artist group(s) cannot fill "
            f"{n_folds} artist-independent folds (folds.n_folds)"
        )
    bins, edges = vad_bins(tracks, valence_bins, arousal_bins)
    folds = stratified_group_folds(
        groups.to_dict(), bins.to_dict(), n_folds, seed, "muse-vad-folds"
    )
    tracks = tracks.assign(
        artist_group=tracks["track_id"].map(groups),
        vad_bin=tracks["track_id"].map(bins),
        fold=tracks["track_id"].map(folds).astype("int64"),
    )
    require_every_fold(tracks, n_folds, "track")
    return tracks, {
        "bins": {"valence_edges": edges["valence"], "arousal_edges": edges["arousal"]},
        "folds": fold_audit(tracks, n_folds),
        "leakage": leakage(tracks),
    }


def fold_audit(tracks: pd.DataFrame, n_folds: int) -> dict:
    """Tracks, frames, artist groups and tracks per bin of each fold."""
    audit = {}
    for fold in range(1, n_folds + 1):
        rows = tracks[tracks["fold"] == fold]
        frames = (
            int(rows["n_frames"].sum())
            if "n_frames" in rows and rows["n_frames"].notna().all()
            else None
        )
        audit[f"fold{fold}"] = {
            "tracks": len(rows),
            "frames": frames,
            "artist_groups": int(rows["artist_group"].nunique()),
            "per_bin": {b: int(n) for b, n in sorted(rows["vad_bin"].value_counts().items())},
        }
    return audit


def leakage(tracks: pd.DataFrame) -> dict[str, int]:
    """How many artists (each credited one), groups and audio files are in several folds (0)."""
    credits = pd.DataFrame(
        [
            (key, fold)
            for artist, fold in zip(tracks["artist"], tracks["fold"])
            for key in artist_keys(artist)
        ],
        columns=["artist", "fold"],
    )
    return {
        "artists_in_several_folds": groups_in_several_folds(credits, "artist"),
        "artist_groups_in_several_folds": groups_in_several_folds(tracks, "artist_group"),
        "audio_files_in_several_folds": groups_in_several_folds(tracks, "source_sha256"),
    }

"""Screening songs as instrumental: the instrumental-MER rule for DEAM songs.

A song is kept when matched on Spotify (token overlap >= 0.7,
:mod:`builders.corpora.spotify_match`) with instrumentalness >= 0.5
(:class:`~builders.corpora.spotify.SpotifyReader`); then the manual review list
(:func:`~builders.corpora.spotify_tables.read_review_list`, CSV ``song_id[,keep,note]``)
overrides, and on its own (no Spotify at all) it is the selection. Each song gets a decision
with its reason for the audit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from builders.corpora.spotify import SpotifyReader
from builders.corpora.spotify_match import OVERLAP_THRESHOLD, exact_threshold, local_text, tokens
from builders.corpora.spotify_tables import ReviewEntry
from builders.errors import UserError

INSTRUMENTALNESS_THRESHOLD = 0.5


@dataclass(frozen=True)
class LocalSong:
    """A local song to screen: its id (as the builder names it), artist and title."""

    song_id: str
    artist: str | None
    title: str | None


@dataclass(frozen=True)
class ScreeningDecision:
    """Whether a song is kept, by which stage (``spotify``, ``review``, ``unscreened``), and why."""

    song_id: str
    keep: bool
    decided_by: str
    reason: str
    spotify_id: str | None = None
    overlap: float | None = None
    instrumentalness: float | None = None
    instrumentalness_source: str | None = None


@dataclass(frozen=True)
class Screening:
    """Per-song decisions (in the songs' order) and review-list ids naming no given song."""

    decisions: tuple[ScreeningDecision, ...]
    unknown_review_ids: tuple[str, ...]

    def kept(self) -> tuple[str, ...]:
        """The ids of the kept songs."""
        return tuple(d.song_id for d in self.decisions if d.keep)


def screen_songs(
    songs: Iterable[LocalSong],
    *,
    spotify: SpotifyReader | None = None,
    review: Mapping[str, ReviewEntry] | None = None,
    overlap_threshold: float = OVERLAP_THRESHOLD,
    instrumentalness_threshold: float = INSTRUMENTALNESS_THRESHOLD,
) -> Screening:
    """Screen songs as instrumental: Spotify match and instrumentalness, then the review list.

    A song is kept by Spotify when its best search result has token overlap >=
    ``overlap_threshold`` and instrumentalness >= ``instrumentalness_threshold``. The
    review list overrides: a listed song is decided by it alone (Spotify is not asked).
    Without Spotify (``--screen`` alone) the review list is the selection: unlisted songs
    are left out. At least one of ``spotify`` and ``review`` is needed.
    """
    if spotify is None and review is None:
        raise UserError("screening needs a Spotify cache or credentials, or a review list")
    review = review or {}
    exact_threshold(overlap_threshold)
    exact_threshold(instrumentalness_threshold)
    decisions, seen = [], set()
    for song in songs:
        if song.song_id in seen:
            raise UserError(f"song {song.song_id} is given twice for screening")
        seen.add(song.song_id)
        if song.song_id in review:
            decisions.append(_reviewed(review[song.song_id]))
        elif spotify is None:
            reason = "not in the review list (no Spotify screening)"
            decisions.append(ScreeningDecision(song.song_id, False, "unscreened", reason))
        else:
            thresholds = (overlap_threshold, instrumentalness_threshold)
            decisions.append(_screened(song, spotify, *thresholds))
    unknown = tuple(sorted(set(review) - seen))
    return Screening(tuple(decisions), unknown)


def _reviewed(entry: ReviewEntry) -> ScreeningDecision:
    verdict = "keep" if entry.keep else "drop"
    note = f" ({entry.note})" if entry.note else ""
    return ScreeningDecision(entry.song_id, entry.keep, "review", f"review list: {verdict}{note}")


def _screened(
    song: LocalSong, spotify: SpotifyReader, overlap_threshold: float, threshold: float
) -> ScreeningDecision:
    if not tokens(local_text(song.artist, song.title)):
        return ScreeningDecision(song.song_id, False, "spotify", "no artist or title to search")
    found = spotify.match(song.artist, song.title, overlap_threshold)
    if not found.matched:
        reason = found.describe()
        if found.candidate is not None:
            reason = (
                f"no Spotify match with token overlap >= {overlap_threshold:.2f}: best {reason}"
            )
        overlap = None if found.overlap is None else float(found.overlap)
        return ScreeningDecision(song.song_id, False, "spotify", reason, overlap=overlap)
    value = spotify.instrumentalness(found.spotify_id, song.song_id)
    matched = f"matched {found.spotify_id} {found.describe()}"
    if value.value is None:
        keep, reason = False, f"{matched}; instrumentalness unknown: {value.note}"
    else:
        keep = value.value >= threshold
        sign = ">=" if keep else "<"
        reason = (
            f"{matched}; instrumentalness {value.value:.3f} {sign} {threshold:.2f} ({value.source})"
        )
    return ScreeningDecision(
        song.song_id,
        keep,
        "spotify",
        reason,
        found.spotify_id,
        float(found.overlap),
        value.value,
        value.source,
    )

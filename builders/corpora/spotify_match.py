"""Matching a local song to Spotify search results by token overlap.

**Token overlap.** A word token is a maximal run of Unicode letters and digits in the
text after NFKD normalisation, removal of combining marks (accents) and case folding
(``"Don't Stop"`` -> ``{"don", "t", "stop"}``, ``"Beyoncé"`` -> ``{"beyonce"}``); tokens
form sets (repeats count once). For the local text L = artist + " " + title and a
candidate C = its artists' names + its track name, the overlap is |L ∩ C| / |L|: the share
of the local tokens the candidate has (extra candidate tokens such as "Remastered" cost
nothing). An empty L has overlap 0. A candidate matches when overlap >= 0.7, compared
exactly (as fractions); among the search results the highest overlap wins, ties going to
the earlier result (Spotify's own ranking).

The recorded params of the calls (:func:`search_params`, :func:`audio_features_params`) are
here too: the reader (:mod:`builders.corpora.spotify`) and the recorded demo caches
(:mod:`builders.corpora.recorded`) must agree on them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from builders.errors import UserError

SEARCH_LIMIT = 10
OVERLAP_THRESHOLD = 0.7
_TOKEN = re.compile(r"[^\W_]+")


def tokens(text: str) -> frozenset[str]:
    """The set of word tokens of ``text``: letters and digits, accents removed, case-folded."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return frozenset(_TOKEN.findall(plain.casefold()))


def token_overlap(local: str, candidate: str) -> Fraction:
    """|tokens(local) ∩ tokens(candidate)| / |tokens(local)|, exactly; 0 for an empty local."""
    wanted = tokens(local)
    if not wanted:
        return Fraction(0)
    return Fraction(len(wanted & tokens(candidate)), len(wanted))


def search_query(artist: str | None, title: str | None) -> str:
    """The Spotify search query for a song: ``track:<title> artist:<artist>``, spaces collapsed.

    A missing (None or blank) artist or title leaves its filter out.
    """
    fields = (("track", title), ("artist", artist))
    return " ".join(f"{name}:{' '.join(value.split())}" for name, value in fields if _has(value))


def _has(text: str | None) -> bool:
    return bool(text and text.strip())


def search_params(artist: str | None, title: str | None, limit: int = SEARCH_LIMIT) -> dict:
    """The recorded params of the ``search`` call for a song."""
    return {"q": search_query(artist, title), "type": "track", "limit": limit}


def audio_features_params(spotify_id: str) -> dict[str, Any]:
    """The recorded params of the ``audio_features`` call for one track."""
    return {"ids": spotify_id}


@dataclass(frozen=True)
class SpotifyMatch:
    """The best search result for a local artist + title, and whether it is a match.

    ``overlap`` and ``candidate`` describe the best result even when it falls short of the
    threshold (``matched`` False, ``spotify_id`` None); both are None without any result.
    """

    matched: bool
    spotify_id: str | None
    duration_s: float | None
    overlap: Fraction | None
    candidate: str | None

    def describe(self) -> str:
        """One phrase for reports: the candidate and its overlap."""
        if self.candidate is None:
            return "no Spotify search results"
        return f"{self.candidate!r} (token overlap {float(self.overlap):.2f})"


def _candidates(response: Any, query: str) -> list[tuple[str, str, float | None]]:
    """``(id, "artists - name", duration_s)`` of each track in a raw search response."""
    try:
        items = response["tracks"]["items"]
        found = []
        for item in items:
            if item is None:
                continue
            artists = " ".join(artist["name"] for artist in item["artists"])
            duration = item.get("duration_ms")
            seconds = None if duration is None else float(duration) / 1000.0
            found.append((str(item["id"]), f"{artists} - {item['name']}", seconds))
    except (KeyError, TypeError, ValueError):
        raise UserError(f"unexpected Spotify search response for {query!r}") from None
    return found


def best_match(
    artist: str | None, title: str | None, response: Any, threshold: float = OVERLAP_THRESHOLD
) -> SpotifyMatch:
    """The best candidate of a raw search response for ``artist`` + ``title`` (see module)."""
    local = local_text(artist, title)
    best: tuple[Fraction, str, str, float | None] | None = None
    for spotify_id, label, duration in _candidates(response, search_query(artist, title)):
        overlap = token_overlap(local, label)
        if best is None or overlap > best[0]:
            best = (overlap, spotify_id, label, duration)
    if best is None:
        return SpotifyMatch(False, None, None, None, None)
    overlap, spotify_id, label, duration = best
    if overlap >= exact_threshold(threshold):
        return SpotifyMatch(True, spotify_id, duration, overlap, label)
    return SpotifyMatch(False, None, None, overlap, label)


def local_text(artist: str | None, title: str | None) -> str:
    """The local side of the overlap: artist + " " + title (a missing one as empty)."""
    return f"{artist or ''} {title or ''}"


def exact_threshold(threshold: float) -> Fraction:
    """``threshold`` as an exact fraction; UserError unless it is a number in [0, 1]."""
    if not (isinstance(threshold, int | float) and 0.0 <= threshold <= 1.0):
        raise UserError(f"a threshold must be a number in [0, 1], not {threshold!r}")
    return Fraction(str(threshold))

"""Spotify reader shared by the builders: search matches, durations, instrumentalness, screening.

Both the instrumental-MER builder (screening DEAM songs) and the MuSe-style VAD builder
(linking Last.fm tracks to a Spotify id and duration) go through :class:`SpotifyReader`,
which uses the real ``spotipy`` client and records every answer in a
:class:`~builders.common.call_cache.CallCache` (JSON Lines, one call a line):

- ``search`` with params ``{"q": "track:<title> artist:<artist>", "type": "track",
  "limit": 10}``: the raw search response;
- ``audio_features`` with params ``{"ids": "<spotify id>"}``: the raw response
  ``{"audio_features": [{...}]}`` (one id a call, so the cache does not depend on batching),
  or Spotify's refusal ``{"error": {"status": 403, "message": ...}}``, so that a replay
  reaches the same "instrumentalness unknown" as the run that recorded it (delete such a
  line to ask again with an app that has access).

With the cache alone no credentials and no network are needed. With ``SPOTIPY_CLIENT_ID``
and ``SPOTIPY_CLIENT_SECRET`` set (client-credentials flow), calls missing from the cache
are made and appended; without them a missing call is a UserError naming it.

**Instrumentalness.** Spotify closed the audio-features endpoint to new apps (late 2024):
a new app's key gets HTTP 403. Instrumentalness therefore comes, in this order, from a
user-supplied table (:func:`read_instrumentalness_table`, CSV ``spotify_id,instrumentalness``
or ``song_id,instrumentalness``), from the recorded cache, or from a live call where the
app still has access. A refused live call is reported as "unknown", never guessed.

**Token overlap.** A word token is a maximal run of Unicode letters and digits in the
text after NFKD normalisation, removal of combining marks (accents) and case folding
(``"Don't Stop"`` -> ``{"don", "t", "stop"}``, ``"Beyoncé"`` -> ``{"beyonce"}``); tokens
form sets (repeats count once). For the local text L = artist + " " + title and a
candidate C = its artists' names + its track name, the overlap is |L ∩ C| / |L|: the share
of the local tokens the candidate has (extra candidate tokens such as "Remastered" cost
nothing). An empty L has overlap 0. A candidate matches when overlap >= 0.7, compared
exactly (as fractions); among the search results the highest overlap wins, ties going to
the earlier result (Spotify's own ranking).

**Screening** (:func:`screen_songs`, the instrumental-MER rule for DEAM songs): kept when
matched (overlap >= 0.7) with instrumentalness >= 0.5; then the manual review list
(:func:`read_review_list`, CSV ``song_id[,keep,note]``) overrides, and on its own (no
Spotify at all) it is the selection. Each song gets a decision with its reason for the audit.
"""

from __future__ import annotations

import csv
import math
import os
import re
import unicodedata
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import requests
import spotipy
from spotipy.cache_handler import MemoryCacheHandler

from builders.common.call_cache import CallCache
from builders.errors import UserError

DEFAULT_API_PREFIX = "https://api.spotify.com/v1/"
DEFAULT_TOKEN_URL = "https://accounts.spotify.com/api/token"
SEARCH_LIMIT = 10
OVERLAP_THRESHOLD = 0.7
INSTRUMENTALNESS_THRESHOLD = 0.5
_TOKEN = re.compile(r"[^\W_]+")
_KEEP_WORDS = {"", "1", "true", "yes", "y", "keep"}
_DROP_WORDS = {"0", "false", "no", "n", "drop"}


# --- matching -------------------------------------------------------------------------------


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
    local = _local_text(artist, title)
    best: tuple[Fraction, str, str, float | None] | None = None
    for spotify_id, label, duration in _candidates(response, search_query(artist, title)):
        overlap = token_overlap(local, label)
        if best is None or overlap > best[0]:
            best = (overlap, spotify_id, label, duration)
    if best is None:
        return SpotifyMatch(False, None, None, None, None)
    overlap, spotify_id, label, duration = best
    if overlap >= _exact(threshold):
        return SpotifyMatch(True, spotify_id, duration, overlap, label)
    return SpotifyMatch(False, None, None, overlap, label)


def _local_text(artist: str | None, title: str | None) -> str:
    """The local side of the overlap: artist + " " + title (a missing one as empty)."""
    return f"{artist or ''} {title or ''}"


def _exact(threshold: float) -> Fraction:
    if not (isinstance(threshold, int | float) and 0.0 <= threshold <= 1.0):
        raise UserError(f"a threshold must be a number in [0, 1], not {threshold!r}")
    return Fraction(str(threshold))


# --- user-supplied tables -------------------------------------------------------------------


def _csv_rows(path: Path, what: str) -> Iterator[tuple[int, list[str]]]:
    """``(line number, stripped fields)`` of each non-blank CSV record of a UTF-8 file."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle)
            for fields in reader:
                stripped = [field.strip() for field in fields]
                if any(stripped):
                    yield reader.line_num, stripped
    except FileNotFoundError:
        raise UserError(f"{what} not found: {path}") from None
    except UnicodeDecodeError:
        raise UserError(f"{what} {path} is not UTF-8 text") from None
    except (OSError, csv.Error) as error:
        raise UserError(f"cannot read the {what} {path}: {error}") from None


@dataclass(frozen=True)
class InstrumentalnessTable:
    """User-supplied instrumentalness values, keyed by ``spotify_id`` or by ``song_id``."""

    key: str
    values: Mapping[str, float]
    path: str


def read_instrumentalness_table(path: Path | str) -> InstrumentalnessTable:
    """Read a CSV ``spotify_id,instrumentalness`` or ``song_id,instrumentalness`` (with header).

    Values must be numbers in [0, 1]; an id given twice with different values, a missing
    value or an unknown header is a UserError naming the line.
    """
    path = Path(path)
    what = "instrumentalness table"
    rows = _csv_rows(path, what)
    first = next(rows, None)
    if first is None or [f.lower() for f in first[1]] not in (
        ["spotify_id", "instrumentalness"],
        ["song_id", "instrumentalness"],
    ):
        raise UserError(
            f"{path}: the {what} needs the header spotify_id,instrumentalness "
            "or song_id,instrumentalness"
        )
    values: dict[str, float] = {}
    for line, fields in rows:
        identifier, value = _table_row(path, line, fields)
        if values.setdefault(identifier, value) != value:
            raise UserError(f"{path}, line {line}: {identifier} is given two different values")
    return InstrumentalnessTable(first[1][0].lower(), values, str(path))


def _table_row(path: Path, line: int, fields: list[str]) -> tuple[str, float]:
    if len(fields) != 2 or not fields[0]:
        raise UserError(f"{path}, line {line}: expected an id and an instrumentalness")
    try:
        value = float(fields[1])
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:
        raise UserError(f"{path}, line {line}: instrumentalness {fields[1]!r} is not in [0, 1]")
    return fields[0], value


@dataclass(frozen=True)
class ReviewEntry:
    """One song of the manual review list: keep it or not, and why."""

    song_id: str
    keep: bool
    note: str
    line: int


def read_review_list(path: Path | str) -> dict[str, ReviewEntry]:
    """Read the manual review list, a CSV ``song_id[,keep,note]``.

    The header row (first cell ``song_id``) is optional. ``keep`` may be empty or
    1/true/yes/y/keep (kept: listing a song means keeping it) or 0/false/no/n/drop; a note
    with commas must be quoted. A song listed twice with different verdicts is a UserError.
    """
    path = Path(path)
    entries: dict[str, ReviewEntry] = {}
    for line, fields in _csv_rows(path, "review list"):
        if line == 1 and fields[0].lower() == "song_id":
            continue
        entry = _review_entry(path, line, fields)
        earlier = entries.setdefault(entry.song_id, entry)
        if earlier.keep != entry.keep:
            raise UserError(
                f"{path}: lines {earlier.line} and {line} give song {entry.song_id} "
                "different verdicts"
            )
    return entries


def _review_entry(path: Path, line: int, fields: list[str]) -> ReviewEntry:
    if len(fields) > 3 or not fields[0]:
        raise UserError(
            f"{path}, line {line}: expected song_id[,keep,note] (quote notes with commas)"
        )
    fields = fields + [""] * (3 - len(fields))
    word = fields[1].lower()
    if word not in _KEEP_WORDS | _DROP_WORDS:
        raise UserError(f"{path}, line {line}: keep must be 1/0, true/false, yes/no or keep/drop")
    return ReviewEntry(fields[0], word in _KEEP_WORDS, fields[2], line)


# --- the reader -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Instrumentalness:
    """An instrumentalness value and where it came from (``table`` or ``audio-features``).

    ``value`` is None when it is unknown; ``note`` then says why.
    """

    value: float | None
    source: str | None
    note: str = ""


class SpotifyReader:
    """Spotify searches and audio features, answered from the call cache or through spotipy.

    ``cache`` is the JSON Lines call cache (a path or a :class:`CallCache`). Credentials
    default to ``SPOTIPY_CLIENT_ID`` / ``SPOTIPY_CLIENT_SECRET``; they are only used for a
    call the cache lacks. ``api_prefix`` and ``token_url`` point spotipy elsewhere (tests
    use a stub server on 127.0.0.1); ``retries`` and ``backoff_factor`` are spotipy's
    (urllib3) retry settings for 429 and 5xx answers, which honour ``Retry-After``.
    """

    def __init__(
        self,
        cache: CallCache | Path | str,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        instrumentalness_table: InstrumentalnessTable | None = None,
        api_prefix: str = DEFAULT_API_PREFIX,
        token_url: str = DEFAULT_TOKEN_URL,
        search_limit: int = SEARCH_LIMIT,
        retries: int = 3,
        backoff_factor: float = 0.3,
        timeout_s: float = 10.0,
    ) -> None:
        self.cache = cache if isinstance(cache, CallCache) else CallCache(cache)
        self.client_id = client_id or os.environ.get("SPOTIPY_CLIENT_ID") or None
        self.client_secret = client_secret or os.environ.get("SPOTIPY_CLIENT_SECRET") or None
        self.table = instrumentalness_table
        self.api_prefix = api_prefix
        self.token_url = token_url
        self.search_limit = search_limit
        self._settings = {
            "retries": retries,
            "backoff_factor": backoff_factor,
            "timeout": timeout_s,
        }
        self._client: spotipy.Spotify | None = None

    def search(self, artist: str | None, title: str | None) -> Any:
        """The raw search response for ``track:<title> artist:<artist>``."""
        params = search_params(artist, title, self.search_limit)
        return self._call(
            "search", params, lambda client: client.search(**params), "so the search can be made"
        )

    def match(
        self, artist: str | None, title: str | None, threshold: float = OVERLAP_THRESHOLD
    ) -> SpotifyMatch:
        """The song's best search result, and whether its token overlap reaches ``threshold``.

        A song without artist and title tokens is no match, and Spotify is not asked.
        """
        if not tokens(_local_text(artist, title)):
            _exact(threshold)
            return SpotifyMatch(False, None, None, None, None)
        return best_match(artist, title, self.search(artist, title), threshold)

    def audio_features(self, spotify_id: str) -> dict[str, Any] | None:
        """The audio-features object of a track (None if Spotify has none for it).

        UserError for a call that is neither recorded nor possible. Spotify's refusal (HTTP
        403: the endpoint is closed to new apps) is recorded as its error object
        ``{"error": {"status": 403, "message": ...}}``, so a replay gives the same answer,
        and raises :class:`AudioFeaturesRefused`.
        """
        params = audio_features_params(spotify_id)

        def fetch(client: spotipy.Spotify) -> Any:
            return {"audio_features": client.audio_features([spotify_id])}

        how = "or give an instrumentalness table (Spotify closed audio-features to new apps)"
        response = self._call("audio_features", params, fetch, how)
        try:
            if "error" in response:
                error = response["error"]
                raise AudioFeaturesRefused(
                    f"Spotify refused audio-features (HTTP {error['status']}: "
                    f"{error['message']}); give an instrumentalness table"
                )
            features = response["audio_features"]
            return None if not features or features[0] is None else dict(features[0])
        except (KeyError, TypeError, IndexError):
            raise UserError(
                f"unexpected Spotify audio-features response for {spotify_id}"
            ) from None

    def instrumentalness(self, spotify_id: str, song_id: str | None = None) -> Instrumentalness:
        """Instrumentalness of a matched track: the user's table first, then audio features."""
        if self.table is not None:
            key = spotify_id if self.table.key == "spotify_id" else song_id
            if key is not None and key in self.table.values:
                return Instrumentalness(self.table.values[key], "table")
        try:
            features = self.audio_features(spotify_id)
        except AudioFeaturesRefused as refused:
            return Instrumentalness(None, None, str(refused))
        value = None if features is None else features.get("instrumentalness")
        if not isinstance(value, int | float) or isinstance(value, bool):
            return Instrumentalness(None, None, "Spotify has no audio features for this track")
        return Instrumentalness(float(value), "audio-features")

    def _call(self, method: str, params: dict[str, Any], fetch: Any, how: str) -> Any:
        if self.cache.has(method, params):
            return self.cache.get(method, params)
        if not (self.client_id and self.client_secret):
            raise UserError(
                f"Spotify {method} {params} is not in the cache {self.cache.path}; set "
                f"SPOTIPY_CLIENT_ID and SPOTIPY_CLIENT_SECRET {how}"
            )
        response = self._live(method, params, fetch)
        self.cache.record(method, params, response)
        return response

    def _live(self, method: str, params: dict[str, Any], fetch: Any) -> Any:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                return fetch(self._spotipy())
        except spotipy.SpotifyOauthError as error:
            raise UserError(f"Spotify refused the client credentials: {_one_line(error)}") from None
        except spotipy.SpotifyException as error:
            message = _one_line(str(error.msg).split("\n", 1)[-1])
            if method == "audio_features" and error.http_status == 403:
                return {"error": {"status": 403, "message": message}}
            if "Max Retries" in str(error.msg):
                detail = _one_line(error.reason or message)
                raise UserError(
                    f"Spotify {method} {params} failed after retries: {detail}"
                ) from None
            raise UserError(
                f"Spotify {method} {params} failed (HTTP {error.http_status}): {message}"
            ) from None
        except requests.RequestException as error:
            raise UserError(
                f"could not reach Spotify at {self.api_prefix}: {_one_line(error)}"
            ) from None

    def _spotipy(self) -> spotipy.Spotify:
        if self._client is None:
            auth = spotipy.SpotifyClientCredentials(
                self.client_id,
                self.client_secret,
                cache_handler=MemoryCacheHandler(),  # never a token file in the working folder
                requests_timeout=self._settings["timeout"],
            )
            auth.OAUTH_TOKEN_URL = self.token_url
            client = spotipy.Spotify(
                auth_manager=auth,
                requests_timeout=self._settings["timeout"],
                retries=self._settings["retries"],
                status_retries=self._settings["retries"],
                backoff_factor=self._settings["backoff_factor"],
            )
            client.prefix = self.api_prefix
            self._client = client
        return self._client


class AudioFeaturesRefused(Exception):
    """Spotify refused the audio-features call (HTTP 403); instrumentalness is unknown."""


def _one_line(value: object) -> str:
    return " ".join(str(value).split())


# --- screening ------------------------------------------------------------------------------


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
    _exact(overlap_threshold)
    _exact(instrumentalness_threshold)
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
    if not tokens(_local_text(song.artist, song.title)):
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

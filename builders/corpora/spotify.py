"""Spotify reader shared by the builders: search matches, durations, instrumentalness.

Both the instrumental-MER builder (screening DEAM songs,
:mod:`builders.corpora.spotify_screening`) and the MuSe-style VAD builder (linking Last.fm
tracks to a Spotify id and duration) go through :class:`SpotifyReader`, which uses the real
``spotipy`` client and records every answer in a
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
user-supplied table (:func:`~builders.corpora.spotify_tables.read_instrumentalness_table`,
CSV ``spotify_id,instrumentalness`` or ``song_id,instrumentalness``), from the recorded
cache, or from a live call where the app still has access. A refused live call is reported
as "unknown", never guessed.

Search results are matched by token overlap (:mod:`builders.corpora.spotify_match`).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import spotipy
from spotipy.cache_handler import MemoryCacheHandler

from builders.common.call_cache import CallCache
from builders.corpora.spotify_match import (
    OVERLAP_THRESHOLD,
    SEARCH_LIMIT,
    SpotifyMatch,
    audio_features_params,
    best_match,
    exact_threshold,
    local_text,
    search_params,
    tokens,
)
from builders.corpora.spotify_tables import InstrumentalnessTable, instrumentalness_value
from builders.errors import UserError

DEFAULT_API_PREFIX = "https://api.spotify.com/v1/"
DEFAULT_TOKEN_URL = "https://accounts.spotify.com/api/token"


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
        if not tokens(local_text(artist, title)):
            exact_threshold(threshold)
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
        if features is None:
            return Instrumentalness(None, None, "Spotify has no audio features for this track")
        if features.get("instrumentalness") is None:
            return Instrumentalness(None, None, "Spotify's audio features give no instrumentalness")
        try:
            value = instrumentalness_value(features["instrumentalness"])
        except ValueError as error:
            params = audio_features_params(spotify_id)
            line = self.cache.line_of("audio_features", params)
            raise UserError(
                f"{self.cache.path}, line {line}: Spotify audio_features {params}: {error}"
            ) from None
        return Instrumentalness(value, "audio-features")

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

"""A small client over Last.fm's JSON API: a tag's top tracks and each track's top tags.

The MuSe-style VAD builder collects the tracks of a seed tag (``tag.getTopTracks``, every
page) and their weighted tags (``track.getTopTags``). Every call goes through a
:class:`~builders.common.call_cache.CallCache`, recorded as one JSON line::

    {"method": "tag.getTopTracks", "params": {"page": 1, "tag": "soundtrack"}, "response": {...}}
    {"method": "track.getTopTags", "params": {"artist": "A", "track": "T"}, "response": {...}}

The params are the call's own arguments only: never the API key, ``format`` or the method.
With the cache a build needs no network and no key. With ``LASTFM_API_KEY`` (or
``api_key=``) a call missing from the cache is made, rate-limited (default 5 calls/s),
retried on HTTP 429/5xx, connection errors and Last.fm's transient error codes (8, 11, 16,
29) with exponential backoff (bounded in count and in delay, ``Retry-After`` honoured up to
the bound), and appended. Last.fm's "not found" answers (error 6 or 7, e.g.
``{"error": 6, "message": "Track not found"}``) are real answers: they are recorded and
reported as a track without tags, not as a failure. Any other error answer (a rate limit,
error 29; a service error, 8, 11 or 16; a refused key) says nothing about the track: it is
never recorded, and one found recorded in a cache (an older tool's, a hand-made one) counts
as not recorded: it is asked again when a key is given, else the track is reported as not
answered (:attr:`TrackTags.answered`), never as a track Last.fm does not know.

Tag counts must be whole numbers from 0 to :data:`MAX_TAG_COUNT` (Last.fm scales a track's
counts to 0-100); anything else is an error naming the cache line.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from builders.common.call_cache import CallCache
from builders.errors import UserError

DEFAULT_BASE_URL = "https://ws.audioscrobbler.com/2.0/"
TOP_TRACKS = "tag.getTopTracks"
TOP_TAGS = "track.getTopTags"
_NOT_FOUND = {6, 7}  # invalid parameters / resource: "Track not found", "Tag not found"
_TRANSIENT = {8, 11, 16, 29}  # operation failed, offline, temporary error, rate limit
_KEY_ERRORS = {4, 9, 10, 13, 14, 15, 26}  # authentication, invalid or suspended key
MAX_TAG_COUNT = 1_000_000  # far above Last.fm's 0-100, far below what floats add up exactly


@dataclass(frozen=True)
class LastfmTrack:
    """One entry of a tag's top tracks, as Last.fm lists it (``rank`` None if not given)."""

    name: str
    artist: str
    mbid: str
    url: str
    rank: int | None


@dataclass(frozen=True)
class TrackTags:
    """A track's top tags ``{name: count}`` as Last.fm gives them, or why there are none.

    ``found`` is False for a Last.fm error answer (``message`` holds it, e.g.
    ``"Track not found"``); a found track may still have no tags. ``answered`` is False when
    the only answer is a recorded error that says nothing about the track (a rate limit,
    a service error) and no key allows asking again.
    """

    artist: str
    track: str
    found: bool
    tags: dict[str, int] = field(default_factory=dict)
    message: str = ""
    answered: bool = True


def top_tracks_params(tag: str, page: int) -> dict[str, Any]:
    """The recorded params of one ``tag.getTopTracks`` page."""
    return {"tag": tag, "page": page}


def top_tags_params(artist: str, track: str) -> dict[str, Any]:
    """The recorded params of a ``track.getTopTags`` call."""
    return {"artist": artist, "track": track}


def _as_list(value: Any) -> list[Any]:
    """Last.fm's JSON gives a lone item as an object instead of a one-item list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _error_of(response: Any) -> tuple[int, str] | None:
    """``(code, message)`` of a Last.fm error payload, or None for a normal answer."""
    if isinstance(response, dict) and "error" in response:
        code = response["error"]
        valid = isinstance(code, int) and not isinstance(code, bool)
        return (code if valid else -1), str(response.get("message", ""))
    return None


def not_an_answer(method: str, response: Any) -> bool:
    """Whether a recorded response is an error that says nothing about what was asked
    (anything but Last.fm's "not found", errors 6 and 7)."""
    error = _error_of(response)
    return error is not None and error[0] not in _NOT_FOUND


def tag_count(raw: Any) -> int:
    """A tag's count as Last.fm gives it (a number, or a number as text) as an int.

    ``ValueError`` unless it is a whole number from 0 to :data:`MAX_TAG_COUNT`.
    """
    value = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, float) and math.isfinite(raw) and raw.is_integer():
        value = int(raw)
    elif isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit():
        value = int(raw.strip())
    if value is None or not 0 <= value <= MAX_TAG_COUNT:
        raise ValueError(f"count {raw!r} is not a whole number from 0 to {MAX_TAG_COUNT:,}")
    return value


def parse_top_tracks(response: Any) -> tuple[list[LastfmTrack], int]:
    """The tracks of one ``tag.getTopTracks`` page and the total number of pages.

    ``ValueError`` if the response is not shaped like Last.fm's.
    """
    try:
        tracks = response["tracks"]
        pages = int(tracks.get("@attr", {}).get("totalPages", 1))
        return [_track(item) for item in _as_list(tracks.get("track"))], pages
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise ValueError(f"not a tag.getTopTracks answer ({error!r})") from None


def _track(item: dict[str, Any]) -> LastfmTrack:
    artist = item["artist"]
    artist_name = artist["name"] if isinstance(artist, dict) else artist
    rank = (item.get("@attr") or {}).get("rank")
    return LastfmTrack(
        name=str(item["name"]),
        artist=str(artist_name),
        mbid=str(item.get("mbid") or ""),
        url=str(item.get("url") or ""),
        rank=None if rank in (None, "") else int(rank),
    )


def parse_top_tags(response: Any) -> dict[str, int]:
    """``{tag name: count}`` of a ``track.getTopTags`` answer (``toptags.tag[].name/count``).

    A tag listed twice under the same name has its counts added. ``ValueError`` if the
    response is not shaped like Last.fm's or a count is not one (:func:`tag_count`).
    """
    tags: dict[str, int] = {}
    try:
        items = [
            (str(item["name"]), item.get("count", 0))
            for item in _as_list(response["toptags"].get("tag"))
        ]
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise ValueError(f"not a track.getTopTags answer ({error!r})") from None
    for name, count in items:
        try:
            tags[name] = tags.get(name, 0) + tag_count(count)
        except ValueError as error:
            raise ValueError(f"tag {name!r}: {error}") from None
    return tags


class LastfmClient:
    """Last.fm calls answered from the call cache, or made (and recorded) with an API key.

    ``cache`` is the JSON Lines call cache (a path or a :class:`CallCache`); ``api_key``
    defaults to ``LASTFM_API_KEY``; ``base_url`` is the API root (tests point it at
    127.0.0.1). Live calls are spaced at least ``1 / calls_per_second`` apart and tried at
    most ``1 + max_retries`` times, waiting ``min(max_backoff_s, backoff_s * 2**attempt)``
    (or ``Retry-After``, up to ``max_backoff_s``) between tries. ``sleep`` is how it waits.
    """

    def __init__(
        self,
        cache: CallCache | os.PathLike[str] | str,
        *,
        api_key: str | None = None,
        base_url: str = DEFAULT_BASE_URL,
        calls_per_second: float = 5.0,
        max_retries: int = 4,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        timeout_s: float = 20.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        _check_positive("calls_per_second", calls_per_second)
        _check_positive("timeout_s", timeout_s)
        for name, value in (("backoff_s", backoff_s), ("max_backoff_s", max_backoff_s)):
            _check_positive(name, value, allow_zero=True)
        if not isinstance(max_retries, int) or max_retries < 0:
            raise UserError(f"max_retries must be a whole number >= 0, not {max_retries!r}")
        self.cache = cache if isinstance(cache, CallCache) else CallCache(cache, not_an_answer)
        self.api_key = api_key or os.environ.get("LASTFM_API_KEY") or None
        self.base_url = base_url
        self.interval_s = 1.0 / calls_per_second
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.timeout_s = timeout_s
        self._sleep = sleep
        self._last_call: float | None = None
        self._session: requests.Session | None = None

    def call(self, method: str, params: dict[str, Any]) -> Any:
        """The raw JSON answer of a call: recorded, else made live and recorded.

        Without a key, a call recorded only with a non-answer (:func:`not_an_answer`) gives
        that recorded error; with a key it is asked again.
        """
        if self.cache.has(method, params):
            return self.cache.get(method, params)
        recorded = self.cache.non_answer(method, params)
        if recorded is not None and not self.api_key:
            return recorded[1]
        if not self.api_key:
            raise UserError(
                f"Last.fm {method} {params} is not in the cache {self.cache.path}; set "
                "LASTFM_API_KEY (a Last.fm API account's key) to make the call and record it"
            )
        response = self._live(method, params)
        self.cache.record(method, params, response)
        return response

    def top_tracks(self, tag: str, max_pages: int | None = None) -> list[LastfmTrack]:
        """Every top track of ``tag``, page by page (all pages, or the first ``max_pages``).

        Pages are read from 1 up to Last.fm's ``totalPages``, stopping early at an empty
        page (Last.fm announces more pages than it serves). Tracks are in Last.fm's order; a
        track repeated across pages is kept (de-duplicating is the caller's decision).
        """
        found: list[LastfmTrack] = []
        page, last = 1, 1
        while page <= last and (max_pages is None or page <= max_pages):
            params = top_tracks_params(tag, page)
            response = self.call(TOP_TRACKS, params)
            error = _error_of(response)
            if error is not None:
                raise UserError(f"Last.fm {TOP_TRACKS} {params}: error {error[0]}: {error[1]}")
            tracks, last = self._parsed(parse_top_tracks, TOP_TRACKS, params, response)
            if not tracks:
                break
            found.extend(tracks)
            page += 1
        return found

    def track_top_tags(self, artist: str, track: str) -> TrackTags:
        """A track's top tags, or ``found=False`` with Last.fm's message for an error answer."""
        params = top_tags_params(artist, track)
        response = self.call(TOP_TAGS, params)
        error = _error_of(response)
        if error is not None and not_an_answer(TOP_TAGS, response):
            line, _ = self.cache.non_answer(TOP_TAGS, params) or (None, None)
            message = (
                f"error {error[0]}: {error[1]} recorded ({self.cache.path}, line {line}); "
                "set LASTFM_API_KEY to ask again"
            )
            return TrackTags(artist, track, False, {}, message, answered=False)
        if error is not None:
            return TrackTags(artist, track, False, {}, f"error {error[0]}: {error[1]}")
        return TrackTags(
            artist, track, True, self._parsed(parse_top_tags, TOP_TAGS, params, response)
        )

    def _parsed(self, parse: Callable[[Any], Any], method: str, params: dict, response: Any) -> Any:
        try:
            return parse(response)
        except ValueError as error:
            line = self.cache.line_of(method, params)
            raise UserError(
                f"{self.cache.path}: Last.fm {method} {params} (cache line {line}): {error}"
            ) from None

    # --- live calls ---------------------------------------------------------------------------

    def _live(self, method: str, params: dict[str, Any]) -> Any:
        query = {**params, "method": method, "api_key": self.api_key, "format": "json"}
        problem, retry_after = "", None
        for attempt in range(self.max_retries + 1):
            if attempt:
                self._sleep(self._delay(attempt - 1, retry_after))
            self._throttle()
            try:
                reply = self._http().get(self.base_url, params=query, timeout=self.timeout_s)
            except requests.RequestException as error:
                problem = f"could not reach {self.base_url}: {self._hide_key(error)}"
                retry_after = None
                continue
            outcome, body, problem = _classify(reply)
            if outcome == "ok":
                return body
            if outcome == "fail":
                raise UserError(f"Last.fm {method} {params}: {problem}")
            retry_after = _retry_after(reply)
        tries = self.max_retries + 1
        raise UserError(f"Last.fm {method} {params} failed after {tries} tries: {problem}")

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        delay = self.backoff_s * 2.0**attempt
        if retry_after is not None:
            delay = max(delay, retry_after)
        return min(self.max_backoff_s, delay)

    def _throttle(self) -> None:
        if self._last_call is not None:
            wait = self._last_call + self.interval_s - time.monotonic()
            if wait > 0:
                self._sleep(wait)
        self._last_call = time.monotonic()

    def _http(self) -> requests.Session:
        if self._session is None:
            self._session = requests.Session()
            self._session.headers["User-Agent"] = "misme-toolkit (research corpus builder)"
        return self._session

    def _hide_key(self, error: Exception) -> str:
        text = " ".join(str(error).split())
        return text.replace(self.api_key, "***") if self.api_key else text


def _classify(reply: requests.Response) -> tuple[str, Any, str]:
    """``("ok" | "retry" | "fail", body, problem)`` for one HTTP answer."""
    status = reply.status_code
    try:
        body = reply.json()
    except ValueError:
        body = None
    error = _error_of(body)
    if status == 429 or status >= 500 or (error is not None and error[0] in _TRANSIENT):
        detail = f" (error {error[0]}: {error[1]})" if error else ""
        return "retry", None, f"HTTP {status}{detail}"
    if error is not None and error[0] in _NOT_FOUND:
        return "ok", body, ""
    if error is not None and error[0] in _KEY_ERRORS:
        return (
            "fail",
            None,
            f"Last.fm refused the API key (error {error[0]}: {error[1]}); check LASTFM_API_KEY",
        )
    if error is not None:
        return "fail", None, f"error {error[0]}: {error[1]}"
    if status != 200 or body is None:
        what = "a non-JSON answer" if body is None else "an unexpected answer"
        return "fail", None, f"HTTP {status} with {what}"
    return "ok", body, ""


def _retry_after(reply: requests.Response) -> float | None:
    """``Retry-After`` in seconds (the number form only), or None."""
    try:
        value = float(reply.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def _check_positive(name: str, value: float, allow_zero: bool = False) -> None:
    ok = isinstance(value, int | float) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        raise UserError(
            f"{name} must be a finite number {'>=' if allow_zero else '>'} 0, not {value!r}"
        )

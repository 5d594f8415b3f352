"""Recorded Spotify and Last.fm call caches for synthetic tracks (the demo's and the tests').

The demo corpus has invented songs, so no real API knows them; these functions write the
call caches a real run would have recorded for them, every response shaped like the real
API's JSON, so that the builders replay them through the same readers as real caches
(:class:`~builders.corpora.spotify.SpotifyReader`, :class:`~builders.corpora.lastfm.LastfmClient`).
Everything is derived from the inputs: the same tracks give the same bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

from builders.common.call_cache import write_call_cache
from builders.corpora.lastfm import TOP_TAGS, TOP_TRACKS, top_tags_params, top_tracks_params
from builders.corpora.spotify_match import SEARCH_LIMIT, audio_features_params, search_params

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
Call = tuple[str, dict[str, Any], Any]


def spotify_id_for(*names: str) -> str:
    """A stable Spotify-like id (22 base-62 characters) derived from the given names."""
    number = int.from_bytes(hashlib.sha256("\t".join(names).encode("utf-8")).digest(), "big")
    characters = []
    for _ in range(22):
        number, digit = divmod(number, 62)
        characters.append(_BASE62[digit])
    return "".join(characters)


# --- Spotify --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedSpotifyTrack:
    """A local song and what Spotify is recorded to answer for it.

    ``found`` False records an empty search; ``spotify_artist`` / ``spotify_title`` (default:
    the local names) are what Spotify lists, to record poor matches; ``instrumentalness``
    None records no audio-features answer (as for an app that Spotify refuses).
    """

    artist: str
    title: str
    duration_s: float = 45.0
    instrumentalness: float | None = 0.9
    found: bool = True
    spotify_artist: str | None = None
    spotify_title: str | None = None


def _spotify_artist(name: str) -> dict[str, Any]:
    artist_id = spotify_id_for("artist", name)
    return {
        "external_urls": {"spotify": f"https://open.spotify.com/artist/{artist_id}"},
        "href": f"https://api.spotify.com/v1/artists/{artist_id}",
        "id": artist_id,
        "name": name,
        "type": "artist",
        "uri": f"spotify:artist:{artist_id}",
    }


def spotify_track_object(spotify_id: str, artist: str, title: str, duration_s: float) -> dict:
    """A track object as Spotify's search lists it."""
    album_id = spotify_id_for("album", artist, title)
    artists = [_spotify_artist(artist)]
    album = {
        "album_type": "single",
        "artists": artists,
        "available_markets": ["GB", "US"],
        "external_urls": {"spotify": f"https://open.spotify.com/album/{album_id}"},
        "href": f"https://api.spotify.com/v1/albums/{album_id}",
        "id": album_id,
        "images": [],
        "name": title,
        "release_date": "2013",
        "release_date_precision": "year",
        "total_tracks": 1,
        "type": "album",
        "uri": f"spotify:album:{album_id}",
    }
    return {
        "album": album,
        "artists": artists,
        "available_markets": ["GB", "US"],
        "disc_number": 1,
        "duration_ms": int(round(duration_s * 1000)),
        "explicit": False,
        "external_ids": {},
        "external_urls": {"spotify": f"https://open.spotify.com/track/{spotify_id}"},
        "href": f"https://api.spotify.com/v1/tracks/{spotify_id}",
        "id": spotify_id,
        "is_local": False,
        "name": title,
        "popularity": 0,
        "preview_url": None,
        "track_number": 1,
        "type": "track",
        "uri": f"spotify:track:{spotify_id}",
    }


def spotify_search_response(query: str, items: Sequence[dict], limit: int = SEARCH_LIMIT) -> dict:
    """A search response (``{"tracks": {...paging object...}}``) listing ``items``."""
    href = (
        f"https://api.spotify.com/v1/search?query={quote(query)}&type=track&offset=0&limit={limit}"
    )
    return {
        "tracks": {
            "href": href,
            "items": list(items),
            "limit": limit,
            "next": None,
            "offset": 0,
            "previous": None,
            "total": len(items),
        }
    }


def spotify_audio_features_response(
    spotify_id: str, instrumentalness: float, duration_s: float
) -> dict:
    """An audio-features response (``{"audio_features": [{...}]}``) for one track."""
    features = {
        "danceability": 0.3,
        "energy": 0.4,
        "key": 0,
        "loudness": -14.0,
        "mode": 1,
        "speechiness": 0.04,
        "acousticness": 0.6,
        "instrumentalness": instrumentalness,
        "liveness": 0.1,
        "valence": 0.4,
        "tempo": 100.0,
        "type": "audio_features",
        "id": spotify_id,
        "uri": f"spotify:track:{spotify_id}",
        "track_href": f"https://api.spotify.com/v1/tracks/{spotify_id}",
        "analysis_url": f"https://api.spotify.com/v1/audio-analysis/{spotify_id}",
        "duration_ms": int(round(duration_s * 1000)),
        "time_signature": 4,
    }
    return {"audio_features": [features]}


def spotify_calls(songs: Iterable[RecordedSpotifyTrack]) -> list[Call]:
    """The ``search`` (and ``audio_features``) calls a real run would record for ``songs``."""
    calls: list[Call] = []
    for song in songs:
        params = search_params(song.artist, song.title)
        if not song.found:
            calls.append(("search", params, spotify_search_response(params["q"], [])))
            continue
        listed = (song.spotify_artist or song.artist, song.spotify_title or song.title)
        spotify_id = spotify_id_for(*listed)
        item = spotify_track_object(spotify_id, *listed, song.duration_s)
        calls.append(("search", params, spotify_search_response(params["q"], [item])))
        if song.instrumentalness is not None:
            answer = spotify_audio_features_response(
                spotify_id, song.instrumentalness, song.duration_s
            )
            calls.append(("audio_features", audio_features_params(spotify_id), answer))
    return calls


def write_demo_spotify_cache(path: Path | str, songs: Iterable[RecordedSpotifyTrack]) -> int:
    """Write a recorded Spotify call cache for ``songs`` (atomically); the number of lines."""
    return write_call_cache(path, spotify_calls(songs))


# --- Last.fm --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedLastfmTrack:
    """A track of the seed tag and its recorded top tags (None: Last.fm says "Track not found")."""

    artist: str
    name: str
    tags: Mapping[str, int] | None
    mbid: str = ""


def _lastfm_track_url(artist: str, name: str) -> str:
    return f"https://www.last.fm/music/{quote_plus(artist)}/_/{quote_plus(name)}"


def _top_track_item(track: RecordedLastfmTrack, rank: int) -> dict[str, Any]:
    return {
        "name": track.name,
        "duration": "0",
        "mbid": track.mbid,
        "url": _lastfm_track_url(track.artist, track.name),
        "streamable": {"#text": "0", "fulltrack": "0"},
        "artist": {
            "name": track.artist,
            "mbid": "",
            "url": f"https://www.last.fm/music/{quote_plus(track.artist)}",
        },
        "image": [
            {"#text": "", "size": size} for size in ("small", "medium", "large", "extralarge")
        ],
        "@attr": {"rank": str(rank)},
    }


def lastfm_top_tracks_response(
    tag: str, items: Sequence[dict], page: int, per_page: int, total: int
) -> dict:
    """One ``tag.getTopTracks`` page as Last.fm's JSON gives it."""
    pages = -(-total // per_page)
    attributes = {
        "tag": tag,
        "page": str(page),
        "perPage": str(per_page),
        "totalPages": str(pages),
        "total": str(total),
    }
    return {"tracks": {"track": list(items), "@attr": attributes}}


def lastfm_top_tags_response(artist: str, name: str, tags: Mapping[str, int]) -> dict:
    """A ``track.getTopTags`` answer, tags by descending count (then name) as Last.fm lists them."""
    ordered = sorted(tags.items(), key=lambda item: (-item[1], item[0]))
    listed = [
        {"count": count, "name": tag, "url": f"https://www.last.fm/tag/{quote_plus(tag)}"}
        for tag, count in ordered
    ]
    return {"toptags": {"tag": listed, "@attr": {"artist": artist, "track": name}}}


LASTFM_TRACK_NOT_FOUND = {"error": 6, "message": "Track not found", "links": []}


def lastfm_calls(
    tracks: Sequence[RecordedLastfmTrack], tag: str = "soundtrack", per_page: int = 50
) -> list[Call]:
    """The calls a real run records: each top-tracks page of ``tag``, then each track's tags."""
    calls: list[Call] = []
    pages = max(1, -(-len(tracks) // per_page))
    for page in range(1, pages + 1):
        chunk = tracks[(page - 1) * per_page : page * per_page]
        items = [_top_track_item(t, (page - 1) * per_page + i + 1) for i, t in enumerate(chunk)]
        answer = lastfm_top_tracks_response(tag, items, page, per_page, len(tracks))
        calls.append((TOP_TRACKS, top_tracks_params(tag, page), answer))
    for track in tracks:
        if track.tags is None:
            answer = {**LASTFM_TRACK_NOT_FOUND, "links": []}
        else:
            answer = lastfm_top_tags_response(track.artist, track.name, track.tags)
        calls.append((TOP_TAGS, top_tags_params(track.artist, track.name), answer))
    return calls


def write_demo_lastfm_cache(
    path: Path | str,
    tracks: Sequence[RecordedLastfmTrack],
    tag: str = "soundtrack",
    per_page: int = 50,
) -> int:
    """Write a recorded Last.fm call cache for ``tracks`` of ``tag`` (atomically); lines written."""
    return write_call_cache(path, lastfm_calls(list(tracks), tag, per_page))

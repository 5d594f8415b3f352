"""The plan's first stages: the labelled tracks (tags or import mode) and their Spotify links."""

from __future__ import annotations

import os
from pathlib import Path

from builders.corpora.lastfm import LastfmClient
from builders.corpora.lexicons import read_lexicon
from builders.corpora.spotify import SpotifyReader
from builders.errors import UserError
from builders.muse_vad.collect import Labelled, collect_tags, import_muse
from builders.muse_vad.recipe import MuseVadRecipe


def lastfm_client(cache: Path) -> LastfmClient:
    """A Last.fm client over ``cache``; a missing cache without ``LASTFM_API_KEY``: UserError."""
    if not Path(cache).is_file() and not os.environ.get("LASTFM_API_KEY"):
        raise UserError(
            f"Last.fm call cache not found: {cache} (set LASTFM_API_KEY to make the calls "
            "and record them into it)"
        )
    return LastfmClient(cache)


def spotify_reader(cache: Path) -> SpotifyReader:
    """A Spotify reader over ``cache``; a missing cache without credentials is a UserError."""
    credentials = os.environ.get("SPOTIPY_CLIENT_ID") and os.environ.get("SPOTIPY_CLIENT_SECRET")
    if not Path(cache).is_file() and not credentials:
        raise UserError(
            f"Spotify call cache not found: {cache} (set SPOTIPY_CLIENT_ID and "
            "SPOTIPY_CLIENT_SECRET to make the searches and record them into it)"
        )
    return SpotifyReader(cache)


def labelled_tracks(
    recipe: MuseVadRecipe,
    *,
    lastfm: LastfmClient | None,
    lexicon: Path | None,
    lexicon_format: str | None,
    muse_csv: Path | None,
) -> Labelled:
    """The tags mode's or the import mode's labelled tracks (exactly one mode)."""
    if (lastfm is None) == (muse_csv is None):
        raise UserError(
            "give either --lastfm-cache with --lexicon (tags mode) or --muse-csv (import mode)"
        )
    if muse_csv is not None:
        if lexicon is not None or lexicon_format is not None:
            raise UserError(
                "--lexicon/--lexicon-format are for the tags mode: the MuSe CSV's labels are "
                "taken as given (Warriner 1-9)"
            )
        return import_muse(muse_csv)
    if lexicon is None:
        raise UserError(
            "the tags mode needs --lexicon (NRC-VAD v1 or Warriner et al. 2013, your own file)"
        )
    table = read_lexicon(Path(lexicon), lexicon_format)
    return collect_tags(lastfm, table, recipe.collection.seed_tag, recipe.tags.blacklist)


# ---------------------------------------------------------------- linking


def link_tracks(labelled: Labelled, spotify: SpotifyReader | None, threshold: float) -> int | None:
    """Spotify id and duration of each track without an id, by search; one track per Spotify id.

    Returns the number of linked tracks, or None when nothing links them (tags mode without a
    Spotify reader). A track that shares its Spotify id with an earlier track (by id) is left out.
    """
    if spotify is None and labelled.mode == "tags":
        return None
    linked = []
    for track in labelled.tracks:
        if track["spotify_id"] is None:
            if spotify is None:
                labelled.drop(
                    track,
                    "linking",
                    "no spotify_id in the CSV (give --spotify-cache to link by search)",
                )
                continue
            match = spotify.match(track["artist"], track["track"], threshold)
            if not match.matched:
                labelled.drop(
                    track, "linking", _unmatched(match.describe(), match.candidate, threshold)
                )
                continue
            track.update(spotify_id=match.spotify_id, spotify_duration_s=match.duration_s)
        linked.append(track)
    owner: dict[str, dict] = {}
    labelled.tracks = []
    for track in sorted(linked, key=lambda t: t["track_id"]):
        first = owner.setdefault(track["spotify_id"], track)
        if first is track:
            labelled.tracks.append(track)
        else:
            labelled.drop(
                track,
                "linking",
                f"same Spotify track {track['spotify_id']} as {first['track_id']} "
                f"({first['artist']} - {first['track']})",
            )
    return len(labelled.tracks)


def _unmatched(described: str, candidate: str | None, threshold: float) -> str:
    if candidate is None:
        return described
    return f"no Spotify match with token overlap >= {threshold:.2f}: best {described}"

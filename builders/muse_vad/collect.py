"""Labelled tracks, from Last.fm tags through a VAD lexicon (tags mode) or from a MuSe CSV (import).

Tags mode (the thesis's recipe): every page of ``tag.getTopTracks`` for the seed tag, then
``track.getTopTags`` per track (each listed track once), through
:class:`~builders.corpora.lastfm.LastfmClient` and its call cache; the tags become VAD by
:func:`~builders.corpora.lexicons.tags_to_vad`: blacklisted tags dropped, tags outside the
lexicon dropped, ``VAD = sum_t count_t * lex(t) / sum_t count_t`` on the lexicon's scale.

Import mode: the MuSe CSV's rows (:func:`~builders.corpora.muse.read_muse_csv`) with their
labels as given, on Warriner's 1-9 scale (the file has no tag weights to recompute them).

A track's id is ``t`` + the first 16 hex digits of sha256(``artist<TAB>track``), the names
exactly as the source gives them, so it depends on nothing else.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from builders.corpora.lastfm import LastfmClient, LastfmTrack
from builders.corpora.lexicons import VAD_FORMULA, Lexicon, tags_to_vad
from builders.corpora.muse import MUSE_SCALE, read_muse_csv
from builders.errors import UserError

TRACK_FIELDS = (
    "track_id",
    "track",
    "artist",
    "mbid",
    "lastfm_url",
    "spotify_id",
    "spotify_duration_s",
    "weighted_mood",
    "n_tags",
    "valence_tags",
    "arousal_tags",
    "dominance_tags",
    "scale",
    "seeds",
    "genre",
)
LABELS = ("valence_tags", "arousal_tags", "dominance_tags")
NOT_ANSWERED = "not answered by Last.fm track.getTopTags"
IMPORTED_LABELS = "as given in the MuSe CSV (Warriner et al. 2013 lexicon, 1-9)"


@dataclass
class Labelled:
    """Tracks with labels (dicts of :data:`TRACK_FIELDS`), the tracks left out, and the counts."""

    mode: str  # "tags" or "import"
    tracks: list[dict]
    dropped: list[dict] = field(default_factory=list)
    stages: dict[str, int] = field(default_factory=dict)
    labels: dict = field(default_factory=dict)  # scale, rule, lexicon, blacklist
    duplicate_listings: int = 0
    not_answered: int = 0  # tags mode: tracks whose only Last.fm answer is a recorded error
    other_formats: list[dict] = field(default_factory=list)  # a track's audio in other formats

    def drop(self, track: dict, stage: str, reason: str) -> None:
        """Record that ``track`` is left out at ``stage`` and why."""
        entry = {
            "track_id": track["track_id"],
            "artist": track["artist"],
            "track": track["track"],
            "stage": stage,
            "reason": reason,
        }
        self.dropped.append(entry | ({"line": track["line"]} if "line" in track else {}))


def track_id(artist: str, track: str) -> str:
    """The stable id of a track: ``t`` + 16 hex digits of sha256(artist TAB track).

    >>> track_id("Jake Bugg", "Simple as This")
    't7427c32518772341'
    """
    return "t" + hashlib.sha256(f"{artist}\t{track}".encode()).hexdigest()[:16]


def _blank(**values: object) -> dict:
    return dict.fromkeys(TRACK_FIELDS) | values


def _unique_listing(listed: Sequence[LastfmTrack]) -> tuple[list[LastfmTrack], int]:
    """Each (artist, track) once, in Last.fm's order; and how many repeats were left out."""
    seen: dict[tuple[str, str], LastfmTrack] = {}
    for item in listed:
        seen.setdefault((item.artist, item.name), item)
    return list(seen.values()), len(listed) - len(seen)


def _weighted_mood(kept: Iterable[tuple[str, float]]) -> str:
    """The kept tags and their counts as JSON text, by count then tag (``{"cool": 56, ...}``)."""
    counts = {tag: int(count) if float(count).is_integer() else count for tag, count in kept}
    return json.dumps(counts, ensure_ascii=False)


def collect_tags(
    client: LastfmClient, lexicon: Lexicon, seed_tag: str, blacklist: Iterable[str]
) -> Labelled:
    """Tags mode: the seed tag's tracks and their lexicon-weighted VAD (see the module)."""
    blacklist = tuple(blacklist)
    listing, repeats = _unique_listing(client.top_tracks(seed_tag))
    result = Labelled(
        "tags",
        [],
        duplicate_listings=repeats,
        labels={
            "scale": lexicon.scale,
            "rule": VAD_FORMULA,
            "blacklist": sorted(blacklist),
            "lexicon": {
                "file": Path(lexicon.path).name,
                "format": lexicon.format,
                "scale": lexicon.scale,
                "sha256": lexicon.sha256,
                "words": len(lexicon.entries),
            },
        },
    )
    for item in listing:
        track = _blank(
            track_id=track_id(item.artist, item.name),
            track=item.name,
            artist=item.artist,
            mbid=item.mbid or None,
            lastfm_url=item.url or None,
            scale=lexicon.scale,
        )
        if not item.artist.strip() or not item.name.strip():
            result.drop(track, "tags", "Last.fm lists it without an artist or a title")
            continue
        tags = client.track_top_tags(item.artist, item.name)
        if not tags.answered:
            result.not_answered += 1
            result.drop(track, "tags", f"{NOT_ANSWERED}: {tags.message}")
            continue
        if not tags.found:
            result.drop(track, "tags", f"Last.fm track.getTopTags: {tags.message}")
            continue
        vad = tags_to_vad(tags.tags, lexicon, blacklist)
        if vad.vad is None:
            result.drop(
                track, "tags", _no_vad_reason(tags.tags, vad.reason, vad.blacklisted, vad.unknown)
            )
            continue
        track.update(
            zip(LABELS, vad.vad), weighted_mood=_weighted_mood(vad.kept), n_tags=len(vad.kept)
        )
        result.tracks.append(track)
    result.stages = {"collected": len(listing), "with_lexicon_tags": len(result.tracks)}
    return result


def _no_vad_reason(
    tags: dict, reason: str | None, blacklisted: Sequence[str], unknown: Sequence[str]
) -> str:
    if not tags:
        return "Last.fm lists no tags for it"
    parts = [f"{len(blacklisted)} blacklisted"] if blacklisted else []
    parts += [f"{len(unknown)} not in the lexicon"] if unknown else []
    return f"{reason}" + (f" ({len(tags)} tags: {', '.join(parts)})" if parts else "")


def import_muse(path: Path) -> Labelled:
    """Import mode: the MuSe CSV's rows, labels as given (1-9); a repeated artist + track is left
    out, naming the line that is kept."""
    frame = read_muse_csv(Path(path))
    result = Labelled(
        "import", [], labels={"scale": MUSE_SCALE, "rule": IMPORTED_LABELS, "file": Path(path).name}
    )
    first_line: dict[str, int] = {}
    for row in frame.to_dict("records"):
        track = _blank(
            track_id=track_id(row["artist"], row["track"]),
            track=row["track"],
            artist=row["artist"],
            line=int(row["line"]),
        )
        if track["track_id"] in first_line:
            result.drop(
                track,
                "collection",
                f"same artist and track as line {first_line[track['track_id']]}",
            )
            continue
        first_line[track["track_id"]] = track["line"]
        track.update(
            {name: _text(row[name]) for name in ("mbid", "lastfm_url", "spotify_id", "genre")}
        )
        track.update({name: float(row[name]) for name in LABELS})
        track.update(
            n_tags=int(row["number_of_emotion_tags"]),
            scale=MUSE_SCALE,
            seeds=json.dumps(list(row["seeds"]), ensure_ascii=False),
        )
        result.tracks.append(track)
    if not result.tracks:
        raise UserError(f"{path}: no rows")
    result.stages = {"collected": len(first_line), "with_lexicon_tags": len(result.tracks)}
    return result


def _text(value: object) -> str | None:
    return None if value is None or value != value else str(value)

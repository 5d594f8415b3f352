"""What a mode selects before the audio is probed: candidate clips, the files they need.

A :class:`Selection` is the common result of mode (a) (``builders.instrumental_mer.tracklists``)
and mode (b) (``builders.instrumental_mer.compile``). Its ``clips`` frame has
:data:`CANDIDATE_COLUMNS`: a DEAM clip has its span (``start_s``, ``end_s``), a
Soundtracks or EMOPIA clip has NaN there and gets the middle of its source once the
source's length is known; mode (b)'s DEAM clips are made later from ``songs`` (the
ratings) by the segmentation rule, which needs the audio's length too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from builders.corpora.deam_dynamic import DynamicSong
from builders.corpora.emopia import parse_clip_name
from builders.corpora.listing import STRING
from builders.instrumental_mer.inventory import Skip

CANDIDATE_DTYPES: dict[str, object] = {
    "clip_id": STRING,
    "corpus": STRING,
    "source_id": STRING,
    "song_id": STRING,  # DEAM song id, Soundtracks set1-053, EMOPIA YouTube id
    "linked_song": STRING,  # Soundtracks: the set-1 excerpt a set-2 excerpt is a copy of
    "artist": STRING,
    "title": STRING,
    "start_s": "float64",
    "end_s": "float64",
    "valence": "float64",
    "arousal": "float64",
    "quadrant": STRING,
}
CANDIDATE_COLUMNS = tuple(CANDIDATE_DTYPES)


@dataclass
class SongRatings:
    """A DEAM song of mode (b) waiting for segmentation: its ratings and metadata."""

    ratings: DynamicSong
    artist: str | None
    title: str | None


@dataclass
class Selection:
    """Candidate clips, the source files they need, and what the mode has to report."""

    mode: str  # "tracklists" or "compile"
    clips: pd.DataFrame
    files: dict[str, tuple[str, str]] = field(default_factory=dict)  # source id -> (corpus, path)
    songs: dict[str, SongRatings] = field(
        default_factory=dict
    )  # mode (b): DEAM source id -> ratings
    skipped: list[Skip] = field(default_factory=list)
    missing: list[Skip] = field(default_factory=list)  # clips naming a file that is not there
    report: dict = field(default_factory=dict)
    screening: pd.DataFrame | None = None


def candidate_frame(rows: list[dict]) -> pd.DataFrame:
    """Rows (dicts with any subset of the candidate columns) as a typed frame by clip id."""
    columns = {}
    for name, dtype in CANDIDATE_DTYPES.items():
        values = [row.get(name) for row in rows]
        if dtype == "float64":
            values = [math.nan if value is None else value for value in values]
        columns[name] = pd.Series(values, dtype=dtype)
    return pd.DataFrame(columns).sort_values("clip_id", kind="stable").reset_index(drop=True)


def unit_scale(rating: float) -> float:
    """A 1-9 rating on [-1, 1]: (x - 5) / 4."""
    return (float(rating) - 5.0) / 4.0


def emopia_clip_id(clip_name: str) -> str:
    """The thesis's id of an EMOPIA clip: ``e_<clip name>.mp3``, whatever the file's suffix."""
    return f"e_{parse_clip_name(clip_name).name}.mp3"

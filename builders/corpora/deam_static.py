"""DEAM static per-song annotations: ``valence_mean`` and ``arousal_mean`` (1-9) of each song.

The two files (songs 1-2000 and 2000-2058) differ in width and have leading spaces in their
header names (and a typo, `` valence_ max_mean``); only ``song_id``, ``valence_mean`` and
``arousal_mean`` are used. Within one file a song listed twice with different values is an
error naming both lines; an exact repeat is kept once and reported as a note.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from builders.corpora.listing import (
    STRING,
    numeric_column,
    require_columns,
)
from builders.errors import UserError

ANNOTATION_FILES = (
    "static_annotations_averaged_songs_1_2000.csv",
    "static_annotations_averaged_songs_2000_2058.csv",
)


@dataclass(frozen=True)
class StaticAnnotations:
    """Static per-song means and the notes on exact repeats that were kept once."""

    table: pd.DataFrame
    duplicates: tuple[tuple[str, str], ...]


def read_deam_static(paths: Sequence[Path]) -> StaticAnnotations:
    """Static per-song means from DEAM annotation CSVs, with duplicate notes.

    ``table`` has columns ``song_id`` (str, no leading zeros), ``valence``, ``arousal``
    (float64, 1-9), one row per song sorted numerically by id. A song present in two
    files keeps the value from the first path given (noted). Inside one file, a song on
    two lines with different valence/arousal is a UserError naming both lines; the same
    values twice are kept once. Notes are ``(file, note)`` pairs in ``duplicates``.
    """
    if not paths:
        raise UserError("no DEAM annotation file given")
    tables, notes = [], []
    for path in paths:
        table, found = _read_annotation_file(Path(path))
        notes.extend(found + _across_files(table, tables, Path(path), [Path(p) for p in paths]))
        tables.append(table)
    table = pd.concat(tables, ignore_index=True).drop_duplicates("song_id", keep="first")
    order = table["song_id"].astype("int64").argsort(kind="stable")
    return StaticAnnotations(table.iloc[order].reset_index(drop=True), tuple(notes))


def _across_files(
    table: pd.DataFrame, earlier: list[pd.DataFrame], path: Path, paths: list[Path]
) -> list[tuple[str, str]]:
    """Notes for songs of ``table`` already read from an earlier file (which wins)."""
    notes = []
    for before, first_path in zip(earlier, paths):
        kept = before.set_index("song_id")
        for song, valence, arousal in table.itertuples(index=False):
            if song in kept.index:
                same = (kept.loc[song, "valence"], kept.loc[song, "arousal"]) == (valence, arousal)
                notes.append(
                    (
                        str(path),
                        f"song {song} is also in {first_path.name}"
                        f"{'' if same else ' with other values'}; kept {first_path.name}'s",
                    )
                )
    return notes


def read_deam_annotations(paths: Sequence[Path]) -> pd.DataFrame:
    """The ``table`` of :func:`read_deam_static` (``song_id``, ``valence``, ``arousal``)."""
    return read_deam_static(paths).table


def _read_annotation_file(path: Path) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    try:
        raw = pd.read_csv(path, dtype=str, skipinitialspace=True, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise UserError(f"{path}: cannot read DEAM annotations ({error})") from None
    raw.columns = [str(name).strip() for name in raw.columns]
    require_columns(raw, ("song_id", "valence_mean", "arousal_mean"), path)
    song_id = raw["song_id"].str.strip()
    bad = ~song_id.str.fullmatch(r"\d+").fillna(False)
    if bad.any():
        raise UserError(f"{path}: song_id {raw['song_id'][bad].iloc[0]!r} is not a number")
    raw["song_id"] = song_id.map(lambda text: str(int(text)))
    table = pd.DataFrame(
        {
            "song_id": raw["song_id"].astype(STRING),
            "valence": numeric_column(raw, "valence_mean", path, "song_id"),
            "arousal": numeric_column(raw, "arousal_mean", path, "song_id"),
        }
    )
    return _without_repeats(table, path)


def _without_repeats(table: pd.DataFrame, path: Path) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Drop exact repeats of a song (noted); UserError on a song with two different values."""
    notes = []
    first_line: dict[str, int] = {}
    keep = []
    for index, (song, valence, arousal) in enumerate(table.itertuples(index=False)):
        line = index + 2  # the header is line 1
        if song not in first_line:
            first_line[song] = line
            keep.append(index)
            continue
        kept = table.iloc[first_line[song] - 2]
        if (kept["valence"], kept["arousal"]) != (valence, arousal):
            raise UserError(
                f"{path}: song {song} is on lines {first_line[song]} and {line} with different "
                f"values (valence_mean {kept['valence']} vs {valence}, arousal_mean "
                f"{kept['arousal']} vs {arousal})"
            )
        notes.append(
            (
                str(path),
                f"song {song} is on lines {first_line[song]} and {line} "
                "with the same values; kept once",
            )
        )
    return table.iloc[keep].reset_index(drop=True), notes

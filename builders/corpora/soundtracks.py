"""Soundtracks (Eerola & Vuoskoski 2011) reader: ``Set1/NNN.mp3`` + mean ratings.

``mean_ratings_set1.csv`` has a lower-case header (``number,valence,energy,...``),
``mean_ratings_set2.csv`` a capitalised one (``Number,Valence,Energy,...``); both
are UTF-8 with a BOM and CRLF. Arousal is the ``energy`` rating. Set 2's ``link`` column
gives the set-1 number of the same excerpt (:func:`read_soundtracks_links`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from builders.corpora.listing import (
    MUSIC_CLASSIC_SUFFIXES,
    STRING,
    CorpusListing,
    audio_by_key,
    audio_files_below,
    checked_root,
    files_named,
    listing_frame,
    numeric_column,
    relative_posix,
    require_columns,
    sorted_skips,
    summarise_ids,
)
from builders.errors import UserError

SETS = ("set1", "set2")
RATING_FILES = {name: f"mean_ratings_{name}.csv" for name in SETS}
_SET_FOLDER = re.compile(r"^set[\s_-]*([12])$", re.IGNORECASE)


def read_soundtracks_ratings(path: Path) -> pd.DataFrame:
    """Mean ratings of one Soundtracks set.

    Returns columns ``number`` (3-digit string, e.g. ``"007"``), ``valence`` and
    ``arousal`` (= energy), float64 on 1-9, sorted by number.
    """
    path = Path(path)
    raw = _read_ratings_csv(path, ("number", "valence", "energy"))
    table = pd.DataFrame(
        {
            "number": raw["number"].astype(STRING),
            "valence": numeric_column(raw, "valence", path, "number"),
            "arousal": numeric_column(raw, "energy", path, "number"),
        }
    )
    duplicated = table["number"].duplicated()
    if duplicated.any():
        raise UserError(f"{path}: number {table['number'][duplicated].iloc[0]} appears twice")
    return table.sort_values("number", kind="stable").reset_index(drop=True)


def read_soundtracks_links(path: Path) -> pd.DataFrame:
    """Set-2 excerpts that are set-1 excerpts too, from ``mean_ratings_set2.csv``'s ``link``.

    Returns columns ``set2_number`` and ``set1_number`` (3-digit strings): one row per
    set-2 excerpt whose ``link`` names a set-1 number, sorted by ``set2_number``, so a
    builder can keep one clip per distinct excerpt and report the pairs. Two set-2 rows
    may name the same set-1 excerpt. An empty ``link`` means no counterpart; anything
    but a 1-3 digit number is a UserError naming the set-2 number.
    """
    path = Path(path)
    raw = _read_ratings_csv(path, ("number", "link"))
    link = raw["link"].fillna("").str.strip()
    bad = (link != "") & ~link.str.fullmatch(r"\d{1,3}")
    if bad.any():
        first = bad.to_numpy().nonzero()[0][0]
        raise UserError(
            f"{path}: link of number {raw['number'].iloc[first]} is "
            f"{raw['link'].iloc[first]!r}, expected a set-1 number (1-3 digits)"
        )
    linked = link != ""
    table = pd.DataFrame(
        {
            "set2_number": raw["number"][linked].astype(STRING),
            "set1_number": link[linked].str.zfill(3).astype(STRING),
        }
    )
    return table.sort_values("set2_number", kind="stable").reset_index(drop=True)


def _read_ratings_csv(path: Path, needed: tuple[str, ...]) -> pd.DataFrame:
    """The ratings file as text cells, lower-case column names, ``number`` zero-padded."""
    try:
        raw = pd.read_csv(path, dtype=str, encoding="utf-8-sig", skipinitialspace=True)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise UserError(f"{path}: cannot read Soundtracks ratings ({error})") from None
    raw.columns = [str(name).strip().lower() for name in raw.columns]
    require_columns(raw, needed, path)
    number = raw["number"].str.strip()
    bad = ~number.str.fullmatch(r"\d{1,3}").fillna(False)
    if bad.any():
        raise UserError(f"{path}: number {raw['number'][bad].iloc[0]!r} is not a 1-3 digit number")
    raw["number"] = number.str.zfill(3)
    return raw


def read_soundtracks(root: Path) -> CorpusListing:
    """List the rated Soundtracks excerpts with audio below ``root``."""
    root = checked_root(root, "Soundtracks")
    ratings = _ratings_by_set(root)
    rows, skipped, seen = [], [], {}
    for path in audio_files_below(root, MUSIC_CLASSIC_SUFFIXES):
        relative = relative_posix(path, root)
        key = _set_and_number(path)
        reason = _reason_to_skip(key, ratings, seen)
        if reason:
            skipped.append((relative, reason))
            continue
        seen[key] = relative
        rows.append(_row(key, relative, ratings[key[0]].loc[key[1]]))
    if not rows:
        raise UserError(
            f"no rated Soundtracks audio (Set1/NNN.mp3 or .wav with mean_ratings_set1.csv, "
            f"or Set2/...) found below {root}"
        )
    for set_name, table in sorted(ratings.items()):
        missing = [n for n in table.index if (set_name, n) not in seen]
        if missing:
            skipped.append(
                (
                    RATING_FILES[set_name],
                    summarise_ids(missing, "rated excerpts have no audio file"),
                )
            )
    return CorpusListing("soundtracks", root, listing_frame(rows), sorted_skips(skipped))


def find_soundtracks_audio(root: Path) -> tuple[dict[str, str], tuple[tuple[str, str], ...]]:
    """Soundtracks excerpt audio below ``root`` by ``<set>-<NNN>`` (``Set1/053.mp3`` -> ``set1-053``).

    Any audio format (users convert); see
    :func:`~builders.corpora.listing.audio_by_key` for what is skipped.
    """
    root = checked_root(root, "Soundtracks")
    return audio_by_key(root, _excerpt_of, "Soundtracks excerpt (Set1/NNN.mp3 or Set2/NNN.mp3)")


def _excerpt_of(path: Path) -> str | None:
    key = _set_and_number(path)
    return None if key is None else f"{key[0]}-{key[1]}"


def _ratings_by_set(root: Path) -> dict[str, pd.DataFrame]:
    ratings = {}
    for set_name, file_name in RATING_FILES.items():
        paths = files_named(root, [file_name])
        if paths:
            ratings[set_name] = read_soundtracks_ratings(paths[0]).set_index("number")
    if not ratings:
        raise UserError(
            f"no Soundtracks ratings file ({' or '.join(RATING_FILES.values())}) found below {root}"
        )
    return ratings


def _set_and_number(path: Path) -> tuple[str, str] | None:
    folder = _SET_FOLDER.match(path.parent.name.strip())
    if not folder or not re.fullmatch(r"\d{1,3}", path.stem):
        return None
    return f"set{folder.group(1)}", path.stem.zfill(3)


def _reason_to_skip(
    key: tuple[str, str] | None, ratings: dict[str, pd.DataFrame], seen: dict[tuple[str, str], str]
) -> str | None:
    if key is None:
        return "not a Soundtracks excerpt (expected Set1/NNN.mp3 or Set2/NNN.mp3, or .wav)"
    set_name, number = key
    if set_name not in ratings:
        return f"no {RATING_FILES[set_name]} found for this excerpt"
    if key in seen:
        return f"duplicate of {seen[key]}"
    if number not in ratings[set_name].index:
        return f"no rating for {set_name} excerpt {number} in {RATING_FILES[set_name]}"
    return None


def _row(key: tuple[str, str], relative: str, labels: pd.Series) -> dict[str, object]:
    set_name, number = key
    return {
        "source_id": f"soundtracks-{set_name}-{number}",
        "corpus": "soundtracks",
        "path": relative,
        "valence": float(labels["valence"]),
        "arousal": float(labels["arousal"]),
    }

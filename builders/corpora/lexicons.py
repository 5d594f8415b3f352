"""Valence/arousal/dominance word lexicons and the Last.fm tags -> VAD rule (seed 002).

Two formats, both the user's own files (their licences forbid bundling them):

- NRC-VAD v1 (Mohammad 2018): ``Word<TAB>Valence<TAB>Arousal<TAB>Dominance``, a header
  line, values in [0, 1].
- Warriner, Kuperman & Brysbaert (2013): CSV with columns ``Word``, ``V.Mean.Sum``,
  ``A.Mean.Sum``, ``D.Mean.Sum`` among others (often a leading unnamed index column),
  values on 1-9.

The format is detected from the header line (or given); the scale and the file's
sha256 are returned with the table so a build can record them. Words are matched
case-insensitively after trimming, like tags.

:func:`tags_to_vad` is the thesis's rule: drop blacklisted (genre and other non-mood)
tags, keep the tags found in the lexicon and average their VAD weighted by tag count,
``VAD = sum_t count_t * lex(t) / sum_t count_t``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import pandas as pd

from builders.corpora.listing import STRING
from builders.errors import UserError

NRC_VAD = "nrc-vad"
WARRINER = "warriner"
LEXICON_FORMATS = (NRC_VAD, WARRINER)
SCALES: dict[str, str] = {NRC_VAD: "[0,1]", WARRINER: "1-9"}
VAD_FORMULA = "VAD = sum_t count_t * lex(t) / sum_t count_t over the kept tags t"
THESIS_BLACKLIST: frozenset[str] = frozenset(
    {
        "soundtrack",
        "movie",
        "film",
        "electronic",
        "indie",
        "rock",
        "pop",
        "country",
        "composer",
        "intro",
        "musical",
        "cover",
        "alternative",
        "blue",
        "retro",
        "contemporary",
    }
)

_RANGES = {NRC_VAD: (0.0, 1.0), WARRINER: (1.0, 9.0)}
_NRC_COLUMNS = ("word", "valence", "arousal", "dominance")
_WARRINER_COLUMNS = ("word", "v.mean.sum", "a.mean.sum", "d.mean.sum")
_EXPECTED_HEADER = {
    NRC_VAD: "Word<TAB>Valence<TAB>Arousal<TAB>Dominance (NRC-VAD v1)",
    WARRINER: "a CSV header with Word,V.Mean.Sum,A.Mean.Sum,D.Mean.Sum (Warriner et al. 2013)",
}

Vad = tuple[float, float, float]


@dataclass(frozen=True)
class Lexicon:
    """A VAD lexicon as read: ``entries`` maps a lower-case word to (V, A, D), by word."""

    path: str
    format: str
    scale: str
    sha256: str
    entries: Mapping[str, Vad]

    def frame(self) -> pd.DataFrame:
        """``word`` (string), ``valence``, ``arousal``, ``dominance`` (float64), by word."""
        words = list(self.entries)
        values = list(self.entries.values())
        return pd.DataFrame(
            {
                "word": pd.Series(words, dtype=STRING),
                **{
                    name: pd.Series([v[i] for v in values], dtype="float64")
                    for i, name in enumerate(("valence", "arousal", "dominance"))
                },
            }
        )


@dataclass(frozen=True)
class TagVad:
    """What :func:`tags_to_vad` made of one track's tags.

    ``vad`` is None exactly when ``reason`` says why (no lexicon tag left, or their
    counts sum to 0). ``kept``: ``(tag, summed count)`` by count then tag;
    ``blacklisted`` and ``unknown`` (not in the lexicon): sorted tag names.
    """

    vad: Vad | None
    kept: tuple[tuple[str, float], ...]
    blacklisted: tuple[str, ...]
    unknown: tuple[str, ...]
    reason: str | None


def normalise_word(word: str) -> str:
    """The form tags and lexicon words are compared in: trimmed and lower-case."""
    return word.strip().lower()


def detect_lexicon_format(header: str) -> str | None:
    """``"nrc-vad"``, ``"warriner"`` or None for the first line of a lexicon file."""
    if _nrc_header(header):
        return NRC_VAD
    if _warriner_columns(header) is not None:
        return WARRINER
    return None


def read_lexicon(path: Path, lexicon_format: str | None = None) -> Lexicon:
    """Read an NRC-VAD v1 or Warriner lexicon; the format from its header unless given.

    A header of neither format (or not of the given one), a line without its three
    values, a value that is not a number or is outside the format's scale, or a word
    listed twice with different values is a UserError naming the file and line.
    """
    path = Path(path)
    if lexicon_format is not None and lexicon_format not in LEXICON_FORMATS:
        raise UserError(
            f"unknown lexicon format {lexicon_format!r} (expected one of "
            f"{', '.join(LEXICON_FORMATS)})"
        )
    data, text = _read_text(path)
    header = text.splitlines()[0] if text else ""
    detected = detect_lexicon_format(header)
    wanted = lexicon_format or detected
    if wanted is None or detected != wanted:
        expected = (
            _EXPECTED_HEADER[wanted]
            if wanted
            else " or ".join(_EXPECTED_HEADER[name] for name in LEXICON_FORMATS)
        )
        raise UserError(f"{path}: line 1: header {header[:80]!r} is not {expected}")
    rows = _nrc_rows(text, path) if wanted == NRC_VAD else _warriner_rows(text, path)
    entries = _entries(rows, path, _RANGES[wanted])
    return Lexicon(str(path), wanted, SCALES[wanted], hashlib.sha256(data).hexdigest(), entries)


def _read_text(path: Path) -> tuple[bytes, str]:
    try:
        data = path.read_bytes()
        return data, data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: cannot read the lexicon ({error})") from None


def _nrc_header(line: str) -> bool:
    return tuple(normalise_word(name) for name in line.split("\t")) == _NRC_COLUMNS


def _warriner_columns(line: str) -> tuple[int, ...] | None:
    names = [normalise_word(name) for name in next(csv.reader([line]), [])]
    if not all(column in names for column in _WARRINER_COLUMNS):
        return None
    return tuple(names.index(column) for column in _WARRINER_COLUMNS)


def _nrc_rows(text: str, path: Path) -> list[tuple[int, list[str]]]:
    """``(line, [word, v, a, d])`` of each non-blank line after the header."""
    rows = []
    for line, content in enumerate(text.splitlines()[1:], start=2):
        if not content.strip():
            continue
        fields = content.split("\t")
        if len(fields) != 4:
            raise UserError(
                f"{path}: line {line}: {len(fields)} tab-separated fields, expected "
                "4 (Word, Valence, Arousal, Dominance)"
            )
        rows.append((line, fields))
    return rows


def _warriner_rows(text: str, path: Path) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    columns = _warriner_columns(text.splitlines()[0]) or ()
    next(reader)
    rows, line = [], 2
    try:
        for record in reader:
            if any(cell.strip() for cell in record):
                if len(record) <= max(columns):
                    raise UserError(
                        f"{path}: line {line}: {len(record)} fields, the header "
                        f"names column {max(columns) + 1}"
                    )
                rows.append((line, [record[index] for index in columns]))
            line = reader.line_num + 1
    except csv.Error as error:
        raise UserError(f"{path}: line {line}: not a readable CSV record ({error})") from None
    return rows


def _entries(
    rows: list[tuple[int, list[str]]], path: Path, scale: tuple[float, float]
) -> Mapping[str, Vad]:
    entries: dict[str, Vad] = {}
    lines: dict[str, int] = {}
    for line, (word, *texts) in rows:
        where = f"{path}: line {line}"
        key = normalise_word(word)
        if not key:
            raise UserError(f"{where}: empty word")
        vad = tuple(
            _value(text, name, where, scale)
            for text, name in zip(texts, ("valence", "arousal", "dominance"))
        )
        if key in entries and entries[key] != vad:
            raise UserError(f"{where}: {key!r} is also on line {lines[key]} with other values")
        entries.setdefault(key, vad)
        lines.setdefault(key, line)
    return MappingProxyType(dict(sorted(entries.items())))


def _value(text: str, name: str, where: str, scale: tuple[float, float]) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise UserError(f"{where}: {name} {text.strip()!r} is not a number")
    low, high = scale
    if not low <= value <= high:
        raise UserError(
            f"{where}: {name} {text.strip()} is outside the lexicon's scale {low:g}-{high:g}"
        )
    return value


def tags_to_vad(
    tags: Mapping[str, float] | Iterable[tuple[str, float]],
    lexicon: Lexicon | Mapping[str, Vad],
    blacklist: Iterable[str] = THESIS_BLACKLIST,
) -> TagVad:
    """Count-weighted mean VAD of a track's mood tags: ``sum_t c_t lex(t) / sum_t c_t``.

    Tags (``{tag: count}`` or ``(tag, count)`` pairs, e.g. Last.fm's weighted tags) are
    trimmed and lower-cased; blacklisted ones are dropped, as are tags not in the
    lexicon; repeats of a tag add their counts. The result is on the lexicon's scale.
    A count that is not a finite number >= 0 is a UserError.

    >>> nrc = {"cool": (0.885, 0.54, 0.781), "nice": (0.93, 0.442, 0.65),
    ...        "study": (0.653, 0.361, 0.768)}
    >>> [round(x, 5) for x in tags_to_vad({"cool": 56, "nice": 12, "study": 12}, nrc).vad]
    [0.85695, 0.49845, 0.7594]
    """
    entries = lexicon.entries if isinstance(lexicon, Lexicon) else lexicon
    banned = {normalise_word(tag) for tag in blacklist}
    counts: dict[str, float] = {}
    blacklisted, unknown = set(), set()
    for tag, count in _tag_pairs(tags):
        name = normalise_word(tag)
        if name in banned:
            blacklisted.add(name)
        elif name not in entries:
            unknown.add(name)
        else:
            counts[name] = counts.get(name, 0) + count
    kept = tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
    total = math.fsum(counts.values())
    reason = None
    if not kept:
        reason = "no tag left that is in the lexicon (after the blacklist)"
    elif total == 0:
        reason = "the lexicon tags' counts sum to 0"
    vad = None if reason else _weighted_mean(kept, entries, total)
    return TagVad(vad, kept, tuple(sorted(blacklisted)), tuple(sorted(unknown)), reason)


def _tag_pairs(tags: Mapping[str, float] | Iterable[tuple[str, float]]) -> list[tuple[str, float]]:
    pairs = list(tags.items()) if isinstance(tags, Mapping) else list(tags)
    for tag, count in pairs:
        if (
            isinstance(count, bool)
            or not isinstance(count, int | float)
            or not math.isfinite(count)
            or count < 0
        ):
            raise UserError(f"tag {tag!r}: count {count!r} is not a number >= 0")
    return pairs


def _weighted_mean(
    kept: tuple[tuple[str, float], ...], entries: Mapping[str, Vad], total: float
) -> Vad:
    return tuple(
        math.fsum(count * entries[tag][axis] for tag, count in kept) / total for axis in range(3)
    )

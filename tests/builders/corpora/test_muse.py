from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from builders.corpora.muse import MUSE_COLUMNS, MUSE_DTYPES, parse_seeds, read_muse_csv
from builders.errors import UserError

HEADER = ",".join(MUSE_COLUMNS) + "\n"
ROWS = (
    "'Till I Collapse,Eminem,['aggressive'],6,4.55,5.273125,5.690625,"
    "cab93def-26c5-4fb0-bedd-26ec4c1619e1,4xkOaSrkexMciUUogZKVTS,rap\n"
    "Speedin',Rick Ross,['aggressive'],1,3.08,5.87,5.49,,3Y96xd4Ce0J47dcalLrEC8,rap\n"
    "Bamboo Banga,M.I.A.,\"['aggressive', 'fun', 'sexy']\",13,6.555071429,5.537214286,"
    "5.691357143,99dd2c8c-e7c1-413e-8ea4-4497a00ffa18,6tqFC1DIOphJkCwrjVzPmg,hip-hop\n"
)


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "muse_v3.csv"
    path.write_bytes(text.encode())
    return path


def test_own_rows_are_typed_sorted_and_unchanged(tmp_path):
    table = read_muse_csv(_csv(tmp_path, HEADER + ROWS))
    assert dict(table.dtypes) == MUSE_DTYPES
    assert list(table.artist) == ["Eminem", "M.I.A.", "Rick Ross"]
    first = table.iloc[0]
    assert (first.track, first.seeds, first.number_of_emotion_tags) == (
        "'Till I Collapse",
        ("aggressive",),
        6,
    )
    assert (first.valence_tags, first.arousal_tags, first.dominance_tags) == (
        4.55,
        5.273125,
        5.690625,
    )
    assert (first.line, first.genre) == (2, "rap") and pd.isna(first.lastfm_url)
    speedin = table.iloc[2]
    assert speedin.track == "Speedin'" and pd.isna(speedin.mbid)
    assert table.iloc[1].seeds == ("aggressive", "fun", "sexy")


def test_leading_lastfm_url_column_is_kept(tmp_path):
    url = "https://www.last.fm/music/eminem/_/%27till+i+collapse"
    rows = "".join(f"{url if i == 0 else ''},{line}\n" for i, line in enumerate(ROWS.splitlines()))
    table = read_muse_csv(_csv(tmp_path, "lastfm_url," + HEADER + rows))
    assert table.set_index("track").loc["'Till I Collapse", "lastfm_url"] == url
    assert table.lastfm_url.isna().sum() == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("['aggressive']", ("aggressive",)),
        (" ['a', \"b c\"] ", ("a", "b c")),
        ("[]", ()),
    ],
)
def test_seeds_are_parsed_as_a_literal_list_of_strings(text, expected):
    assert parse_seeds(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "aggressive",
        "['a', 1]",
        "[__import__('os').system('true')]",
        "['a'",
        "('a',)",
        "[" * 5000 + "]" * 5000,
        "[" + "'a'," * 5000 + "]",
    ],
)
def test_seeds_that_are_not_a_list_of_strings_are_refused(text):
    with pytest.raises(ValueError, match="is not a list of seed moods"):
        parse_seeds(text)


def test_missing_column_is_a_user_error(tmp_path):
    header = HEADER.replace(",dominance_tags", "")
    with pytest.raises(UserError, match=r"muse_v3\.csv: missing column 'dominance_tags'"):
        read_muse_csv(_csv(tmp_path, header + "x\n"))


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("Song,Band,['sad'],2,4.5,5.5,5,,id1\n", r"line 5: 9 fields, but the header has 10"),
        ("Song,Band,sad,2,4.5,5.5,5,,id1,pop\n", r"line 5: column seeds: 'sad' is not a list"),
        (
            "Song,Band,['sad'],two,4.5,5.5,5,,id1,pop\n",
            r"line 5: column number_of_emotion_tags is 'two'",
        ),
        (
            "Song,Band,['sad'],2,0.5,5.5,5,,id1,pop\n",
            r"line 5: column valence_tags is '0.5', expected a number from 1 to 9",
        ),
        (
            "Song,Band,['sad'],2,4.5,,5,,id1,pop\n",
            r"line 5: column arousal_tags is '', expected a number",
        ),
        ("Song,Band,['sad'],2,4.5,5.5,nan,,id1,pop\n", r"line 5: column dominance_tags is 'nan'"),
        (",Band,['sad'],2,4.5,5.5,5,,id1,pop\n", r"line 5: column track is empty"),
    ],
)
def test_bad_rows_are_user_errors_naming_line_and_column(tmp_path, row, message):
    with pytest.raises(UserError, match=r"muse_v3\.csv: " + message):
        read_muse_csv(_csv(tmp_path, HEADER + ROWS + row))


def test_reference_rows_import_with_their_labels_unchanged(reference_data):
    path = reference_data / "muse" / "muse_v3_header_and_20_rows.csv"
    table = read_muse_csv(path)
    with path.open(newline="", encoding="utf-8") as handle:
        raw = list(csv.DictReader(handle))
    assert len(table) == len(raw) == 20
    by_line = table.set_index("line")
    for line, row in enumerate(raw, start=2):
        got = by_line.loc[line]
        assert (got.track, got.artist) == (row["track"], row["artist"])
        for column in ("valence_tags", "arousal_tags", "dominance_tags"):
            assert got[column] == float(row[column]) and repr(float(got[column])) == row[column]
        assert got.number_of_emotion_tags == int(row["number_of_emotion_tags"])
        assert got.spotify_id == row["spotify_id"] and got.genre == row["genre"]
        assert (pd.isna(got.mbid) and row["mbid"] == "") or got.mbid == row["mbid"]
    collapse = by_line.loc[2]
    assert collapse.track == "'Till I Collapse" and collapse.seeds == ("aggressive",)
    assert by_line.loc[21].seeds == (
        "aggressive",
        "confrontational",
        "intense",
        "epic",
        "desperate",
    )
    assert table.mbid.isna().sum() == 2

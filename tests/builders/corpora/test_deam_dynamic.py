from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from builders.corpora.deam_dynamic import find_deam_dynamic, read_deam_dynamic
from builders.errors import UserError

DYNAMIC_HEADER = "song_id,sample_15000ms,sample_15500ms,sample_16000ms,sample_16500ms\r\n"


def _dynamic(
    tmp_path: Path, valence: str, arousal: str, header: str = DYNAMIC_HEADER
) -> tuple[Path, Path]:
    folder = (
        tmp_path
        / "annotations"
        / "annotations averaged per song"
        / "dynamic (per second annotations)"
    )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "valence.csv").write_bytes((header + valence).encode())
    (folder / "arousal.csv").write_bytes((header + arousal).encode())
    return folder / "valence.csv", folder / "arousal.csv"


def test_dynamic_annotations_times_values_and_padding(tmp_path):
    paths = _dynamic(
        tmp_path,
        "10,0.1,0.2,0.3,0.4\r\n2,-0.5,-0.25,,\r\n",
        "2,0.5,1,,\r\n10,-1,0,0.125,-0.75\r\n",
    )
    assert find_deam_dynamic(tmp_path) == paths
    dynamic = read_deam_dynamic(*paths)
    assert [song.song_id for song in dynamic.songs] == ["2", "10"]
    short, full = dynamic.songs
    assert list(short.times_s) == [15.0, 15.5] and list(short.valence) == [-0.5, -0.25]
    assert list(short.arousal) == [0.5, 1.0]
    assert list(full.times_s) == [15.0, 15.5, 16.0, 16.5]
    assert list(full.arousal) == [-1.0, 0.0, 0.125, -0.75]
    assert full.valence.dtype == np.float64 and not full.valence.flags.writeable
    assert dynamic.song("10") is full and dynamic.skipped == () and dynamic.duplicates == ()


def test_dynamic_song_in_one_file_only_or_of_unequal_length_is_skipped(tmp_path):
    paths = _dynamic(
        tmp_path, "2,0.1,0.2,,\r\n3,0.1,0.1,0.1,\r\n4,0.1,,,\r\n", "3,0.1,0.1,,\r\n4,0.2,,,\r\n"
    )
    dynamic = read_deam_dynamic(*paths)
    assert [song.song_id for song in dynamic.songs] == ["4"]
    skipped = dict(dynamic.skipped)
    assert skipped["2"].startswith("in valence.csv but not in arousal.csv")
    assert skipped["3"] == "3 samples in valence.csv but 2 in arousal.csv"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("7,0.1,0.2,0.3,0.4,0.5\r\n", r"line 2 \(song 7\): 6 cells, but the header has 5 columns"),
        ("7,0.1,1.5,,\r\n", r"line 2 \(song 7\): column sample_15500ms is 1.5, outside \[-1, 1\]"),
        ("7,0.1,-1.0001,,\r\n", r"line 2 \(song 7\): column sample_15500ms is -1.0001, outside"),
        ("7,0.1,,0.3,\r\n", r"line 2 \(song 7\): empty cell in column sample_15500ms between"),
        ("7,0.1,abc,,\r\n", r"line 2 \(song 7\): column sample_15500ms is 'abc', not a number"),
        ("7,0.1,nan,,\r\n", r"line 2 \(song 7\): column sample_15500ms is 'nan', not a number"),
        ("seven,0.1,,,\r\n", r"line 2: song_id 'seven' is not a number"),
    ],
)
def test_bad_dynamic_rows_are_user_errors_naming_file_line_and_column(tmp_path, row, message):
    valence, arousal = _dynamic(tmp_path, row, "7,0.1,,,\r\n")
    with pytest.raises(UserError, match=r"valence\.csv: " + message):
        read_deam_dynamic(valence, arousal)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("id,sample_15000ms\r\n", "first column is 'id', expected 'song_id'"),
        (
            "song_id,sample_15000ms,sample_16000ms\r\n",
            "follows sample_15000ms; expected one sample every 500 ms",
        ),
        ("song_id,sample_15000ms,t2\r\n", "column 't2' is not sample_<milliseconds>ms"),
        ("song_id\r\n", "no sample_<ms>ms column"),
    ],
)
def test_bad_dynamic_header_is_a_user_error(tmp_path, header, message):
    paths = _dynamic(tmp_path, "7,0.1\r\n", "7,0.1\r\n", header=header)
    with pytest.raises(UserError, match=re.escape(message)):
        read_deam_dynamic(*paths)


def test_dynamic_value_under_an_unnamed_trailing_header_cell_is_an_error(tmp_path):
    header = DYNAMIC_HEADER.replace("\r\n", ",\r\n")
    valence, arousal = _dynamic(
        tmp_path, "7,0.1,0.2,,,\r\n", "7,0.1,0.2,0.3,0.4,0.5\r\n", header=header
    )
    with pytest.raises(
        UserError,
        match=r"arousal\.csv: line 2 \(song 7\): value '0\.5' in column 6, "
        r"which has no sample_<ms>ms name",
    ):
        read_deam_dynamic(valence, arousal)
    arousal.write_bytes((header + "7,0.1,0.2,,,\r\n").encode())
    assert list(read_deam_dynamic(valence, arousal).song("7").times_s) == [15.0, 15.5]


def test_dynamic_repeats_conflicting_is_an_error_identical_is_a_note(tmp_path):
    valence, arousal = _dynamic(
        tmp_path, "7,0.1,0.2,,\r\n8,0,,,\r\n7,0.1,0.25,,\r\n", "7,0.1,0.2,,\r\n8,0,,,\r\n"
    )
    with pytest.raises(
        UserError,
        match=r"valence\.csv: song 7 is on lines 2 and 4 with different "
        r"values \(sample_15500ms 0\.2 vs 0\.25\)",
    ):
        read_deam_dynamic(valence, arousal)
    valence.write_bytes((DYNAMIC_HEADER + "7,0.1,0.2,,\r\n8,0,,,\r\n7,0.10,0.2,,\r\n").encode())
    dynamic = read_deam_dynamic(valence, arousal)
    assert [song.song_id for song in dynamic.songs] == ["7", "8"]
    assert dynamic.duplicates == (
        (str(valence), "song 7 is on lines 2 and 4 with the same values; kept once"),
    )


def test_dynamic_files_not_found_or_ambiguous(tmp_path):
    with pytest.raises(UserError, match="no DEAM dynamic annotations"):
        find_deam_dynamic(tmp_path)
    _dynamic(tmp_path, "7,0.1\r\n", "7,0.1\r\n")
    copy = tmp_path / "copy"
    shutil.copytree(tmp_path / "annotations", copy)
    with pytest.raises(UserError, match="several DEAM dynamic annotation folders"):
        find_deam_dynamic(tmp_path)

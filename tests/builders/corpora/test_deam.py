from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from builders.corpora.deam import (
    ANNOTATION_FILES,
    find_deam_dynamic,
    read_deam,
    read_deam_annotations,
    read_deam_dynamic,
    read_deam_metadata,
    read_deam_metadata_report,
    read_deam_static,
)
from builders.corpora.listing import LISTING_DTYPES
from builders.errors import UserError

HEADER = "song_id, valence_mean, valence_std, arousal_mean, arousal_std\r\n"


def _annotation_file(folder: Path) -> Path:
    return next(folder.rglob(ANNOTATION_FILES[0]))


def _csv_values(path: Path) -> dict[str, tuple[float, float]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    header = [name.strip() for name in rows[0]]
    v, a = header.index("valence_mean"), header.index("arousal_mean")
    return {row[0]: (float(row[v]), float(row[a])) for row in rows[1:]}


def test_demo_deam_lists_annotated_audio(demo_sources):
    root = demo_sources / "DEAM"
    listing = read_deam(root)
    files = listing.files
    assert listing.corpus == "deam" and len(files) == 8
    assert dict(files.dtypes) == LISTING_DTYPES
    assert list(files.source_id) == sorted(files.source_id)
    expected = {}
    for path in root.rglob("static_annotations_*.csv"):
        expected.update(_csv_values(path))
    for row in files.itertuples():
        song_id = row.source_id.removeprefix("deam-")
        assert row.path == f"MEMD_audio/{song_id}.mp3"
        assert (row.valence, row.arousal) == expected[song_id]
    assert files.actor.isna().all() and files.emotion.isna().all()
    # the demo has songs from both annotation files and rows without audio
    assert any(int(s.removeprefix("deam-")) > 2000 for s in files.source_id)
    assert len(listing.skipped) == 1
    where, reason = listing.skipped[0]
    assert where == "annotations" and reason.startswith("3 annotated songs have no audio file")


def test_audio_without_annotation_and_odd_names_are_skipped(demo_sources, tmp_path):
    root = tmp_path / "DEAM"
    shutil.copytree(demo_sources / "DEAM", root)
    (root / "MEMD_audio" / "1999999.mp3").write_bytes(b"x")
    (root / "MEMD_audio" / "cover.mp3").write_bytes(b"x")
    existing = sorted((root / "MEMD_audio").glob("*.mp3"))[0]
    shutil.copy(existing, root / "MEMD_audio" / f"{existing.stem}.wav")
    skipped = dict(read_deam(root).skipped)
    assert skipped["MEMD_audio/1999999.mp3"] == "no static annotation for song 1999999"
    assert "not a DEAM song file name" in skipped["MEMD_audio/cover.mp3"]
    assert skipped[f"MEMD_audio/{existing.stem}.wav"] == f"duplicate of MEMD_audio/{existing.name}"


def test_metadata_file_gives_artist_and_title(demo_sources, tmp_path):
    root = tmp_path / "DEAM"
    shutil.copytree(demo_sources / "DEAM", root)
    song = read_deam(root).files.source_id.iloc[0].removeprefix("deam-")
    (root / "metadata").mkdir()
    (root / "metadata" / "metadata_2015.csv").write_bytes(
        f"id,Filename,title,artist,album,genre,\r\n{song},X_Y,Night Owl,A Classic Education,n/a,Pop,extra,\r\n".encode()
    )
    files = read_deam(root).files.set_index("source_id")
    assert files.loc[f"deam-{song}", "artist"] == "A Classic Education"
    assert files.loc[f"deam-{song}", "title"] == "Night Owl"
    assert files.drop(f"deam-{song}").artist.isna().all()


def test_annotation_file_missing_a_column_names_file_and_column(tmp_path):
    path = tmp_path / ANNOTATION_FILES[0]
    path.write_bytes(b"song_id, valence_mean, valence_std\r\n2,3.1,0.94\r\n")
    with pytest.raises(
        UserError, match=r"static_annotations_averaged_songs_1_2000\.csv.*'arousal_mean'"
    ):
        read_deam_annotations([path])


def test_annotation_value_outside_the_scale_is_a_user_error(tmp_path):
    path = tmp_path / ANNOTATION_FILES[0]
    path.write_bytes((HEADER + "2,3.1,0.94,12,0.63\r\n").encode())
    with pytest.raises(UserError, match="arousal_mean' of song_id 2"):
        read_deam_annotations([path])


def test_first_file_wins_for_a_song_in_two_files(tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_bytes((HEADER + "7,2.0,1,3.0,1\r\n").encode())
    second.write_bytes((HEADER + "7,8.0,1,8.0,1\r\n5,4.0,1,4.0,1\r\n").encode())
    table = read_deam_annotations([first, second])
    assert list(table.song_id) == ["5", "7"]
    assert table.set_index("song_id").loc["7", "valence"] == 2.0
    assert read_deam_static([first, second]).duplicates == (
        (str(second), "song 7 is also in a.csv with other values; kept a.csv's"),
    )


def test_missing_root_empty_root_and_no_audio_are_user_errors(demo_sources, tmp_path):
    with pytest.raises(UserError, match="DEAM root does not exist"):
        read_deam(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no DEAM static annotation file"):
        read_deam(tmp_path / "empty")
    (tmp_path / "only-csv").mkdir()
    shutil.copy(_annotation_file(demo_sources / "DEAM"), tmp_path / "only-csv")
    with pytest.raises(UserError, match=r"no DEAM audio \(<song_id>\.mp3"):
        read_deam(tmp_path / "only-csv")


def test_reference_annotations_both_files(reference_data):
    paths = sorted((reference_data / "deam").glob("static_annotations_averaged_songs_*.csv"))
    assert len(paths) == 2
    table = read_deam_annotations(paths)
    assert len(table) == 1802 and table.song_id.is_unique
    assert read_deam_static(paths).duplicates == ()  # no song repeated, within or across files
    values = table.set_index("song_id")
    assert tuple(values.loc["2"]) == (3.1, 3.0)
    assert tuple(values.loc["2000"]) == (5.8, 6.0)
    assert tuple(values.loc["2001"]) == (3.2, 6.6)
    assert tuple(values.loc["2058"]) == (3.8, 5.8)
    assert table.valence.between(1, 9).all() and table.arousal.between(1, 9).all()
    assert list(table.song_id.astype(int)) == sorted(table.song_id.astype(int))


def test_reference_metadata_2015(reference_data):
    metadata = read_deam_metadata([reference_data / "deam" / "metadata_2015.csv"])
    assert len(metadata) == 58
    assert metadata["2001"] == ("Creepoid", "Old Tree")
    assert metadata["2022"][1].startswith("Mignon (Kennst du das Land)")


# --- static annotations: repeats inside one file (issue 15, defect 9) ------------------


def test_conflicting_repeat_in_one_static_file_names_both_lines(tmp_path):
    path = tmp_path / ANNOTATION_FILES[0]
    path.write_bytes((HEADER + "7,2.0,1,3.0,1\r\n5,4.0,1,4.0,1\r\n7,2.5,1,3.0,1\r\n").encode())
    with pytest.raises(
        UserError, match=r"_1_2000\.csv: song 7 is on lines 2 and 4 with different values"
    ):
        read_deam_annotations([path])


def test_identical_repeat_in_one_static_file_is_kept_once_and_noted(tmp_path):
    path = tmp_path / ANNOTATION_FILES[0]
    path.write_bytes((HEADER + "7,2.0,1,3.0,1\r\n5,4.0,1,4.0,1\r\n7,2.00,0.5,3,1\r\n").encode())
    static = read_deam_static([path])
    assert list(static.table.song_id) == ["5", "7"]
    assert static.duplicates == (
        (str(path), "song 7 is on lines 2 and 4 with the same values; kept once"),
    )


def _deam_root(tmp_path: Path, static_rows: str, metadata: bytes | None = None) -> Path:
    """A minimal DEAM root of our own: one static file, audio stand-ins, optional metadata."""
    root = tmp_path / "DEAM"
    (root / "MEMD_audio").mkdir(parents=True)
    (root / ANNOTATION_FILES[0]).write_bytes((HEADER + static_rows).encode())
    for song in ("2", "5"):
        (root / "MEMD_audio" / f"{song}.mp3").write_bytes(b"not decoded by the reader")
    if metadata is not None:
        (root / "metadata").mkdir()
        (root / "metadata" / "metadata_2015.csv").write_bytes(metadata)
    return root


def test_listing_reports_repeats_and_unreadable_metadata_rows(tmp_path):
    metadata = (
        b"id,Filename,title,artist,album,genre,\r\n"
        b"2,A_B,Night Owl,A Classic Education,n/a,Pop,\r\nx5,F,T,A,n/a,Pop,\r\n"
    )
    root = _deam_root(tmp_path, "2,3.1,1,3.0,1\r\n5,4,1,4,1\r\n2,3.1,1,3.0,1\r\n", metadata)
    listing = read_deam(root)
    assert list(listing.files.source_id) == ["deam-2", "deam-5"]
    assert listing.files.set_index("source_id").loc["deam-2", "title"] == "Night Owl"
    assert dict(listing.skipped) == {
        ANNOTATION_FILES[0]: "song 2 is on lines 2 and 4 with the same values; kept once",
        "metadata/metadata_2015.csv:3": "song id 'x5' is not a number",
    }


# --- dynamic annotations ------------------------------------------------------------------

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


# --- metadata -------------------------------------------------------------------------------


def test_reference_metadata_2015_row_2031_is_recovered_and_reported(reference_data):
    path = reference_data / "deam" / "metadata_2015.csv"
    report = read_deam_metadata_report([path])
    assert len(report.entries) == 58 and report.unreadable == ()
    assert report.entries["2031"] == ("No, Really", "Go")
    assert report.entries["2030"] == ("In Faded Glory", "990")  # genre tags follow the album
    assert report.entries["2058"] == ("La Verue", "Inside Views")
    assert [where for where, _ in report.recovered] == [f"{path}:32"]
    assert "song 2031" in report.recovered[0][1]
    assert list(report.entries) == sorted(report.entries, key=int)


def test_metadata_layouts_of_2013_and_2014(tmp_path):
    y2013 = tmp_path / "metadata_2013.csv"
    y2013.write_bytes(
        b"song_id\tfile_name\tArtist\tSong title\tstart of the segment (min.sec)\t"
        b"end of the segment (min.sec)\tGenre\r\n"
        b"2\t2.mp3\tThe  Artist\tSome Song \t0.50\t1.35\tBlues\r\n"
    )
    y2014 = tmp_path / "metadata_2014.csv"
    y2014.write_bytes(
        b"Id,Artist,Album,Track,Genre,start,end,last.fm labels\r\n"
        b"1001,Someone,An Album,A Track,Rock,0.1,0.46,calm,rain,sad\r\n"
    )
    metadata = read_deam_metadata([y2014, y2013])
    assert metadata == {"2": ("The Artist", "Some Song"), "1001": ("Someone", "A Track")}


def test_metadata_rows_that_cannot_be_read_are_reported(tmp_path):
    path = tmp_path / "metadata_2015.csv"
    path.write_bytes(
        b"id,Filename,title,artist,album,genre,\r\n"
        b"2001,X_Y,Night Owl,A Classic Education,n/a,Pop,\r\n"
        b"2002,only-two\r\n"
        b"2001,X_Y,Other,Other,n/a,Pop,\r\n"
        b"2003,Z,Hello, World,Band,n/a,folk,\r\n"
    )
    report = read_deam_metadata_report([path])
    assert report.entries == {
        "2001": ("A Classic Education", "Night Owl"),
        "2003": ("Band", "Hello, World"),
    }
    assert report.unreadable == (
        (f"{path}:3", "only 2 fields, no artist or title"),
        (f"{path}:4", "song 2001 again (kept its first line)"),
    )
    unknown = tmp_path / "metadata_other.csv"
    unknown.write_bytes(b"a,b,c\r\n1,2,3\r\n")
    assert (
        read_deam_metadata_report([unknown]).unreadable[0][1].startswith("no id, artist and title")
    )

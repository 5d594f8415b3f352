from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from builders.corpora.deam import read_deam
from builders.corpora.deam_static import ANNOTATION_FILES, read_deam_annotations, read_deam_static
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

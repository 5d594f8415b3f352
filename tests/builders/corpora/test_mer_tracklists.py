from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from builders.corpora.mer_tracklists import (
    DEAM_TRACKLIST,
    EMOPIA_TRACKLIST,
    SOUNDTRACKS_TRACKLIST,
    SPLIT_FILE,
    TRACKLIST_DTYPES,
    compare_with_splits,
    find_thesis_files,
    quadrant,
    read_deam_tracklist,
    read_emopia_tracklist,
    read_soundtracks_tracklist,
    read_thesis_splits,
    read_thesis_tracklists,
)
from builders.errors import UserError

DEAM_HEADER = (
    "songId,clipId,songNumberOfClips,artist,title,secondsSlice,duration,"
    "arousalAvg,arousalStd,valenceAvg,valenceStd\n"
)
DEAM_ROWS = (
    "4,4_1,2,Kevin MacLeod,Slow Burn,15.0-25.0,10.0,0.1766,0.012,0.1188,0.036\n"
    "4,4_2,2,Kevin MacLeod,Slow Burn,30.0-45.0,15.0,0.2931,0.0157,0.1939,0.02\n"
    "10,10_1,1,Someone,,15.0-30.0,15.0,0.0,0.01,-0.2,0.02\n"
)
ST_HEADER = "Set,Nro,Filename,FoundByAPI,Title,Artist,SpotifyId,Valence,Arousal\r\n"
ST_ROWS = (
    "1,53,1_053,1,The Stranger,James Horner,42cxGI452dmBWVdjdefkUC,-0.15,-0.7\r\n"
    "2,73,2_073,1,Scales to America,David Hirschfelder,,0.4775,0.0\r\n"
)
EMOPIA_HEADER = "ytId,Q,clipname,ytTitle\n"
EMOPIA_ROWS = (
    'ii1Jw1-7Ka4,4,Q4_ii1Jw1-7Ka4_0.mp3,"ytId\nii1Jw1-7Ka4    A title, with a comma\n'
    'Name: vidTitle, dtype: object"\n'
    "2w5XkAt_3WU,4,Q4_2w5XkAt_3WU_0.mp3,Eden\n"
)


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text.encode())
    return path


def _tracklists(folder: Path) -> Path:
    _write(folder, DEAM_TRACKLIST, DEAM_HEADER + DEAM_ROWS)
    _write(folder, SOUNDTRACKS_TRACKLIST, ST_HEADER + ST_ROWS)
    _write(folder, EMOPIA_TRACKLIST, EMOPIA_HEADER + EMOPIA_ROWS)
    return folder


@pytest.mark.parametrize(
    ("valence", "arousal", "expected"),
    [
        (0.1, 0.1, "Q1"),
        (0.0, 0.1, "Q2"),
        (-0.1, 0.1, "Q2"),
        (-0.1, -0.1, "Q3"),
        (0.0, 0.0, "Q3"),
        (0.1, 0.0, "Q4"),
        (0.1, -0.5, "Q4"),
        (-0.3, 0.0, "Q3"),
    ],
)
def test_quadrant_rule_zero_counts_as_low(valence, arousal, expected):
    assert quadrant(valence, arousal) == expected


def test_own_tracklists_read_into_one_typed_frame(tmp_path):
    table = read_thesis_tracklists(_tracklists(tmp_path))
    assert dict(table.dtypes) == TRACKLIST_DTYPES
    assert list(table.clip_id) == sorted(table.clip_id)
    rows = table.set_index("clip_id")
    assert list(rows.index) == [
        "d_10_1",
        "d_4_1",
        "d_4_2",
        "e_Q4_2w5XkAt_3WU_0.mp3",
        "e_Q4_ii1Jw1-7Ka4_0.mp3",
        "s_1_053",
        "s_2_073",
    ]
    clip = rows.loc["d_4_1"]
    assert (clip.start_s, clip.end_s, clip.valence, clip.arousal) == (15.0, 25.0, 0.1188, 0.1766)
    assert (clip.source_id, clip.song_id, clip.quadrant, clip.line) == ("deam-4", "4", "Q1", 2)
    assert rows.loc["d_10_1"].quadrant == "Q3" and pd.isna(rows.loc["d_10_1"].title)
    excerpt = rows.loc["s_2_073"]
    assert (excerpt.source_id, excerpt.song_id, excerpt.quadrant) == (
        "soundtracks-set2-073",
        "set2-073",
        "Q4",
    )
    assert math.isnan(excerpt.start_s) and pd.isna(excerpt.spotify_id)
    assert rows.loc["s_1_053"].spotify_id == "42cxGI452dmBWVdjdefkUC"
    piano = rows.loc["e_Q4_ii1Jw1-7Ka4_0.mp3"]
    assert (piano.source_id, piano.song_id, piano.quadrant) == (
        "emopia-Q4_ii1Jw1-7Ka4_0",
        "ii1Jw1-7Ka4",
        "Q4",
    )
    assert piano.title.startswith("ytId\nii1Jw1-7Ka4    A title, with a comma")
    assert math.isnan(piano.valence) and pd.isna(piano.artist)
    assert rows.loc["e_Q4_2w5XkAt_3WU_0.mp3"].line == 5  # after the three-line title


def test_tracklists_found_below_the_folder_and_a_subset_read(tmp_path):
    _tracklists(tmp_path / "thesis" / "tracklists")
    (tmp_path / "thesis" / "tracklists" / SOUNDTRACKS_TRACKLIST).unlink()
    _write(tmp_path / "thesis", SPLIT_FILE, "{}")
    found = find_thesis_files(tmp_path)
    assert found == {
        "deam": tmp_path / "thesis" / "tracklists" / DEAM_TRACKLIST,
        "emopia": tmp_path / "thesis" / "tracklists" / EMOPIA_TRACKLIST,
        "splits": tmp_path / "thesis" / SPLIT_FILE,
    }
    with pytest.raises(UserError, match=f"no {SOUNDTRACKS_TRACKLIST} .*soundtracks tracklist"):
        read_thesis_tracklists(tmp_path)
    table = read_thesis_tracklists(tmp_path, corpora=["deam"])
    assert set(table.corpus) == {"deam"} and len(table) == 3
    _write(tmp_path / "copy", DEAM_TRACKLIST, DEAM_HEADER)
    with pytest.raises(UserError, match=f"{DEAM_TRACKLIST} is below .* more than once"):
        find_thesis_files(tmp_path)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "4,4_1,2,K,S,15.0_25.0,10.0,0.1,0,0.1,0\n",
            r"column secondsSlice is '15.0_25.0', expected start-end",
        ),
        ("4,4_1,2,K,S,25.0-15.0,10.0,0.1,0,0.1,0\n", r"column secondsSlice is '25.0-15.0'"),
        (
            "4,4_1,2,K,S,15.0-25.0,15.0,0.1,0,0.1,0\n",
            r"column duration is '15.0' but secondsSlice '15.0-25.0' lasts 10 s",
        ),
        ("4,4_1,2,K,S,15.0-25.0,10.0,0.1,0,,0\n", r"column valenceAvg is empty"),
        ("4,4_1,2,K,S,15.0-25.0,10.0,abc,0,0.1,0\n", r"column arousalAvg is 'abc', not a number"),
        (
            "4,4_1,2,K,S,15.0-25.0,10.0,0.1,0,1.2,0\n",
            r"column valenceAvg is 1.2, outside \[-1, 1\]",
        ),
        (
            "4,5_1,2,K,S,15.0-25.0,10.0,0.1,0,0.1,0\n",
            r"clipId '5_1' is not <songId>_<n> for songId '4'",
        ),
        ("4,4_1,2,K,S,15.0-25.0,10.0,0.1,0,0.1\n", r"10 fields, but the header has 11"),
    ],
)
def test_garbled_deam_rows_name_file_line_and_column(tmp_path, row, message):
    path = _write(tmp_path, DEAM_TRACKLIST, DEAM_HEADER + DEAM_ROWS + row)
    with pytest.raises(UserError, match=r"deam-final-tracklist\.csv: line 5: " + message):
        read_deam_tracklist(path)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("1,54,1-054,1,T,A,,0.1,0.1\r\n", r"column Filename is '1-054', expected <set>_<NNN>"),
        ("2,54,1_054,1,T,A,,0.1,0.1\r\n", r"column Set is '2' but Filename is '1_054'"),
        ("1,55,1_054,1,T,A,,0.1,0.1\r\n", r"column Nro is '55' but Filename is '1_054'"),
        ("1,54,1_054,1,T,A,,0.1,-1.5\r\n", r"column Arousal is -1.5, outside"),
        ("1,53,1_053,1,T,A,,0.1,0.1\r\n", None),
    ],
)
def test_garbled_soundtracks_rows_name_file_line_and_column(tmp_path, row, message):
    path = _write(tmp_path, SOUNDTRACKS_TRACKLIST, ST_HEADER + ST_ROWS + row)
    if message is None:
        with pytest.raises(
            UserError,
            match=r"soundtracks-final-tracklist\.csv: clip s_1_053 is listed twice \(lines 2, 4\)",
        ):
            read_soundtracks_tracklist(path)
        return
    with pytest.raises(UserError, match=r"soundtracks-final-tracklist\.csv: line 4: " + message):
        read_soundtracks_tracklist(path)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            "D8Ed5PZXfF4,4,Q3_D8Ed5PZXfF4_0.mp3,T\n",
            r"column Q is 4 but clipname 'Q3_D8Ed5PZXfF4_0.mp3' says Q3",
        ),
        ("D8Ed5PZXfF4,5,Q3_D8Ed5PZXfF4_0.mp3,T\n", r"column Q is '5', expected 1, 2, 3 or 4"),
        ("D8Ed5PZXfF5,3,Q3_D8Ed5PZXfF4_0.mp3,T\n", r"column ytId is 'D8Ed5PZXfF5' but clipname"),
        ("D8Ed5PZXfF4,3,Q3_D8Ed5PZXfF4_0,T\n", r"column clipname is 'Q3_D8Ed5PZXfF4_0', expected"),
        ("D8Ed5PZXfF4,3,,T\n", r"column clipname is empty"),
    ],
)
def test_garbled_emopia_rows_name_file_line_and_column(tmp_path, row, message):
    path = _write(tmp_path, EMOPIA_TRACKLIST, EMOPIA_HEADER + EMOPIA_ROWS + row)
    with pytest.raises(UserError, match=r"emopia-final-tracklist\.csv: line 6: " + message):
        read_emopia_tracklist(path)


def test_tracklist_missing_a_column_is_named(tmp_path):
    path = _write(
        tmp_path, DEAM_TRACKLIST, DEAM_HEADER.replace("secondsSlice", "slice") + DEAM_ROWS
    )
    with pytest.raises(
        UserError, match=r"deam-final-tracklist\.csv: missing column 'secondsSlice'"
    ):
        read_deam_tracklist(path)


def test_split_file_read_and_checked(tmp_path):
    path = _write(
        tmp_path, SPLIT_FILE, json.dumps({"train": ["s_1_053", "d_4_1"], "test": ["d_4_2"]})
    )
    splits = read_thesis_splits(path)
    assert list(splits.itertuples(index=False, name=None)) == [
        ("d_4_1", "train"),
        ("d_4_2", "test"),
        ("s_1_053", "train"),
    ]
    assert compare_with_splits(["d_4_1", "d_4_2", "e_x"], splits.clip_id) == (
        ("e_x",),
        ("s_1_053",),
    )
    path.write_text(json.dumps({"train": ["d_4_1"], "test": ["d_4_1"]}))
    with pytest.raises(UserError, match="clip d_4_1 is in 'train' and 'test'"):
        read_thesis_splits(path)
    path.write_text('{"train": ["d_4_1"]')
    with pytest.raises(UserError, match="cannot read the split file"):
        read_thesis_splits(path)
    path.write_text('{"train": "d_4_1"}')
    with pytest.raises(UserError, match="partition 'train' is not a list of clip ids"):
        read_thesis_splits(path)


def test_reference_tracklists_reproduce_table_4_3(reference_data):
    folder = reference_data / "instrumental-mer-thesis"
    table = read_thesis_tracklists(folder)
    assert len(table) == 1610 and table.clip_id.is_unique
    assert table.corpus.value_counts().to_dict() == {"deam": 377, "soundtracks": 365, "emopia": 868}
    assert table.quadrant.value_counts().to_dict() == {"Q1": 437, "Q2": 384, "Q3": 385, "Q4": 404}
    clip = table.set_index("clip_id").loc["d_4_1"]
    assert (clip.start_s, clip.end_s, clip.valence, clip.arousal, clip.quadrant) == (
        15.0,
        25.0,
        0.1188,
        0.1766,
        "Q1",
    )
    labelled = table[table.corpus != "emopia"]
    assert labelled.valence.between(-1, 1).all() and labelled.arousal.between(-1, 1).all()
    deam = table[table.corpus == "deam"]
    assert (deam.start_s >= 15.0).all() and set(deam.end_s - deam.start_s) == {10.0, 15.0}
    assert table[table.corpus == "emopia"].valence.isna().all()
    splits = read_thesis_splits(folder / SPLIT_FILE)
    assert splits.partition.value_counts().to_dict() == {
        "train": 1045,
        "test": 325,
        "validation": 240,
    }
    assert compare_with_splits(table.clip_id, splits.clip_id) == ((), ())

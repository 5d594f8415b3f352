from __future__ import annotations

import csv
from pathlib import Path

import pytest

from builders.corpora.emopia import (
    AUDIO_DTYPES,
    LABEL_DTYPES,
    MATCH_DTYPES,
    EmopiaClip,
    find_emopia_audio,
    find_emopia_labels,
    match_clips,
    parse_clip_name,
    read_emopia_labels,
)
from builders.errors import UserError

LABEL_HEADER = "ID,4Q,annotator\n"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Q1_0vLPYiPN7qY_0.mp3", EmopiaClip("Q1_0vLPYiPN7qY_0", "Q1", "0vLPYiPN7qY", 0)),
        ("Q4_ii1Jw1-7Ka4_12", EmopiaClip("Q4_ii1Jw1-7Ka4_12", "Q4", "ii1Jw1-7Ka4", 12)),
        ("Q4_2w5XkAt_3WU_0.FLAC", EmopiaClip("Q4_2w5XkAt_3WU_0", "Q4", "2w5XkAt_3WU", 0)),
        ("Q2_" + "_" * 11 + "_1.wav", EmopiaClip("Q2_" + "_" * 11 + "_1", "Q2", "_" * 11, 1)),
    ],
)
def test_clip_names_are_parsed_by_position(name, expected):
    assert parse_clip_name(name) == expected


@pytest.mark.parametrize(
    "name",
    [
        "Q5_0vLPYiPN7qY_0.mp3",
        "Q1_0vLPYiPN7q_0.mp3",
        "Q1_0vLPYiPN7qY.mp3",
        "Q1_0vLPYiPN7qY_x",
        "Q1_0vLPYi.N7qY_0",
        "cover.mp3",
    ],
)
def test_malformed_clip_names_say_what_is_expected(name):
    with pytest.raises(ValueError, match="is not an EMOPIA clip name .*Q<1-4>_<11-character"):
        parse_clip_name(name)


def test_labels_are_typed_and_sorted(tmp_path):
    path = tmp_path / "label.csv"
    path.write_text(
        LABEL_HEADER + "Q3_ii1Jw1-7Ka4_0,3,C\nQ1_0vLPYiPN7qY_10,1,\nQ1_0vLPYiPN7qY_2,1,D\n"
    )
    labels = read_emopia_labels(path)
    assert dict(labels.dtypes) == LABEL_DTYPES
    assert list(labels.clip_name) == ["Q1_0vLPYiPN7qY_10", "Q1_0vLPYiPN7qY_2", "Q3_ii1Jw1-7Ka4_0"]
    assert list(labels.segment) == [10, 2, 0]
    assert labels.annotator.isna().tolist() == [True, False, False]
    assert list(labels.youtube_id) == ["0vLPYiPN7qY", "0vLPYiPN7qY", "ii1Jw1-7Ka4"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("Q1_0vLPYiPN7qY_0,2,D\n", r"line 2: 4Q is 2 but the ID Q1_0vLPYiPN7qY_0 says Q1"),
        ("Q1_0vLPYiPN7qY_0,5,D\n", r"line 2: column 4Q is '5', expected 1, 2, 3 or 4"),
        ("Q1_0vLPYiPN7qY,1,D\n", r"line 2: column ID: 'Q1_0vLPYiPN7qY' is not an EMOPIA clip name"),
        (
            "Q1_0vLPYiPN7qY_0,1,D\nQ1_0vLPYiPN7qY_0,1,D\n",
            r"line 3: clip Q1_0vLPYiPN7qY_0 is already on line 2",
        ),
    ],
)
def test_bad_label_rows_are_user_errors_naming_the_line(tmp_path, rows, message):
    path = tmp_path / "label.csv"
    path.write_text(LABEL_HEADER + rows)
    with pytest.raises(UserError, match=r"label\.csv: " + message):
        read_emopia_labels(path)


def test_label_file_without_4q_column_is_a_user_error(tmp_path):
    path = tmp_path / "label.csv"
    path.write_text("ID,annotator\nQ1_0vLPYiPN7qY_0,D\n")
    with pytest.raises(UserError, match=r"label\.csv: missing column '4Q'"):
        read_emopia_labels(path)


def _touch(root: Path, *names: str) -> None:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"not decoded by the reader")


def test_audio_found_by_stem_with_any_suffix_at_any_depth(tmp_path):
    root = tmp_path / "EMOPIA"
    _touch(
        root,
        "audios/seg/Q1_0vLPYiPN7qY_0.mp3",
        "converted/deep/Q4_ii1Jw1-7Ka4_1.FLAC",
        "Q2_2w5XkAt_3WU_3.wav",
        "audios/seg/.Q1_hidden00000_0.mp3",
        ".cache/Q3_D8Ed5PZXfF4_0.mp3",
        "audios/seg/notes.txt",
        "audios/seg/cover.mp3",
        "wav/Q1_0vLPYiPN7qY_0.wav",
    )
    audio = find_emopia_audio(root)
    assert dict(audio.files.dtypes) == AUDIO_DTYPES
    assert list(audio.files.itertuples(index=False, name=None)) == [
        ("Q1_0vLPYiPN7qY_0", "audios/seg/Q1_0vLPYiPN7qY_0.mp3", "Q1", "0vLPYiPN7qY", 0),
        ("Q2_2w5XkAt_3WU_3", "Q2_2w5XkAt_3WU_3.wav", "Q2", "2w5XkAt_3WU", 3),
        ("Q4_ii1Jw1-7Ka4_1", "converted/deep/Q4_ii1Jw1-7Ka4_1.FLAC", "Q4", "ii1Jw1-7Ka4", 1),
    ]
    skipped = dict(audio.skipped)
    assert set(skipped) == {"audios/seg/cover.mp3", "wav/Q1_0vLPYiPN7qY_0.wav"}
    assert skipped["wav/Q1_0vLPYiPN7qY_0.wav"] == "same clip as audios/seg/Q1_0vLPYiPN7qY_0.mp3"


def test_no_clip_audio_and_label_file_lookup_are_user_errors(tmp_path):
    _touch(tmp_path, "a.mp3")
    with pytest.raises(UserError, match="no EMOPIA clip audio"):
        find_emopia_audio(tmp_path)
    with pytest.raises(UserError, match="expected one EMOPIA label.csv below .*, found none"):
        find_emopia_labels(tmp_path)
    _touch(tmp_path, "EMOPIA_1.0/label.csv")
    assert find_emopia_labels(tmp_path) == tmp_path / "EMOPIA_1.0" / "label.csv"
    _touch(tmp_path, "EMOPIA_2.2/label.csv")
    with pytest.raises(UserError, match="found EMOPIA_1.0/label.csv, EMOPIA_2.2/label.csv"):
        find_emopia_labels(tmp_path)


def test_matching_exact_first_then_unambiguous_video_and_segment():
    available = [
        "Q1_9v2WSpn4FCw_1",
        "Q2_9v2WSpn4FCw_1",
        "Q3_ii1Jw1-7Ka4_0",
        "Q1_0vLPYiPN7qY_0",
        "odd-name",
    ]
    wanted = [
        "Q1_9v2WSpn4FCw_1.mp3",
        "Q4_9v2WSpn4FCw_1.mp3",
        "Q4_ii1Jw1-7Ka4_0.mp3",
        "Q1_0vLPYiPN7qY_0.mp3",
        "Q1_0vLPYiPN7qY_7.mp3",
        "broken.mp3",
        "odd-name",
    ]
    matches = match_clips(wanted, available)
    assert dict(matches.dtypes) == MATCH_DTYPES
    rows = {row.wanted: row for row in matches.itertuples()}
    assert list(matches.wanted) == sorted(wanted)
    assert (rows["Q1_9v2WSpn4FCw_1.mp3"].matched, rows["Q1_9v2WSpn4FCw_1.mp3"].method) == (
        "Q1_9v2WSpn4FCw_1",
        "exact",
    )
    assert pd_na(rows["Q1_9v2WSpn4FCw_1.mp3"].note)
    assert pd_na(rows["Q4_9v2WSpn4FCw_1.mp3"].matched)
    assert rows["Q4_9v2WSpn4FCw_1.mp3"].note.startswith(
        "ambiguous: Q1_9v2WSpn4FCw_1, Q2_9v2WSpn4FCw_1"
    )
    relabelled = rows["Q4_ii1Jw1-7Ka4_0.mp3"]
    assert (relabelled.matched, relabelled.method) == ("Q3_ii1Jw1-7Ka4_0", "video+segment")
    assert relabelled.note == "relabelled: wanted as Q4, found as Q3 (Q3_ii1Jw1-7Ka4_0)"
    assert rows["Q1_0vLPYiPN7qY_7.mp3"].note == "no clip of video 0vLPYiPN7qY segment 7"
    assert "is not an EMOPIA clip name" in rows["broken.mp3"].note
    assert rows["odd-name"].method == "exact"


def pd_na(value: object) -> bool:
    return value is None or str(value) == "<NA>"


def test_reference_labels_and_the_19_relabelled_thesis_clips(reference_data):
    labels = read_emopia_labels(reference_data / "emopia" / "label.csv")
    assert len(labels) == 1078 and labels.clip_name.is_unique
    assert labels.youtube_id.nunique() == 387
    assert labels.quadrant.value_counts().sum() == 1078
    tracklist = reference_data / "instrumental-mer-thesis" / "emopia-final-tracklist.csv"
    with tracklist.open(newline="", encoding="utf-8") as handle:
        wanted = [row["clipname"] for row in csv.DictReader(handle)]
    matches = match_clips(wanted, labels.clip_name)
    assert len(matches) == 868 and matches.matched.notna().all()
    assert (matches.method == "exact").sum() == 849
    relabelled = matches[matches.method == "video+segment"]
    assert len(relabelled) == 19
    assert (
        relabelled.wanted.str.startswith("Q4_").all()
        and relabelled.matched.str.startswith("Q3_").all()
    )
    assert relabelled.note.str.startswith("relabelled: wanted as Q4, found as Q3").all()

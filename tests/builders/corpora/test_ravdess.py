from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from builders.corpora.listing import LISTING_DTYPES
from builders.corpora.ravdess import parse_ravdess_name, read_ravdess
from builders.errors import UserError


def _touch(root: Path, relative: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"RIFF")


def test_demo_ravdess_lists_every_clip_with_labels(demo_sources):
    listing = read_ravdess(demo_sources / "RAVDESS")
    files = listing.files
    assert listing.corpus == "ravdess" and listing.skipped == ()
    assert listing.root == (demo_sources / "RAVDESS").absolute()
    assert len(files) == 48
    assert dict(files.dtypes) == LISTING_DTYPES
    assert list(files.source_id) == sorted(files.source_id)
    assert files.actor.nunique() == 24
    assert set(files.emotion) == set(range(1, 9))
    for row in files.itertuples():
        assert (demo_sources / "RAVDESS" / row.path).is_file()
        assert row.source_id == "ravdess-" + Path(row.path).stem
        assert row.gender == ("male" if int(row.actor) % 2 else "female")
        assert row.path.startswith(f"Actor_{row.actor}/")
    assert files.valence.isna().all() and files.artist.isna().all()


def test_listing_does_not_depend_on_the_root_location(demo_sources, tmp_path):
    copy = tmp_path / "elsewhere" / "RAVDESS"
    shutil.copytree(demo_sources / "RAVDESS", copy)
    original, moved = read_ravdess(demo_sources / "RAVDESS"), read_ravdess(copy)
    assert original.files.equals(moved.files)
    assert moved.root == copy


def test_parse_ravdess_name_decodes_every_field():
    labels = parse_ravdess_name("03-01-05-02-01-01-12.wav")
    assert labels["emotion"] == 5 and labels["emotion_name"] == "angry"
    assert (labels["intensity"], labels["statement"], labels["repetition"]) == (2, 1, 1)
    assert labels["actor"] == "12" and labels["gender"] == "female"
    assert parse_ravdess_name("03-01-08-01-02-02-01.wav")["gender"] == "male"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("03-01-09-01-01-01-01.wav", "emotion"),
        ("03-01-01-02-01-01-01.wav", "neutral"),
        ("03-01-05-01-01-01-00.wav", "actor"),
        ("03-01-05-01-01-01-25.wav", "actor"),
        ("03-01-05-01-01-01.wav", "7 two-digit fields"),
        ("03-03-05-01-01-01-01.wav", "vocal channel"),
        ("04-01-05-01-01-01-01.wav", "modality"),
        ("03-01-05-03-01-01-01.wav", "intensity"),
        ("03-01-05-01-03-01-01.wav", "statement"),
        ("03-01-05-01-01-03-01.wav", "repetition"),
    ],
)
def test_invalid_codes_are_rejected_with_the_field_named(name, reason):
    with pytest.raises(ValueError, match=reason):
        parse_ravdess_name(name)


def test_unusable_files_are_listed_as_skipped_with_reasons(tmp_path):
    good = "Actor_01/03-01-05-01-01-01-01.wav"
    names = {
        "Actor_01/03-02-05-01-01-01-01.wav": "song",
        "Actor_01/01-01-05-01-01-01-01.mp4": "full audio-video",
        "Actor_01/02-01-05-01-01-01-01.mp4": "video-only",
        "Actor_01/03-01-09-01-01-01-01.wav": "invalid emotion code 09",
        "Actor_01/03-01-01-02-01-01-01.wav": "neutral",
        "Actor_01/03-01-05-01-01-01-25.wav": "invalid actor code 25",
        "Actor_02/03-01-05-01-01-01-01.wav": "folder is Actor_02",
        "copy/03-01-05-01-01-01-01.wav": f"duplicate of {good}",
        "Actor_01/notes.wav": "not a RAVDESS file name",
    }
    for relative in [good, *names]:
        _touch(tmp_path, relative)
    _touch(tmp_path, "README.txt")
    listing = read_ravdess(tmp_path)
    assert list(listing.files.path) == [good]
    skipped = dict(listing.skipped)
    assert set(skipped) == set(names)
    for relative, reason in names.items():
        assert reason in skipped[relative], relative
    assert list(listing.skipped) == sorted(listing.skipped)


def test_missing_root_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="RAVDESS root does not exist"):
        read_ravdess(tmp_path / "nope")


def test_root_that_is_a_file_is_a_user_error(tmp_path):
    _touch(tmp_path, "file.wav")
    with pytest.raises(UserError, match="not a folder"):
        read_ravdess(tmp_path / "file.wav")


def test_empty_folder_says_what_was_looked_for(tmp_path):
    with pytest.raises(UserError, match=r"no RAVDESS audio-only speech files \(03-01-EE"):
        read_ravdess(tmp_path)


def test_folder_with_only_unusable_files_is_a_user_error(tmp_path):
    _touch(tmp_path, "Actor_01/03-02-05-01-01-01-01.wav")
    with pytest.raises(UserError, match="1 other files skipped"):
        read_ravdess(tmp_path)

"""Audio found by stem (.mp3, .wav, .flac at any depth) for DEAM songs and Soundtracks excerpts."""

from __future__ import annotations

from pathlib import Path

from builders.corpora.deam import find_deam_audio
from builders.corpora.soundtracks import find_soundtracks_audio


def _touch(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")


def test_deam_songs_by_id_with_any_suffix_and_depth(tmp_path: Path) -> None:
    _touch(
        tmp_path,
        "MEMD_audio/4.mp3",
        "MEMD_audio/4.wav",
        "more/0012.flac",
        "MEMD_audio/intro.mp3",
        "MEMD_audio/notes.txt",
        ".hidden/7.mp3",
    )
    found, skipped = find_deam_audio(tmp_path)
    assert found == {"4": "MEMD_audio/4.mp3", "12": "more/0012.flac"}
    assert skipped == (
        ("MEMD_audio/4.wav", "same 4 as MEMD_audio/4.mp3"),
        ("MEMD_audio/intro.mp3", "not a DEAM song file name (<song_id>.mp3, .wav or .flac)"),
    )


def test_soundtracks_excerpts_by_set_and_number(tmp_path: Path) -> None:
    _touch(tmp_path, "Set1/053.mp3", "set 2/7.flac", "Set1/x.wav", "Other/001.mp3")
    found, skipped = find_soundtracks_audio(tmp_path)
    assert found == {"set1-053": "Set1/053.mp3", "set2-007": "set 2/7.flac"}
    assert [item for item, _ in skipped] == ["Other/001.mp3", "Set1/x.wav"]
    assert all("not a Soundtracks excerpt" in reason for _, reason in skipped)

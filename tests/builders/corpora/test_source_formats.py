"""Every reader accepts every source format, from one table, and keeps one file per clip by the
documented rule (the classic formats first, as before; then lossless, then a fixed order)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from builders.common.audio_formats import (
    SOURCE_FORMATS,
    SOURCE_SUFFIXES,
    preference_order,
)
from builders.corpora import emopia, listing
from builders.corpora.deam import find_deam_audio, read_deam
from builders.corpora.emopia import find_emopia_audio
from builders.corpora.ravdess import read_ravdess
from builders.corpora.soundtracks import find_soundtracks_audio, read_soundtracks
from builders.muse_vad import framing

NEW = (".m4a", ".aac", ".ogg", ".opus", ".webm")


def test_the_formats_are_one_table_that_every_reader_uses():
    assert SOURCE_SUFFIXES == (".flac", ".wav", ".mp3", *NEW)
    assert [f.lossless for f in SOURCE_FORMATS] == [True, True] + [False] * 6
    assert listing.AUDIO_SUFFIXES is SOURCE_SUFFIXES
    assert emopia.EMOPIA_SUFFIXES is SOURCE_SUFFIXES
    assert framing.AUDIO_SUFFIXES is SOURCE_SUFFIXES


def test_the_rule_keeps_classic_formats_by_path_then_lossless_then_the_table_order(tmp_path):
    names = ["b/4.webm", "a/4.opus", "z/4.ogg", "4.m4a", "4.aac", "c/4.flac", "4.wav", "4.mp3"]
    paths = [tmp_path / name for name in names]
    order = [p.relative_to(tmp_path).as_posix() for p in preference_order(paths, tmp_path)]
    # .mp3, .wav, .flac by sorted path (as readers always did), then the others by format
    assert order == [
        "4.mp3",
        "4.wav",
        "c/4.flac",
        "4.m4a",
        "4.aac",
        "z/4.ogg",
        "a/4.opus",
        "b/4.webm",
    ]
    # MiSME's DEAM reader read .wav and .mp3 only: a .flac is new to it, but lossless
    misme = preference_order(paths, tmp_path, (".wav", ".mp3"))
    assert [p.name for p in misme][:4] == ["4.mp3", "4.wav", "4.flac", "4.m4a"]


def _deam_with(tmp_path: Path, demo_sources: Path, conversions: dict[str, str]) -> Path:
    """A copy of the demo DEAM whose songs are renamed to other formats (name -> suffix)."""
    root = tmp_path / "DEAM"
    shutil.copytree(demo_sources / "DEAM", root)
    audio = root / "MEMD_audio"
    for stem, suffix in conversions.items():
        shutil.copy(audio / f"{stem}.mp3", audio / f"{stem}{suffix}")
    return root


def test_deam_readers_accept_every_format_and_keep_the_mp3_of_a_converted_song(
    tmp_path, demo_sources
):
    stems = sorted(p.stem for p in (demo_sources / "DEAM" / "MEMD_audio").glob("*.mp3"))
    root = _deam_with(tmp_path, demo_sources, dict(zip(stems, NEW, strict=False)))
    for stem in stems[: len(NEW)]:
        (root / "MEMD_audio" / f"{stem}.mp3").unlink()
    (root / "MEMD_audio" / f"{stems[-1]}.opus").write_bytes(b"x")  # the same song twice
    rows = read_deam(root).files
    by_id = dict(zip(rows["source_id"], rows["path"], strict=True))
    for stem, suffix in zip(stems, NEW, strict=False):
        assert by_id[f"deam-{stem}"] == f"MEMD_audio/{stem}{suffix}"
    assert by_id[f"deam-{stems[-1]}"] == f"MEMD_audio/{stems[-1]}.mp3"
    skipped = dict(read_deam(root).skipped)
    assert skipped[f"MEMD_audio/{stems[-1]}.opus"] == f"duplicate of MEMD_audio/{stems[-1]}.mp3"
    found, skips = find_deam_audio(root)
    assert found[stems[0]] == f"MEMD_audio/{stems[0]}{NEW[0]}"
    assert dict(skips)[f"MEMD_audio/{stems[-1]}.opus"].startswith(f"same {stems[-1]} as ")


def test_deam_keeps_an_m4a_before_an_ogg_and_a_flac_before_both(tmp_path, demo_sources):
    stem = sorted(p.stem for p in (demo_sources / "DEAM" / "MEMD_audio").glob("*.mp3"))[0]
    root = _deam_with(tmp_path, demo_sources, {stem: ".ogg"})
    shutil.copy(root / "MEMD_audio" / f"{stem}.mp3", root / "MEMD_audio" / f"{stem}.m4a")
    (root / "MEMD_audio" / f"{stem}.mp3").unlink()
    assert find_deam_audio(root)[0][stem] == f"MEMD_audio/{stem}.m4a"
    shutil.copy(root / "MEMD_audio" / f"{stem}.m4a", root / "MEMD_audio" / f"{stem}.flac")
    assert find_deam_audio(root)[0][stem] == f"MEMD_audio/{stem}.flac"
    rows = read_deam(root).files
    assert rows.set_index("source_id").loc[f"deam-{stem}", "path"] == f"MEMD_audio/{stem}.flac"


def test_ravdess_takes_in_other_formats_are_read_and_the_wav_is_kept(tmp_path, demo_sources):
    root = tmp_path / "RAVDESS"
    shutil.copytree(demo_sources / "RAVDESS", root)
    takes = sorted(root.rglob("03-01-*.wav"))
    shutil.move(takes[0], takes[0].with_suffix(".opus"))
    shutil.copy(takes[1], takes[1].with_suffix(".m4a"))
    listing_ = read_ravdess(root)
    paths = set(listing_.files["path"])
    assert takes[0].with_suffix(".opus").relative_to(root).as_posix() in paths
    assert takes[1].relative_to(root).as_posix() in paths
    skipped = dict(listing_.skipped)
    converted = takes[1].with_suffix(".m4a").relative_to(root).as_posix()
    assert skipped[converted] == f"duplicate of {takes[1].relative_to(root).as_posix()}"


def test_soundtracks_and_emopia_accept_the_new_formats(tmp_path, demo_sources):
    root = tmp_path / "Soundtracks"
    shutil.copytree(demo_sources / "Soundtracks", root)
    first = sorted((root / "Set1").glob("*.mp3"))[0]
    shutil.move(first, first.with_suffix(".webm"))
    assert f"Set1/{first.stem}.webm" in set(read_soundtracks(root).files["path"])
    assert find_soundtracks_audio(root)[0][f"set1-{first.stem}"] == f"Set1/{first.stem}.webm"
    clips = tmp_path / "EMOPIA"
    clips.mkdir()
    for suffix in NEW:
        (clips / f"Q1_0vLPYiPN7qY_{NEW.index(suffix)}{suffix}").write_bytes(b"x")
    (clips / "Q1_0vLPYiPN7qY_0.mp3").write_bytes(b"x")
    found = find_emopia_audio(clips)
    assert list(found.files["path"]) == [
        "Q1_0vLPYiPN7qY_0.mp3",
        *(f"Q1_0vLPYiPN7qY_{i}{s}" for i, s in enumerate(NEW) if i),
    ]
    assert dict(found.skipped)["Q1_0vLPYiPN7qY_0.m4a"] == "same clip as Q1_0vLPYiPN7qY_0.mp3"


@pytest.mark.parametrize("suffix", NEW)
def test_muse_vad_audio_in_a_new_format_is_found_and_a_classic_one_wins(tmp_path, suffix):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / f"id1{suffix}").write_bytes(b"x")
    (tmp_path / f"id2{suffix}").write_bytes(b"x")
    (tmp_path / "id2.mp3").write_bytes(b"x")
    index = framing.index_audio(tmp_path)
    assert index["id1"] == [f"a/id1{suffix}"]
    assert index["id2"] == ["id2.mp3", f"id2{suffix}"]


def test_muse_vad_keeps_the_classic_file_and_records_the_other_format_in_the_audit(tmp_path):
    from builders.common.audio import read_audio
    from builders.errors import UserError
    from builders.muse_vad.collect import Labelled
    from builders.muse_vad.recipe import load_recipe
    from tests.builders.encoded import encode, tone

    audio = tmp_path / "audio"
    audio.mkdir()
    signal = tone(16.0, 16000, channels=1)
    encode(audio / "id1.mp3", signal, 16000)
    encode(audio / "id1.m4a", signal, 16000)
    encode(audio / "id2.opus", signal, 16000)
    tracks = [
        {"track_id": f"t{i}", "artist": "A", "track": f"T{i}", "spotify_id": f"id{i}"}
        for i in (1, 2)
    ]
    labelled = Labelled("import", tracks)
    recipe, _ = load_recipe(None)
    sources = framing.attach_audio(labelled, audio, recipe, workers=1, strict=True, progress=False)
    assert [s["path"] for s in sources] == ["id1.mp3", "id2.opus"]
    assert sources[1]["sample_rate"] == 48000 and sources[1]["frames"] == 16 * 48000
    assert labelled.other_formats == [{"kept": "id1.mp3", "skipped": "id1.m4a"}]
    assert read_audio(audio / "id2.opus")[0].shape == (16 * 48000, 1)
    encode(audio / "id1.wav", signal, 16000)  # two classic files: refused as always
    with pytest.raises(UserError, match=r"id1 has several audio files .*id1\.mp3, id1\.wav"):
        framing.attach_audio(
            Labelled("import", tracks[:1]), audio, recipe, workers=1, strict=True, progress=False
        )

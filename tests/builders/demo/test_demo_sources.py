from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf

from builders.cli import main
from builders.corpora.deam import read_deam
from builders.corpora.ravdess import read_ravdess
from builders.corpora.soundtracks import read_soundtracks
from builders.demo import sources as demo
from builders.errors import UserError
from tests.console import message_lines

TINY = {
    "clips_per_actor": 1,
    "n_deam": 2,
    "n_soundtracks": 1,
    "deam_duration_range": (10.0, 11.0),
    "soundtracks_duration_s": 10.0,
}


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_byte_identical_files(tmp_path):
    first = demo.write_demo_sources(tmp_path / "a", seed=3, **TINY)
    second = demo.write_demo_sources(tmp_path / "b", seed=3, **TINY)
    a, b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert (
        a == b and len(a) == 24 + 2 + 2 + 1 + 1 + 1
    )  # speech, DEAM audio + 2 CSVs, Soundtracks audio + CSV, marker
    assert {k: v for k, v in first.items() if k != "dest"} == {
        k: v for k, v in second.items() if k != "dest"
    }


def test_ravdess_files_have_the_real_format(demo_sources):
    paths = sorted((demo_sources / "RAVDESS").rglob("*.wav"))
    assert len(paths) == 48
    for path in paths[:6]:
        info = sf.info(path)
        assert (info.samplerate, info.channels, info.subtype) == (48_000, 1, "PCM_16")
        assert 2.0 < info.duration < 5.0
        assert path.parent.name == f"Actor_{path.stem[-2:]}"


def test_music_files_are_stereo_44k_mp3_of_the_asked_length(demo_sources):
    deam = read_deam(demo_sources / "DEAM").files
    for relative in deam.path:
        info = sf.info(demo_sources / "DEAM" / relative)
        assert (info.samplerate, info.channels, info.format) == (44_100, 2, "MP3")
        assert 9.9 < info.duration < 20.2
    track = read_soundtracks(demo_sources / "Soundtracks").files.path.iloc[0]
    assert 10.9 < sf.info(demo_sources / "Soundtracks" / track).duration < 13.1


def test_annotation_files_keep_the_real_quirks(demo_sources):
    folder = demo_sources / "DEAM" / demo.DEAM_ANNOTATION_DIR
    early = (folder / "static_annotations_averaged_songs_1_2000.csv").read_bytes()
    late = (folder / "static_annotations_averaged_songs_2000_2058.csv").read_bytes()
    assert early.startswith(b"song_id, valence_mean, valence_std, arousal_mean, arousal_std\r\n")
    assert early.count(b"\r\n") == early.count(b"\n")
    late_header = late.split(b"\r\n")[0].split(b",")
    assert len(late_header) == 13 and b" valence_ max_mean" in late_header
    ratings = (demo_sources / "Soundtracks" / "mean_ratings_set1.csv").read_bytes()
    assert ratings.startswith(b"\xef\xbb\xbfnumber,valence,energy,tension,")
    assert ratings.count(b"\r\n") == ratings.count(b"\n") == 4 + 2 + 1


def test_cli_writes_a_readable_corpus_and_replaces_its_own_output(tmp_path, capsys):
    dest = tmp_path / "src"
    args = [
        "demo-sources",
        str(dest),
        "--clips-per-actor",
        "1",
        "--deam",
        "1",
        "--soundtracks",
        "1",
        "--seed",
        "5",
        "--only",
        "misme",
    ]  # the other datasets' sources: test_demo_sources_writes_the_other_datasets_sources_too
    assert main(args) == 0
    assert "24 speech clips" in capsys.readouterr().out
    (dest / "RAVDESS" / "stray.txt").write_text("x")
    assert main(args) == 0  # an earlier output is replaced as a whole
    assert not (dest / "RAVDESS" / "stray.txt").exists()
    assert len(read_ravdess(dest / "RAVDESS").files) == 24
    assert len(read_deam(dest / "DEAM").files) == 1
    assert len(read_soundtracks(dest / "Soundtracks").files) == 1


def test_cli_refuses_a_foreign_non_empty_folder(tmp_path, capsys):
    (tmp_path / "mine.txt").write_text("keep me")
    assert main(["demo-sources", str(tmp_path), "--deam", "1"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "not empty" in error
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]


@pytest.mark.parametrize(
    "option",
    [
        ["--clips-per-actor", "0"],
        ["--clips-per-actor", "61"],
        ["--deam", "0"],
        ["--soundtracks", "-1"],
        ["--seed", "-2"],
    ],
)
def test_bad_sizes_are_one_line_errors_and_write_nothing(tmp_path, capsys, option):
    assert main(["demo-sources", str(tmp_path / "src"), *option]) == 2
    assert capsys.readouterr().err.startswith("misme-build: error:")
    assert not (tmp_path / "src").exists()


def test_bad_duration_range_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="durations"):
        demo.write_demo_sources(tmp_path / "x", deam_duration_range=(30.0, 20.0))


def test_unwritable_destination_is_a_one_line_error(tmp_path, capsys):
    (tmp_path / "file.txt").write_text("x")
    code = main(
        [
            "demo-sources",
            str(tmp_path / "file.txt" / "src"),
            "--clips-per-actor",
            "1",
            "--deam",
            "1",
            "--soundtracks",
            "1",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "cannot write demo sources" in err and len(message_lines(err)) == 1


@pytest.mark.parametrize(
    ("part", "marker"),
    [
        ("instrumental-mer", ".misme-instrumental-demo-sources.json"),
        ("muse-vad", ".misme-muse-demo-sources.json"),
    ],
)
def test_demo_sources_writes_the_other_datasets_sources_too(tmp_path, capsys, part, marker):
    assert main(["demo-sources", str(tmp_path / "src"), "--only", part, "--workers", "2"]) == 0
    assert (tmp_path / "src" / part / marker).is_file()
    assert not (tmp_path / "src" / "RAVDESS").exists()
    assert f"sources written to {tmp_path / 'src' / part}" in capsys.readouterr().out

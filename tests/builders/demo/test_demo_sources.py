from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import numpy as np
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


def test_different_seed_gives_different_signals_and_labels():
    name = demo.ravdess_name(5, 1, 1, 1, 1)
    one = demo.synth_speech(0, name, demo.speaker_for(0, 1), 5, 1, 1)
    two = demo.synth_speech(1, name, demo.speaker_for(1, 1), 5, 1, 1)
    assert one.shape != two.shape or not np.array_equal(one, two)
    assert demo.draw_valence_arousal(0, "deam", "2", 0, 1) != demo.draw_valence_arousal(
        1, "deam", "2", 0, 1
    )


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


def test_speech_plan_balances_emotions_across_genders():
    for clips in (2, 4):
        plan = demo.speech_plan(clips)
        assert len(plan) == 24 * clips
        by_gender = Counter((actor % 2, emotion) for actor, emotion, *_ in plan)
        assert set(by_gender.values()) == {24 * clips // 16}
    full = demo.speech_plan(60)
    names = {demo.ravdess_name(e, i, s, r, a) for a, e, i, s, r in full}
    expected = {
        demo.ravdess_name(e, i, s, r, a)
        for a, e, i, s, r in itertools.product(range(1, 25), range(1, 9), (1, 2), (1, 2), (1, 2))
        if not (e == 1 and i == 2)
    }
    assert names == expected  # 60 per actor = the full RAVDESS speech set (1,440)


def _normalised(x: np.ndarray) -> np.ndarray:
    return x / np.sqrt(np.mean(x**2))


def _median_f0(x: np.ndarray, rate: int) -> float:
    """Autocorrelation pitch of the loud 40 ms frames."""
    frame = int(0.04 * rate)
    frames = x[: x.size // frame * frame].reshape(-1, frame)
    loud = frames[np.sum(frames**2, axis=1) > 0.3 * np.max(np.sum(frames**2, axis=1))]
    lags = np.arange(rate // 500, rate // 60)
    pitches = []
    for f in loud:
        ac = np.correlate(f, f, "full")[frame - 1 :]
        pitches.append(rate / lags[np.argmax(ac[lags])])
    return float(np.median(pitches))


def _active_seconds(x: np.ndarray, rate: int) -> float:
    frame = int(0.02 * rate)
    energy = np.sum(x[: x.size // frame * frame].reshape(-1, frame) ** 2, axis=1)
    return float(np.sum(energy > 1e-3 * energy.max()) * frame / rate)


def _centroid(x: np.ndarray, rate: int) -> float:
    """Power-weighted spectral centroid in Hz."""
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(x.size, 1 / rate)
    return float(np.sum(freqs * spectrum) / np.sum(spectrum))


@pytest.mark.parametrize("actor", [1, 2, 7, 12])
def test_angry_speech_is_higher_faster_and_brighter_than_sad(actor):
    speaker = demo.speaker_for(0, actor)
    angry = _normalised(demo.synth_speech(0, "angry", speaker, 5, 1, 1))
    sad = _normalised(demo.synth_speech(0, "sad", speaker, 4, 1, 1))
    rate = demo.SPEECH_RATE
    assert _median_f0(angry, rate) > 1.25 * _median_f0(sad, rate)
    assert _active_seconds(angry, rate) < 0.75 * _active_seconds(sad, rate)
    assert _centroid(angry, rate) > 1.5 * _centroid(sad, rate)


def _chroma(x: np.ndarray, rate: int) -> np.ndarray:
    spectrum = np.abs(np.fft.rfft(x.mean(axis=1))) ** 2
    freqs = np.fft.rfftfreq(x.shape[0], 1 / rate)
    band = (freqs > 80) & (freqs < 2000)
    pitch_class = np.round(12 * np.log2(freqs[band] / 440.0)).astype(int) % 12
    return np.bincount(pitch_class, weights=spectrum[band], minlength=12)


MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def _major_minus_minor(chroma: np.ndarray) -> float:
    """Best Krumhansl major-key correlation minus best minor-key correlation."""
    best = [
        max(np.corrcoef(chroma, np.roll(profile, k))[0, 1] for k in range(12))
        for profile in (MAJOR_PROFILE, MINOR_PROFILE)
    ]
    return best[0] - best[1]


def test_music_valence_sets_mode_and_arousal_sets_brightness_and_onsets():
    rate = demo.MUSIC_RATE
    happy = [demo.synth_music(0, f"h{i}", 8.0, 5.0, 12.0) for i in range(4)]
    sad = [demo.synth_music(0, f"s{i}", 2.0, 5.0, 12.0) for i in range(4)]
    assert min(_major_minus_minor(_chroma(x, rate)) for x in happy) > max(
        _major_minus_minor(_chroma(x, rate)) for x in sad
    )
    calm = demo.synth_music(0, "calm", 5.0, 1.5, 12.0)
    excited = demo.synth_music(0, "excited", 5.0, 8.5, 12.0)
    assert _centroid(excited.mean(axis=1), rate) > 1.5 * _centroid(calm.mean(axis=1), rate)
    flux = [
        np.sum(
            np.diff(
                np.abs(
                    np.fft.rfft(
                        x.mean(axis=1)[: x.shape[0] // 1024 * 1024].reshape(-1, 1024), axis=1
                    )
                ),
                axis=0,
            ).clip(0)
        )
        / np.sqrt(np.sum(x**2))
        for x in (calm, excited)
    ]
    assert flux[1] > 2 * flux[0]


def test_labels_cycle_through_all_four_quadrants():
    quadrants = {
        (v > 5, a > 5)
        for v, a in (demo.draw_valence_arousal(0, "deam", str(i), i, 1) for i in range(4))
    }
    assert len(quadrants) == 4
    values = [demo.draw_valence_arousal(0, "deam", str(i), i, 1) for i in range(200)]
    assert all(1 <= v <= 9 and 1 <= a <= 9 for v, a in values)


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

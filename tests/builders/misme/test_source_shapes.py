"""MiSME on real-corpus shapes: 48 kHz 16-bit RAVDESS takes with room noise before and after
the speech (espeak-ng speech), and DEAM's 2000-2058 full songs of several minutes."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import soundfile as sf
import soxr

from builders.common.audio import OutputSpec, decode_pcm
from builders.corpora.deam import read_deam
from builders.excerpts import probe_source, render_excerpt
from builders.misme.inventory import ACTIVITY_FRAME_S, ProbeJob, probe_file
from builders.misme.mix_plan import _speech_crop
from builders.misme.recipe import load_recipe
from tests.builders.encoded import encode, espeak_speech
from tests.builders.test_excerpts import make_unit

TAKE_RATE = 48000
LEAD_S, TAIL_S = 0.9, 0.7  # room noise before and after the speech, as in RAVDESS takes
NOISE_BELOW_DB = 45.0  # the studio's noise floor under the loudest speech frame


def speech_region(speech: np.ndarray, rate: int, floor_db: float) -> tuple[float, float]:
    """Where the clean speech is: first and last 20 ms frame within ``floor_db`` of its peak."""
    hop = int(round(ACTIVITY_FRAME_S * rate))
    frames = speech[: len(speech) // hop * hop, 0].astype(np.float64).reshape(-1, hop)
    level = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-20)
    active = np.flatnonzero(level >= level.max() + floor_db)
    return active[0] * hop / rate, (active[-1] + 1) * hop / rate


def ravdess_take(folder, text: str, *espeak: str) -> tuple[object, np.ndarray, float]:
    """A 48 kHz 16-bit mono take: room noise, espeak-ng speech, room noise."""
    speech, rate = espeak_speech(folder, text, *espeak)
    speech = soxr.resample(speech, rate, TAKE_RATE).astype(np.float32)
    hop = int(ACTIVITY_FRAME_S * TAKE_RATE)
    peak_db = 10 * np.log10(
        max(np.mean(speech[i : i + hop] ** 2) for i in range(0, len(speech), hop))
    )
    rng = np.random.default_rng(24)
    pad = int(LEAD_S * TAKE_RATE), int(TAIL_S * TAKE_RATE)
    noise = rng.standard_normal((sum(pad) + len(speech), 1)).astype(np.float32)
    noise *= np.float32(10 ** ((peak_db - NOISE_BELOW_DB) / 20))
    take = noise.copy()
    take[pad[0] : pad[0] + len(speech)] += speech
    path = folder / "Actor_01" / "03-01-02-01-01-01-01.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, take, TAKE_RATE, subtype="PCM_16")
    return path, speech, float(LEAD_S)


@pytest.mark.parametrize(
    "espeak",
    [("Kids are talking by the door",), ("Dogs are sitting by the door", "-s", "90", "-a", "30")],
    ids=["normal", "quiet-slow"],
)
def test_speech_activity_and_the_crop_find_the_speech_not_the_room_noise(tmp_path, espeak):
    recipe, _ = load_recipe(None)
    floor = recipe.mixing.activity_floor_db
    path, speech, lead = ravdess_take(tmp_path, *espeak)
    job = ProbeJob(str(path), True, True, floor, recipe.loudness.target_lufs)
    probe = probe_file(job)
    assert probe["sample_rate"] == TAKE_RATE and probe["channels"] == 1
    start, end = speech_region(speech, TAKE_RATE, floor)
    assert abs(probe["active_start_s"] - (lead + start)) <= 0.04
    assert abs(probe["active_end_s"] - (lead + end)) <= 0.04
    assert probe["active_start_s"] > lead - 0.02  # the room noise before is not speech
    frames = round(probe["duration_s"] * 44100)
    window = round(2.0 * 44100)  # a window shorter than the take: the crop must hold the speech
    crop_start, used = _speech_crop(
        frames, probe["active_start_s"], probe["active_end_s"], window, 44100
    )
    centre = (lead + (start + end) / 2) * 44100
    assert used == window and crop_start < centre < crop_start + used
    assert crop_start / 44100 > lead / 2  # the crop does not start in the leading room noise


@pytest.mark.slow
def test_a_deam_full_song_of_five_minutes_is_listed_probed_and_cut_without_drift(
    tmp_path, demo_sources
):
    root = tmp_path / "DEAM"
    shutil.copytree(demo_sources / "DEAM", root)
    song = max((root / "MEMD_audio").glob("*.mp3"), key=lambda p: int(p.stem))
    assert int(song.stem) > 2000  # an id of the 2000-2058 annotation file: a full song
    rate, seconds, click_s = 22050, 300.0, 241.0
    t = np.arange(int(seconds * rate)) / rate
    music = (0.2 * np.sin(2 * np.pi * 220 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 0.1 * t)))[:, None]
    music = music.astype(np.float32)
    music[int(click_s * rate) : int(click_s * rate) + 22] = 0.95
    encode(song, music, rate, "-c:a", "libmp3lame", "-b:a", "48k")
    listed = read_deam(root).files.set_index("source_id").loc[f"deam-{song.stem}"]
    assert listed["path"] == f"MEMD_audio/{song.name}" and 1 <= listed["valence"] <= 9
    probe = probe_source(str(song))
    assert probe["frames"] == len(music) and probe["duration_s"] == seconds
    misme = probe_file(ProbeJob(str(song), False, False, -35.0, -23.0))
    assert misme["frames"] == len(music) and np.isfinite(misme["loudness_lufs"])
    output = OutputSpec(44100, 2)
    unit = make_unit(tmp_path, song, start=240.0, duration=2.0, output=output)
    clip = decode_pcm(render_excerpt(unit).clips["audio"])[0]
    assert clip.shape == (88200, 2)
    assert abs(np.argmax(np.abs(clip[:, 0])) / 44100 - (click_s - 240.0)) < 0.001

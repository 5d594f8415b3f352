"""Synthetic RAVDESS speech: the emotions are audible, the plan is balanced."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest

from builders.demo import speech


def test_different_seed_gives_different_signals():
    name = speech.ravdess_name(5, 1, 1, 1, 1)
    one = speech.synth_speech(0, name, speech.speaker_for(0, 1), 5, 1, 1)
    two = speech.synth_speech(1, name, speech.speaker_for(1, 1), 5, 1, 1)
    assert one.shape != two.shape or not np.array_equal(one, two)


def test_speech_plan_balances_emotions_across_genders():
    for clips in (2, 4):
        plan = speech.speech_plan(clips)
        assert len(plan) == 24 * clips
        by_gender = Counter((actor % 2, emotion) for actor, emotion, *_ in plan)
        assert set(by_gender.values()) == {24 * clips // 16}
    full = speech.speech_plan(60)
    names = {speech.ravdess_name(e, i, s, r, a) for a, e, i, s, r in full}
    expected = {
        speech.ravdess_name(e, i, s, r, a)
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
    speaker = speech.speaker_for(0, actor)
    angry = _normalised(speech.synth_speech(0, "angry", speaker, 5, 1, 1))
    sad = _normalised(speech.synth_speech(0, "sad", speaker, 4, 1, 1))
    rate = speech.SPEECH_RATE
    assert _median_f0(angry, rate) > 1.25 * _median_f0(sad, rate)
    assert _active_seconds(angry, rate) < 0.75 * _active_seconds(sad, rate)
    assert _centroid(angry, rate) > 1.5 * _centroid(sad, rate)

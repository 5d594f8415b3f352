"""The conformant meter: EBU Tech 3341 cases, BS.1770-4's filter, true peak, and agreement
with pyloudnorm and ffmpeg's ebur128 on espeak-ng speech takes and music excerpts."""

import math

import numpy as np
import pytest
import soundfile as sf

from builders.common.bs1770 import integrated_loudness, k_weighting, true_peak
from builders.demo.music import synth_music
from tests.builders.ebu_signals import EBU_CASES, EBU_RATE, ebu_signal
from tests.builders.real_audio import (
    DELIVERIES,
    SENTENCES,
    ebur128_lufs,
    pyloudnorm_lufs,
    speech_take,
    write_take,
)


@pytest.mark.parametrize("case", sorted(EBU_CASES))
def test_ebu_tech_3341_cases(case):
    expected = EBU_CASES[case][1]
    assert integrated_loudness(ebu_signal(case), EBU_RATE) == pytest.approx(expected, abs=0.1)


def test_k_weighting_at_48_khz_is_the_recommendations_table():
    shelf, high_pass = k_weighting(48000)
    table_1 = [1.53512485958697, -2.69169618940638, 1.19839281085285]
    assert shelf == pytest.approx([*table_1, 1.0, -1.69065929318241, 0.73248077421585], abs=1e-10)
    assert high_pass == pytest.approx([1.0, -2.0, 1.0, 1.0, -1.99004745483398, 0.99007225036621])


def test_dual_mono_is_a_mono_signal_on_two_channels():
    mono = ebu_signal(1)[:, 0]
    dual = integrated_loudness(mono, EBU_RATE, dual_mono=True)
    assert dual == pytest.approx(integrated_loudness(ebu_signal(1), EBU_RATE), abs=1e-9)
    assert dual - integrated_loudness(mono, EBU_RATE) == pytest.approx(10 * math.log10(2))


def test_silence_and_too_short_signals_have_no_loudness():
    assert integrated_loudness(np.zeros((48000, 2)), 48000) == -math.inf
    assert integrated_loudness(ebu_signal(1)[:19000], EBU_RATE) == -math.inf  # < 400 ms
    assert integrated_loudness(ebu_signal(1)[:19200], EBU_RATE) == pytest.approx(-23.0, abs=0.1)


def test_true_peak_sees_the_peak_between_samples():
    # a quarter-rate sine sampled 45 degrees off its crests: samples at 0.707 of its peak
    n = np.arange(4800)
    tone = 0.5 * np.sin(np.pi / 2 * n + np.pi / 4)
    assert 20 * np.log10(np.max(np.abs(tone))) == pytest.approx(-9.03, abs=0.01)
    assert true_peak(tone) == pytest.approx(-6.02, abs=0.3)
    assert true_peak(ebu_signal(5)) == pytest.approx(-20.0, abs=0.05)
    assert true_peak(np.zeros(100)) == -math.inf


def test_speech_takes_agree_with_pyloudnorm_and_ebur128(tmp_path):
    for index in range(12):
        delivery = DELIVERIES[index % len(DELIVERIES)]
        take = speech_take(SENTENCES[index % 2], delivery, seed=index)
        path = write_take(tmp_path / f"take{index}.wav", take)
        data, rate = sf.read(path, dtype="float64")
        ours = integrated_loudness(data, rate, dual_mono=True)
        assert ours == pytest.approx(pyloudnorm_lufs(path, dual_mono=True), abs=0.1), delivery
        assert ours == pytest.approx(ebur128_lufs(path, dual_mono=True), abs=0.1), delivery


@pytest.mark.parametrize("seconds", [15.0, 45.0])
def test_music_excerpts_agree_with_pyloudnorm_and_ebur128(tmp_path, seconds):
    path = tmp_path / "music.flac"
    sf.write(path, synth_music(0, f"excerpt-{seconds}", 2.5, 7.5, seconds), 44100)
    data, rate = sf.read(path, dtype="float64")
    ours = integrated_loudness(data, rate)
    assert ours == pytest.approx(pyloudnorm_lufs(path), abs=0.1)
    assert ours == pytest.approx(ebur128_lufs(path), abs=0.1)

"""Loudness measured through ffmpeg-normalize, cross-checked with pyloudnorm (BS.1770)."""

import numpy as np
import pyloudnorm
import pytest
import soundfile as sf

from builders.common.loudness import gain_to_target, measure_integrated_loudness
from builders.errors import UserError


def _noise_burst(path, sample_rate=48000, channels=1, level=0.05, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(sample_rate * 3.0)) / sample_rate
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 1.5 * t) ** 2
    signal = level * envelope * (np.sin(2 * np.pi * 210 * t) + 0.3 * rng.standard_normal(t.size))
    signal = np.repeat(signal[:, None], channels, axis=1) if channels > 1 else signal
    sf.write(path, signal.astype(np.float32), sample_rate, subtype="PCM_16")
    return sf.read(path, dtype="float64")


@pytest.mark.parametrize("channels", [1, 2])
def test_measurement_agrees_with_pyloudnorm(tmp_path, channels):
    data, rate = _noise_burst(tmp_path / "x.wav", channels=channels)
    ours = measure_integrated_loudness(tmp_path / "x.wav")
    reference = pyloudnorm.Meter(rate).integrated_loudness(data)
    assert abs(ours - reference) < 0.3


def test_dual_mono_measures_mono_as_played_on_two_channels(tmp_path):
    data, rate = _noise_burst(tmp_path / "mono.wav", channels=1)
    dual = measure_integrated_loudness(tmp_path / "mono.wav", dual_mono=True)
    stereo_reference = pyloudnorm.Meter(rate).integrated_loudness(np.stack([data, data], axis=1))
    assert abs(dual - stereo_reference) < 0.3
    assert dual - measure_integrated_loudness(tmp_path / "mono.wav") == pytest.approx(3.0, abs=0.15)


def test_gain_brings_signal_to_target(tmp_path):
    data, rate = _noise_burst(tmp_path / "x.wav", channels=2, level=0.2)
    gain = gain_to_target(measure_integrated_loudness(tmp_path / "x.wav"), -23.0)
    normalised = data * 10 ** (gain / 20)
    assert pyloudnorm.Meter(rate).integrated_loudness(normalised) == pytest.approx(-23.0, abs=0.3)


def test_corrupt_file_is_a_user_error(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00garbage" * 10)
    with pytest.raises(UserError, match="bad.wav"):
        measure_integrated_loudness(bad)

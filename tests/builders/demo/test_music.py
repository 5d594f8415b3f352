"""Synthetic music: valence and arousal are audible, labels cover the four quadrants."""

from __future__ import annotations

import numpy as np

from builders.demo import music


def test_different_seed_gives_different_labels():
    assert music.draw_valence_arousal(0, "deam", "2", 0, 1) != music.draw_valence_arousal(
        1, "deam", "2", 0, 1
    )


def _centroid(x: np.ndarray, rate: int) -> float:
    """Power-weighted spectral centroid in Hz."""
    spectrum = np.abs(np.fft.rfft(x)) ** 2
    freqs = np.fft.rfftfreq(x.size, 1 / rate)
    return float(np.sum(freqs * spectrum) / np.sum(spectrum))


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
    rate = music.MUSIC_RATE
    happy = [music.synth_music(0, f"h{i}", 8.0, 5.0, 12.0) for i in range(4)]
    sad = [music.synth_music(0, f"s{i}", 2.0, 5.0, 12.0) for i in range(4)]
    assert min(_major_minus_minor(_chroma(x, rate)) for x in happy) > max(
        _major_minus_minor(_chroma(x, rate)) for x in sad
    )
    calm = music.synth_music(0, "calm", 5.0, 1.5, 12.0)
    excited = music.synth_music(0, "excited", 5.0, 8.5, 12.0)
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
        for v, a in (music.draw_valence_arousal(0, "deam", str(i), i, 1) for i in range(4))
    }
    assert len(quadrants) == 4
    values = [music.draw_valence_arousal(0, "deam", str(i), i, 1) for i in range(200)]
    assert all(1 <= v <= 9 and 1 <= a <= 9 for v, a in values)

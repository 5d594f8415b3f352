"""DEAM segmentation (mode b): designed 2 Hz ratings give exactly the segments of the rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from builders.corpora.deam_dynamic import read_deam_dynamic
from builders.instrumental_mer.segments import Segment, segment_song, stable, window_means

SETTINGS = {"window_s": 5.0, "samples_per_window": 10, "max_change": 0.05, "max_segments": 5}


def ratings(window_values: list[float], jitter: list[float] | None = None) -> np.ndarray:
    """10 samples per window at the given level; ``jitter`` (10 values, mean 0) inside each."""
    inner = np.zeros(10) if jitter is None else np.asarray(jitter)
    return np.concatenate([value + inner for value in window_values])


def times(n: int) -> np.ndarray:
    return 15.0 + 0.5 * np.arange(n)


def spans(segments: list[Segment]) -> list[tuple[float, float, int]]:
    return [(s.start_s, s.end_s, s.windows) for s in segments]


def test_three_windows_when_every_change_and_first_to_last_stay_within_the_limit():
    valence = ratings([0.10, 0.12, 0.14, 0.60, 0.61, 0.30])
    arousal = ratings([0.2] * 6)
    segments = segment_song(times(60), valence, arousal, **SETTINGS)
    # 15-30 (3 windows: changes .02/.02, first-to-last .04), then 30-40 (.60/.61), 40-45 alone
    assert spans(segments) == [(15.0, 30.0, 3), (30.0, 40.0, 2)]


def test_a_progressive_change_beyond_the_limit_takes_two_windows_then_moves_on():
    valence = ratings([0.00, 0.03, 0.06, 0.09, 0.50, 0.50])
    arousal = ratings([0.0] * 6)
    # 0/.03/.06: neighbours ok but first-to-last .06 > .05 -> two windows 15-25;
    # then .06/.09/.50 fails, .06/.09 ok -> 25-35; then .50/.50 -> 35-45
    assert spans(segment_song(times(60), valence, arousal, **SETTINGS)) == [
        (15.0, 25.0, 2),
        (25.0, 35.0, 2),
        (35.0, 45.0, 2),
    ]


def test_arousal_counts_as_much_as_valence_and_a_lone_window_is_skipped():
    valence = ratings([0.0] * 5)
    arousal = ratings([0.0, 0.2, 0.2, 0.2, 0.9])
    assert spans(segment_song(times(50), valence, arousal, **SETTINGS)) == [(20.0, 35.0, 3)]


def test_a_change_of_exactly_the_limit_is_within_it():
    valence = ratings([0.10, 0.15, 0.20])
    arousal = ratings([-0.3, -0.3, -0.25])
    segments = segment_song(times(30), valence, arousal, **SETTINGS)
    # neighbour changes 0.05 each are allowed, first-to-last valence 0.10 is not: two windows
    assert spans(segments) == [(15.0, 25.0, 2)]
    assert stable(np.array([[0.10, 0.0], [0.15, 0.0]]), 0.05)
    assert not stable(np.array([[0.10, 0.0], [0.1500001, 0.0]]), 0.05)


def test_label_is_the_mean_of_the_ratings_inside_the_segment_not_of_the_window_means():
    jitter = [0.01, -0.01, 0.02, -0.02, 0.0, 0.0, 0.005, -0.005, 0.03, -0.03]
    valence = ratings([0.1, 0.12, 0.13], jitter)
    valence[5] += 0.009  # moves one window mean by 0.0009
    arousal = ratings([0.5, 0.5, 0.52])
    (segment,) = segment_song(times(30), valence, arousal, **SETTINGS)
    assert segment.valence == pytest.approx(float(valence.mean()), abs=1e-15)
    assert segment.arousal == pytest.approx(float(arousal.mean()), abs=1e-15)
    assert window_means(valence, 10)[0] == pytest.approx(0.1009)


def test_at_most_five_segments_the_first_in_time():
    level = ratings([0.0] * 20)  # 100 s of identical windows: 3-window segments back to back
    segments = segment_song(times(200), level, level, **SETTINGS)
    assert spans(segments) == [(15.0 + 15 * k, 30.0 + 15 * k, 3) for k in range(5)]


def test_incomplete_last_window_and_windows_past_the_audio_are_not_used():
    level = ratings([0.0] * 4)[:36]  # 4th window has 6 of its 10 samples
    assert spans(segment_song(times(36), level, level, **SETTINGS)) == [(15.0, 30.0, 3)]
    full = ratings([0.0] * 4)
    # audio ends at 33 s: windows must end by 33.5 (tolerance included): 15-20, 20-25, 25-30
    assert spans(segment_song(times(40), full, full, **SETTINGS, last_end_s=33.5)) == [
        (15.0, 30.0, 3)
    ]
    assert segment_song(times(0), full[:0], full[:0], **SETTINGS) == []


def _dynamic_files(
    folder: Path, valence_rows: list[str], arousal_rows: list[str]
) -> tuple[Path, Path]:
    header = "song_id," + ",".join(f"sample_{15000 + 500 * i}ms" for i in range(30)) + "\n"
    paths = (folder / "valence.csv", folder / "arousal.csv")
    for path, rows in zip(paths, (valence_rows, arousal_rows), strict=True):
        path.write_text(header + "".join(row + "\n" for row in rows))
    return paths


def test_designed_annotation_files_through_the_reader(tmp_path):
    """A song padded with empty cells (20 of 30 samples) and a stable one, as DEAM ships them."""
    stable_song = "7," + ",".join(["0.25"] * 30)
    short_song = "12," + ",".join(["-0.4"] * 10 + ["0.1"] * 10) + "," * 10
    flat = "7," + ",".join(["0.5"] * 30)
    short_flat = "12," + ",".join(["0.3"] * 20) + "," * 10
    annotations = read_deam_dynamic(
        *_dynamic_files(tmp_path, [stable_song, short_song], [flat, short_flat])
    )
    found = {
        song.song_id: segment_song(song.times_s, song.valence, song.arousal, **SETTINGS)
        for song in annotations.songs
    }
    assert spans(found["7"]) == [(15.0, 30.0, 3)]
    assert found["7"][0].valence == pytest.approx(0.25) and found["7"][0].arousal == pytest.approx(
        0.5
    )
    assert found["12"] == []  # two windows, 0.5 apart: no segment

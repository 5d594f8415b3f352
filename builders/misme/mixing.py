"""MiSME's signal maths: sources decoded and normalised, speech placed in the music, stems,
attenuation and the measured speech activity.

Every function is pure (a manifest row and decoded sources in, arrays and numbers out); the
render (``builders.misme.render_batch``) and the separation's oracle stems
(``builders.misme.separation``) both go through :func:`mix_stems` / :func:`render_mix_signal`,
so that a mix is exactly the sum of its stems.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from builders.common import audio
from builders.errors import UserError

ACTIVITY_BLOCK_S = 0.02
DEFAULT_ACTIVITY_FLOOR_DB = -35.0
ABSOLUTE_FLOOR_DB = -70.0


def source_path(row: Mapping, roots: Mapping[str, Path | str]) -> Path:
    """Absolute path of a source row (``path`` is relative to its corpus root)."""
    corpus = row["corpus"]
    if corpus not in roots or roots[corpus] is None:
        raise UserError(f"no root given for corpus {corpus!r} (needed by {row['source_id']})")
    return Path(roots[corpus]) / row["path"]


def load_source(row: Mapping, roots: Mapping[str, Path | str], sample_rate: int) -> np.ndarray:
    """Decode a source after checking its sha256, resample to ``sample_rate`` (the recipe's),
    fit to ``frames_44k`` (its planned length at that rate; the name is v1's).

    No gain is applied; channels are kept (mono stays ``[frames, 1]``).
    """
    path = source_path(row, roots)
    audio.check_source(path, row["sha256"])
    data, rate = audio.read_audio(path)
    if data.shape[1] > 2:
        raise UserError(
            f"{path} ({row['source_id']}): unsupported channel count {data.shape[1]} "
            "(mono or stereo sources only); re-plan to leave it out"
        )
    return audio.fit_length(audio.resample(data, rate, sample_rate), int(row["frames_44k"]))


def normalised_source(source: np.ndarray, gain_db: float) -> np.ndarray:
    """Loudness-normalised stereo float32 clip (stored gain applied, mono duplicated)."""
    return audio.to_stereo(source * audio.db_to_gain(gain_db))


def _placements(mix_row: Mapping) -> list[tuple[int, int]]:
    """(start, stop) frames of every speech placement inside the music."""
    frames, length = int(mix_row["music_frames"]), int(mix_row["speech_frames"])
    window, offset = int(mix_row["window_frames"]), int(mix_row["speech_offset_frame"])
    starts = (k * window + offset for k in range(int(mix_row["n_placements"])))
    return [(start, min(start + length, frames)) for start in starts if start < frames]


def _normalised_parts(
    mix_row: Mapping, speech_source: np.ndarray, music_source: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(normalised music stem, float32 stereo; normalised speech segment, float32 in the source's channels).

    Mono speech stays ``[frames, 1]`` and is broadcast to both channels where it is added:
    the same values as duplicating it first, without the copy.
    """
    music = normalised_source(
        audio.fit_length(music_source, int(mix_row["music_frames"])), mix_row["music_gain_db"]
    )
    crop, length = int(mix_row["speech_crop_start_frame"]), int(mix_row["speech_frames"])
    segment = audio.fit_length(speech_source[crop : crop + length], length)
    if segment.shape[1] > 2:
        audio.to_stereo(segment)  # raises the user-facing channel-count error
    return music, segment * audio.db_to_gain(mix_row["speech_gain_db"])


def place_stems(
    mix_row: Mapping, speech_source: np.ndarray, music_source: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unattenuated (music_stem, speech_stem, speech_segment) of one mix, float32 (stems stereo).

    The speech segment is frames ``[speech_crop_start_frame, +speech_frames)`` of the
    normalised speech, placed at ``k * window_frames + speech_offset_frame`` for every
    window k < n_placements.
    """
    music, segment = _normalised_parts(mix_row, speech_source, music_source)
    speech = np.zeros_like(music)
    for start, stop in _placements(mix_row):
        speech[start:stop] = segment[: stop - start]
    return music, speech, segment


def _peak(x: np.ndarray) -> float:
    return max(float(x.max()), -float(x.min())) if x.size else 0.0


def attenuate_stems(music: np.ndarray, speech: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Scale both stems by 1/peak of their sum when it exceeds full scale; return gain in dB."""
    peak = _peak(music + speech)
    if peak <= 1.0:
        return music, speech, 0.0
    gain = np.float32(1.0 / peak)
    return music * gain, speech * gain, float(20.0 * np.log10(float(gain)))


def render_mix_signal(
    mix_row: Mapping, speech_source: np.ndarray, music_source: np.ndarray
) -> tuple[np.ndarray, float, np.ndarray]:
    """(mix, mix_gain_db, speech_segment): the mix equals the sum of :func:`mix_stems`' stems.

    Fast path: the speech is added into the music in place (adding 0 elsewhere changes
    nothing); a mix that needs attenuation is rebuilt from the scaled stems.
    """
    music, segment = _normalised_parts(mix_row, speech_source, music_source)
    mix = music  # a new array (gain applied), never the cached source
    for start, stop in _placements(mix_row):
        mix[start:stop] += segment[: stop - start]
    if _peak(mix) <= 1.0:
        return mix, 0.0, segment
    music_stem, speech_stem, _ = place_stems(mix_row, speech_source, music_source)
    music_stem, speech_stem, gain_db = attenuate_stems(music_stem, speech_stem)
    return music_stem + speech_stem, gain_db, segment


def mix_stems(
    mix_row: Mapping,
    speech_row: Mapping,
    music_row: Mapping,
    roots: Mapping[str, Path | str],
    sample_rate: int,
) -> tuple[np.ndarray, np.ndarray]:
    """float32 ``[frames, 2]`` (music_stem, speech_stem) exactly as summed into the mix.

    The mix attenuation is applied, so the rendered mix is ``quantise(music + speech)``.
    """
    speech, music = (load_source(row, roots, sample_rate) for row in (speech_row, music_row))
    music, speech, _ = place_stems(mix_row, speech, music)
    music, speech, _ = attenuate_stems(music, speech)
    return music, speech


def activity_block(sample_rate: int) -> int:
    """Frames in one 20 ms activity block (882 at 44.1 kHz)."""
    return int(round(ACTIVITY_BLOCK_S * sample_rate))


def speech_activity(
    segment: np.ndarray, sample_rate: int, floor_db: float = DEFAULT_ACTIVITY_FLOOR_DB
) -> np.ndarray:
    """Per-frame boolean activity of a placed speech segment.

    Energy-based: mean power over channels in 20 ms blocks (mono and dual-mono give the
    same result); a block is active when its level is within ``floor_db`` of the loudest
    block and above -70 dBFS. Every sample frame of a block takes the block's decision.
    """
    n, block = len(segment), activity_block(sample_rate)
    if n == 0:
        return np.zeros(0, dtype=bool)
    blocks = -(-n // block)
    squares = np.square(segment.astype(np.float64))
    power = np.zeros(blocks * block, dtype=np.float64)
    for channel in range(
        squares.shape[1]
    ):  # the mean over channels, summed in order (np.mean(axis=1) is slow)
        power[:n] += squares[:, channel]
    power[:n] /= squares.shape[1]
    level = 10.0 * np.log10(power.reshape(blocks, block).mean(axis=1) + 1e-20)
    active = (level >= level.max() + floor_db) & (level > ABSOLUTE_FLOOR_DB)
    return np.repeat(active, block)[:n]


def measured_overlap(
    mix_row: Mapping,
    segment: np.ndarray,
    sample_rate: int,
    floor_db: float = DEFAULT_ACTIVITY_FLOOR_DB,
) -> float:
    """Fraction of the music duration covered by active placed speech."""
    frames = int(mix_row["music_frames"])
    if frames <= 0:
        return 0.0
    active = speech_activity(segment, sample_rate, floor_db)
    window, offset = int(mix_row["window_frames"]), int(mix_row["speech_offset_frame"])
    covered = 0
    for k in range(int(mix_row["n_placements"])):
        start = k * window + offset
        covered += int(active[: max(0, min(len(active), frames - start))].sum())
    return covered / frames

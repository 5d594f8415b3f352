"""One mix separated: the unit of work of ``builders.misme.separation`` (plain data), the
backends' unit functions (oracle masks, Spleeter through its worker process), and how a unit's
two clips are written (the render rule: peak-guarded, ``np.rint(x * 32767)`` 16-bit, checksum =
sha256 of the int16 PCM) with their quality against the true stems and the resume record.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from builders.common import audio
from builders.common.audio import OutputSpec
from builders.common.clips import ClipRef
from builders.common.resume import save_result
from builders.errors import UserError
from builders.misme import separation_quality
from builders.misme.mixing import mix_stems
from builders.misme.oracle import oracle_separate
from builders.misme.spleeter_client import SpleeterSession


@dataclass(frozen=True)
class StemSources:
    """What re-mixing a mix's true stems needs: its two source rows and the roots."""

    speech: dict
    music: dict
    roots: dict[str, str]

    def stems(self, mix_row: Mapping, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
        return mix_stems(mix_row, self.speech, self.music, self.roots, sample_rate)


@dataclass(frozen=True)
class SeparationUnit:
    """One mix to separate (plain data): its row, files, resume record and true-stem sources."""

    row: dict
    mix: ClipRef  # the rendered mix: its file, or its range in the `mixed` shards
    outputs: tuple[str, str]  # music clip (full mix length), speech clip (SER window)
    record: str
    key: str
    output: OutputSpec
    stem_sources: StemSources | None  # None: no quality (Spleeter with --no-quality)

    @property
    def unit_id(self) -> str:
        return str(self.row["mix_id"])

    def true_stems(self) -> tuple[np.ndarray, np.ndarray] | None:
        if self.stem_sources is None:
            return None
        return self.stem_sources.stems(self.row, self.output.sample_rate)


def _write(path: Path, x: np.ndarray, output: OutputSpec) -> tuple[np.ndarray, str, float]:
    """Peak-guard, quantise and write a clip atomically; (decoded float, sha256, gain dB)."""
    x, gain_db = audio.peak_normalise(np.ascontiguousarray(x, dtype=np.float32))
    pcm = audio.quantise(x)
    sha = audio.write_clip(path, pcm, output)
    return pcm.astype(np.float32) / audio.FULL_SCALE, sha, gain_db


def window_of(x: np.ndarray, row: Mapping) -> np.ndarray:
    """The SER window ``[window_start_frame, +window_frames)`` of a full-length clip."""
    start, length = int(row["window_start_frame"]), int(row["window_frames"])
    return audio.fit_length(x[start : start + length], length)


def finish_clip(
    unit: SeparationUnit,
    music_est: np.ndarray,
    speech_est: np.ndarray,
    stems: tuple[np.ndarray, np.ndarray] | None,
) -> dict:
    """Write one mix's separated music (full) and speech (SER window), its record; checksums, quality.

    ``stems`` = the true (music, speech) of the full mix, or None to skip quality.
    """
    row, frames = unit.row, int(unit.row["music_frames"])
    music_est = audio.fit_length(audio.to_stereo(music_est), frames)
    speech_est = audio.fit_length(audio.to_stereo(speech_est), frames)
    music_clip, music_sha, music_gain = _write(Path(unit.outputs[0]), music_est, unit.output)
    speech_clip, speech_sha, speech_gain = _write(
        Path(unit.outputs[1]), window_of(speech_est, row), unit.output
    )
    result: dict[str, Any] = {
        "mix_id": row["mix_id"],
        "fold": int(row["fold"]),
        "audio_sha256": music_sha,
        "audio_window_sha256": speech_sha,
        "music_clip_gain_db": music_gain,
        "speech_clip_gain_db": speech_gain,
    }
    result.update(dict.fromkeys(separation_quality.METRIC_COLUMNS, float("nan")))
    if stems is not None:
        result.update(
            separation_quality.clip_quality(
                music_clip, stems[0], speech_clip, window_of(stems[1], row)
            )
        )
    save_result(Path(unit.record), unit.key, result, [Path(p) for p in unit.outputs])
    return result


def read_mix(mix: ClipRef) -> np.ndarray:
    """Decoded rendered mix, float32 ``[frames, 2]``; UserError naming an undecodable clip."""
    try:
        pcm, _ = audio.decode_pcm(mix.read_bytes())
    except (sf.LibsndfileError, RuntimeError, OSError) as error:
        raise UserError(f"cannot decode the rendered mix {mix}: {error} (re-render it)") from None
    return pcm.astype(np.float32) / audio.FULL_SCALE


def separate_oracle(unit: SeparationUnit) -> dict:
    """Oracle unit: ideal ratio masks from the re-mixed true stems."""
    music, speech = unit.true_stems()
    music_est, speech_est = oracle_separate(read_mix(unit.mix), music, speech)
    return finish_clip(unit, music_est, speech_est, (music, speech))


def separate_spleeter(session: SpleeterSession, unit: SeparationUnit) -> dict:
    """Spleeter unit, run by an engine worker through its own Spleeter process."""
    mix_id, rate, output_rate = unit.row["mix_id"], session.sample_rate, unit.output.sample_rate
    scratch = session.scratch
    vocals, accompaniment = (
        scratch / f"{mix_id}.vocals.npy",
        scratch / f"{mix_id}.accompaniment.npy",
    )
    resampled = scratch / f"{mix_id}.input.npy"
    try:
        if rate != output_rate:  # a model at another rate: feed it resampled float audio
            np.save(resampled, audio.resample(read_mix(unit.mix), output_rate, rate))
        source = (
            contextlib.nullcontext(resampled) if rate != output_rate else unit.mix.as_file(scratch)
        )
        with source as mix_path:  # the worker reads files only
            session.worker.separate(mix_path, vocals, accompaniment, job_id=mix_id)
        speech_est = audio.resample(np.load(vocals).astype(np.float32), rate, output_rate)
        music_est = audio.resample(np.load(accompaniment).astype(np.float32), rate, output_rate)
    finally:
        for path in (vocals, accompaniment, resampled):
            path.unlink(missing_ok=True)
    return finish_clip(unit, music_est, speech_est, unit.true_stems())

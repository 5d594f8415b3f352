"""EBU R128 integrated loudness, by the meter a recipe names.

- ``ffmpeg-loudnorm`` (recipe v1, kept so v1 builds stay byte-identical): ffmpeg-normalize's
  loudnorm first pass, one ffmpeg process per file. ffmpeg comes from the ``imageio-ffmpeg``
  wheel; ffmpeg-normalize finds it through ``FFMPEG_PATH``.
- ``bs1770`` (recipe v2 on): ITU-R BS.1770-4 with EBU R128 gating on the decoded samples, in
  this process (``builders.common.bs1770``); it meets EBU Tech 3341, which loudnorm's first
  pass does not (case 5 reads -23.14 LUFS).

Normalisation in this toolkit is a pure linear gain (``gain_db = target - measured``)
applied at render time, never loudnorm's dynamic mode.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import subprocess
from pathlib import Path

import numpy as np

from builders.common import bs1770
from builders.common.audio import read_audio
from builders.common.ffmpeg import ffmpeg_executable
from builders.errors import UserError

TARGET_LUFS = -23.0
LOUDNORM_METER = "ffmpeg-loudnorm"
BS1770_METER = "bs1770"
METERS = {
    LOUDNORM_METER: "ffmpeg loudnorm's first pass via ffmpeg-normalize; recipe v1",
    BS1770_METER: "ITU-R BS.1770-4 with EBU R128 gating, in-process; recipe v2",
}
# Why recipe v2 changed meter (issue 24), for the recipe, the dataset card and the README.
METER_CHANGE = (
    "Loudness is measured by ITU-R BS.1770-4 with EBU R128 gating, in-process on the decoded "
    "samples (recipe v2). Recipe v1's meter, ffmpeg loudnorm's first pass, misses EBU Tech "
    "3341's minimum requirements (case 5 reads -23.14 LUFS) and differs from pyloudnorm and "
    "ffmpeg's ebur128 by up to 0.49 LU on speech takes (14 of 96 clips by more than 0.2 LU), "
    "and runs one ffmpeg process per file (12.3 s for the demo's 84 source files, against "
    "0.8 s decoded and measured in-process)."
)


def meter_card_text(meter: str) -> str:
    """The dataset card's sentence on the loudness meter; empty for v1's meter, whose cards
    are published as they are."""
    return "" if meter == LOUDNORM_METER else METER_CHANGE


def measure_loudness(
    path: Path,
    meter: str,
    *,
    dual_mono: bool = False,
    decoded: tuple[np.ndarray, int] | None = None,
) -> float:
    """Integrated loudness (LUFS) of ``path`` by ``meter``; ``-inf`` for silence.

    ``decoded`` (samples ``[frames, channels]``, rate) spares the BS.1770 meter a second
    decode of a file the caller has read; the loudnorm meter always reads the file itself.
    """
    if meter == LOUDNORM_METER:
        return measure_integrated_loudness(path, dual_mono=dual_mono)
    if meter != BS1770_METER:
        raise UserError(f"unknown loudness meter {meter!r} (known: {', '.join(METERS)})")
    samples, rate = decoded if decoded is not None else read_audio(path)
    try:
        return bs1770.integrated_loudness(samples, rate, dual_mono=dual_mono)
    except ValueError as error:
        raise UserError(f"cannot measure loudness of {path}: {error}") from None


@functools.cache
def ensure_ffmpeg_path() -> str:
    """Point ffmpeg-normalize at imageio-ffmpeg's binary, once per process; returns the path.

    ``FFMPEG_PATH`` is ffmpeg-normalize's only way to be told where ffmpeg is; a value the
    user set is kept.
    """
    path = ffmpeg_executable()
    os.environ.setdefault("FFMPEG_PATH", path)
    return path


def measure_integrated_loudness(
    path: Path, *, dual_mono: bool = False, target_lufs: float = TARGET_LUFS
) -> float:
    """Integrated loudness (LUFS) of the first audio stream of ``path``.

    ``dual_mono`` measures a mono file as if it played on two channels (+3 LU),
    as ffmpeg's loudnorm ``dual_mono`` option does (EBU R128 / ITU-R BS.1770).
    Silence gives ``-inf``.

    This is ffmpeg-normalize's first loudnorm pass (its stream lookup, filter string and
    statistics parser), but ffmpeg runs through ``subprocess.run``, which reads all of its
    output: ffmpeg-normalize's progress reader stops at the first blank line once ffmpeg
    has exited, so on a loaded machine it sometimes loses the statistics (about 1 run in
    150 with 12 at once), and a plan would then drop a usable file.
    """
    ensure_ffmpeg_path()
    from ffmpeg_normalize import FFmpegNormalize
    from ffmpeg_normalize._media_file import MediaFile
    from ffmpeg_normalize._streams import AudioStream

    logging.getLogger("ffmpeg_normalize").setLevel(logging.ERROR)
    normalizer = FFmpegNormalize(
        normalization_type="ebu", target_level=target_lufs, dual_mono=dual_mono
    )
    try:
        media = MediaFile(normalizer, str(path), os.devnull + ".wav")
        streams = list(media.streams["audio"].values())
    except Exception as error:  # ffmpeg-normalize raises its own error types and RuntimeError
        raise UserError(f"cannot measure loudness of {path}: {_first_line(error)}") from error
    if not streams:
        raise UserError(f"no audio stream in {path}")
    result = subprocess.run(
        _first_pass_command(normalizer, streams[0]), capture_output=True, check=False
    )
    output = result.stderr.decode("utf-8", errors="replace")
    statistics = (
        AudioStream.prune_and_parse_loudnorm_output(output) if result.returncode == 0 else {}
    )
    if not statistics:
        tail = output.strip().splitlines()[-1:] or [f"exit status {result.returncode}"]
        raise UserError(
            f"cannot measure loudness of {path}: ffmpeg loudnorm gave no statistics ({tail[0]})"
        )
    measured = float(next(iter(statistics.values()))["input_i"])
    return -math.inf if measured <= -70.0 else measured


def _first_pass_command(normalizer, stream) -> list[str]:
    """The ffmpeg command of ffmpeg-normalize's first pass (``AudioStream.parse_loudnorm_stats``)."""
    from ffmpeg_normalize._cmd_utils import dict_to_filter_opts

    opts = {
        "i": normalizer.target_level,
        "lra": normalizer.loudness_range_target,
        "tp": normalizer.true_peak,
        "offset": normalizer.offset,
        "print_format": "json",
    }
    if normalizer.dual_mono:
        opts["dual_mono"] = "true"
    loudnorm = stream._get_filter_str_with_pre_filter("loudnorm=" + dict_to_filter_opts(opts))
    return [
        normalizer.ffmpeg_exe,
        "-hide_banner",
        "-y",
        "-nostdin",
        "-i",
        stream.media_file.input_file,
        "-map",
        f"0:{stream.stream_id}",
        "-filter_complex",
        loudnorm,
        "-vn",
        "-sn",
        "-f",
        "null",
        os.devnull,
    ]


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else repr(error)


def gain_to_target(loudness_lufs: float, target_lufs: float = TARGET_LUFS) -> float:
    """The linear gain in dB that brings ``loudness_lufs`` to ``target_lufs``.

    Integrated loudness is linear in signal gain, so ``L(g * x) = L(x) + 20 log10 g``.
    """
    if not math.isfinite(loudness_lufs):
        raise ValueError("cannot normalise a silent signal")
    return round(target_lufs - loudness_lufs, 4)

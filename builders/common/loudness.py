"""EBU R128 integrated loudness, measured with ffmpeg-normalize's loudnorm first pass.

ffmpeg comes from the ``imageio-ffmpeg`` wheel; ffmpeg-normalize finds it through
``FFMPEG_PATH``. Normalisation in this toolkit is a pure linear gain
(``gain_db = target - measured``) applied at render time, never loudnorm's dynamic mode.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import subprocess
from pathlib import Path

from builders.errors import UserError

TARGET_LUFS = -23.0


def ffmpeg_executable() -> str:
    """The ffmpeg binary shipped by imageio-ffmpeg (or ``FFMPEG_PATH`` when set)."""
    configured = os.environ.get("FFMPEG_PATH")
    if configured:
        return configured
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


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

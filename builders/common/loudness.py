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


def measure_integrated_loudness(path: Path, *, dual_mono: bool = False, target_lufs: float = TARGET_LUFS) -> float:
    """Integrated loudness (LUFS) of the first audio stream of ``path``.

    ``dual_mono`` measures a mono file as if it played on two channels (+3 LU),
    as ffmpeg's loudnorm ``dual_mono`` option does (EBU R128 / ITU-R BS.1770).
    Silence gives ``-inf``.
    """
    ensure_ffmpeg_path()
    from ffmpeg_normalize import FFmpegNormalize
    from ffmpeg_normalize._media_file import MediaFile

    logging.getLogger("ffmpeg_normalize").setLevel(logging.ERROR)
    normalizer = FFmpegNormalize(normalization_type="ebu", target_level=target_lufs, dual_mono=dual_mono)
    try:
        media = MediaFile(normalizer, str(path), os.devnull + ".wav")
        streams = list(media.streams["audio"].values())
        if not streams:
            raise UserError(f"no audio stream in {path}")
        stream = streams[0]
        for _ in stream.parse_loudnorm_stats():
            pass
    except UserError:
        raise
    except Exception as error:  # ffmpeg-normalize raises its own error types and RuntimeError
        raise UserError(f"cannot measure loudness of {path}: {str(error).splitlines()[0] if str(error) else error!r}") from error
    measured = float(stream.loudness_statistics["ebu_pass1"]["input_i"])
    return -math.inf if measured <= -70.0 else measured


def gain_to_target(loudness_lufs: float, target_lufs: float = TARGET_LUFS) -> float:
    """The linear gain in dB that brings ``loudness_lufs`` to ``target_lufs``.

    Integrated loudness is linear in signal gain, so ``L(g * x) = L(x) + 20 log10 g``.
    """
    if not math.isfinite(loudness_lufs):
        raise ValueError("cannot normalise a silent signal")
    return round(target_lufs - loudness_lufs, 4)

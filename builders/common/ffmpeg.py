"""Where the ffmpeg binary is: the one shipped by imageio-ffmpeg, or ``FFMPEG_PATH``."""

from __future__ import annotations

import os


def ffmpeg_executable() -> str:
    """The ffmpeg binary shipped by imageio-ffmpeg (or ``FFMPEG_PATH`` when set)."""
    configured = os.environ.get("FFMPEG_PATH")
    if configured:
        return configured
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()

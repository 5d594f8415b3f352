"""Source files in every format real corpora come in, encoded by the bundled ffmpeg.

Short synthetic signals piped to ffmpeg as 32-bit float; the encoder settings are the
common ones (LAME CBR 128k or VBR ``-q:a``, Vorbis ``-q:a 4``, Opus 96k, AAC 128k).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf

from builders.common.ffmpeg import ffmpeg_executable
from tests.builders.real_audio import espeak_or_skip

CODECS: dict[str, list[str]] = {
    ".mp3": ["-c:a", "libmp3lame", "-b:a", "128k"],
    ".ogg": ["-c:a", "libvorbis", "-q:a", "4"],
    ".opus": ["-c:a", "libopus", "-b:a", "96k"],
    ".m4a": ["-c:a", "aac", "-b:a", "128k"],
    ".aac": ["-c:a", "aac", "-b:a", "128k", "-f", "adts"],
    ".webm": ["-c:a", "libopus", "-b:a", "96k"],
    ".flac": ["-c:a", "flac"],
    ".wav": ["-c:a", "pcm_s16le"],
}
NEW_SUFFIXES = (".m4a", ".aac", ".ogg", ".opus", ".webm")


def tone(seconds: float, rate: int, channels: int = 2, freq: float = 440.0) -> np.ndarray:
    """A sine with a little noise, float32 ``[frames, channels]`` at -12 dBFS or so."""
    t = np.arange(int(round(seconds * rate))) / rate
    rng = np.random.default_rng(int(freq))
    mono = 0.25 * np.sin(2 * np.pi * freq * t) + 0.01 * rng.standard_normal(len(t))
    return np.repeat(mono[:, None], channels, axis=1).astype(np.float32)


def encode(path: Path, signal: np.ndarray, rate: int, *args: str, inputs: tuple = ()) -> Path:
    """Write ``signal`` to ``path`` with ffmpeg (codec by suffix unless ``args`` names one).

    ``inputs`` are further ffmpeg input arguments (e.g. a cover picture) placed after the
    audio input; ``args`` come before the output name.
    """
    path = Path(path)
    codec = [] if "-c:a" in args else CODECS[path.suffix.lower()]
    command = [
        ffmpeg_executable(),
        "-nostdin",
        "-v",
        "error",
        "-f",
        "f32le",
        "-ar",
        str(rate),
        "-ac",
        str(signal.shape[1]),
        "-i",
        "-",
        *inputs,
        *codec,
        *args,
        "-y",
        str(path),
    ]
    data = np.ascontiguousarray(signal, dtype="<f4").tobytes()
    result = subprocess.run(command, input=data, capture_output=True, check=False)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return path


def cover_picture(folder: Path) -> Path:
    """A 300x300 PNG test card (the cover art real MP3s carry)."""
    path = Path(folder) / "cover.png"
    command = [ffmpeg_executable(), "-nostdin", "-v", "error", "-f", "lavfi"]
    command += ["-i", "testsrc=size=300x300", "-frames:v", "1", "-y", str(path)]
    subprocess.run(command, check=True, capture_output=True)
    return path


def mp3_with_cover(path: Path, signal: np.ndarray, rate: int, *codec: str) -> Path:
    """An MP3 with an ID3v2.3 tag (title, artist) and an attached picture, as shops sell them."""
    picture = cover_picture(Path(path).parent)
    inputs = ("-i", str(picture))
    args = ["-map", "0:a", "-map", "1:v", "-c:v", "copy", "-disposition:v", "attached_pic"]
    args += ["-id3v2_version", "3", "-metadata", "title=Song", "-metadata", "artist=Band"]
    return encode(path, signal, rate, *(codec or CODECS[".mp3"]), *args, inputs=inputs)


def espeak_speech(
    folder: Path, text: str, *options: str, name: str = "speech"
) -> tuple[np.ndarray, int]:
    """``text`` spoken by espeak-ng with its ``options`` (``-s 90``: slow; ``-a 30``: quiet) as
    mono float32 at 22.05 kHz; skips without espeak-ng unless MISME_REQUIRE_ESPEAK=1, when
    its absence fails the test."""
    executable = espeak_or_skip()
    path = Path(folder) / f"{name}.wav"
    subprocess.run([executable, *options, "-w", str(path), text], check=True, capture_output=True)
    data, rate = sf.read(path, dtype="float32", always_2d=True)
    return data, rate

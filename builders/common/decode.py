"""Decoding source audio, with the true reason when a file cannot be used.

WAV, FLAC and MP3 go through libsndfile exactly as they always did (``sf.read`` to float32),
so v1 builds keep every byte; the other formats of
:data:`~builders.common.audio_formats.SOURCE_FORMATS` through ffmpeg (imageio-ffmpeg's
binary: the first audio stream, its own rate and channels, as 32-bit float WAV on a pipe;
cover art and other streams are ignored). The decoders' own messages (libmpg123's "Note:
Illegal Audio-MPEG-Header" lines, ffmpeg's log) are captured, never left on stderr.

:func:`decode_source` (the plan's probes) refuses a file with a one-line reason:
``cannot decode: <why>`` (not audio, a damaged stream), ``truncated: decoded N of M
expected s`` (shorter than its header declares: a WAV ``data`` chunk, an MP3's Xing/Info
frame count, FLAC STREAMINFO, an MP4/WebM duration; an Ogg stream without its last page).
:func:`decode_audio` (the render) decodes the same way without those checks.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from builders.common.audio_formats import source_format
from builders.common.ffmpeg import ffmpeg_executable

MP3_TOLERANCE_FRAMES = 2 * 1152  # an encoder's Xing count may be off by a frame or two
DURATION_TOLERANCE_S = 0.05  # ffmpeg prints durations to 0.01 s
_CAPTURE = threading.Lock()
_LOG_LINE = re.compile(r"\[(warning|error|fatal|panic)\] (.*)")
_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")


class DecodeProblem(ValueError):
    """A source file that cannot be used; ``str()`` is the one-line reason."""


@dataclass(frozen=True)
class Decoded:
    """A decoded file: float32 ``[frames, channels]``, its rate, the frame count its header
    declares (None: none declared), the decoder's messages, and whether the file itself is
    cut short (an MP3 shorter than its Xing byte count, an Ogg stream without its last page)."""

    data: np.ndarray
    rate: int
    declared_frames: int | None = None
    messages: tuple[str, ...] = ()
    cut_short: bool = False


def decode_audio(path: Path | str) -> tuple[np.ndarray, int]:
    """Decode ``path`` as float32 ``[frames, channels]`` and its rate; DecodeProblem if unreadable."""
    decoded = _decode(Path(path))
    return decoded.data, decoded.rate


def decode_source(path: Path | str) -> tuple[np.ndarray, int]:
    """:func:`decode_audio`, refusing empty, truncated and damaged files with the true reason."""
    path = Path(path)
    decoded = _decode(path)
    frames, rate = len(decoded.data), decoded.rate
    if frames == 0:
        raise DecodeProblem("audio file has no samples")
    declared = decoded.declared_frames
    if declared is not None and frames < declared - _tolerance(path, rate):
        if decoded.messages and not decoded.cut_short and not _is_ffmpeg(path):
            raise DecodeProblem(
                f"cannot decode: {decoded.messages[0]} (decoding stopped at "
                f"{frames / rate:.3f} of {declared / rate:.3f} s)"
            )
        raise DecodeProblem(
            f"truncated: decoded {frames / rate:.3f} of {declared / rate:.3f} expected s"
        )
    if decoded.cut_short and _is_ogg(path):
        raise DecodeProblem(
            f"truncated: decoded {frames / rate:.3f} s, the Ogg stream ends without its last page"
        )
    if decoded.messages and _is_ffmpeg(path):
        raise DecodeProblem(f"cannot decode: {decoded.messages[0]}")
    return decoded.data, rate


def _tolerance(path: Path, rate: int) -> int:
    suffix = path.suffix.lower()
    if suffix == ".mp3":
        return MP3_TOLERANCE_FRAMES
    return int(round(DURATION_TOLERANCE_S * rate)) if _is_ffmpeg(path) else 0


def _is_ffmpeg(path: Path) -> bool:
    fmt = source_format(path)
    return fmt is not None and fmt.decoder == "ffmpeg"


def _decode(path: Path) -> Decoded:
    if not path.is_file():
        raise DecodeProblem(f"cannot decode: no such file {path}")
    if path.stat().st_size == 0:
        raise DecodeProblem("cannot decode: the file is empty (0 bytes)")
    return _decode_ffmpeg(path) if _is_ffmpeg(path) else _decode_libsndfile(path)


# ---------------------------------------------------------------- libsndfile: WAV, FLAC, MP3


@contextmanager
def captured_stderr() -> Iterator[list[str]]:
    """Collect what C libraries write to file descriptor 2 (libmpg123 writes there directly)
    into the yielded list, instead of the terminal. One capture at a time per process."""
    lines: list[str] = []
    with _CAPTURE, tempfile.TemporaryFile() as sink:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):  # no fd 2: nothing to protect
            yield lines
            return
        os.dup2(sink.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            text = sink.read().decode("utf-8", errors="replace")
            lines.extend(line.strip() for line in text.splitlines() if line.strip())


def _decode_libsndfile(path: Path) -> Decoded:
    failure = None
    with captured_stderr() as messages:
        try:  # what sf.read(path, dtype="float32", always_2d=True) does, keeping the header
            with sf.SoundFile(str(path)) as handle:
                kind, header_frames, rate = handle.format, handle.frames, handle.samplerate
                data = handle.read(dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError, OSError) as error:
            failure = error
    notes = tuple(_mpg123_note(message) for message in messages)
    if failure is not None:
        raise DecodeProblem(_libsndfile_reason(path, failure, notes))
    declared, cut_short = _declared_frames(path, kind, header_frames)
    return Decoded(data, int(rate), declared, notes, cut_short)


def _libsndfile_reason(path: Path, error: BaseException, notes: tuple[str, ...]) -> str:
    """Why libsndfile refused a file that exists (its own text says "File does not exist")."""
    xing = mp3_xing(path) if path.suffix.lower() == ".mp3" else None
    if xing and xing.declared_bytes and xing.available_bytes < xing.declared_bytes:
        return (
            f"truncated: {xing.available_bytes} of the {xing.declared_bytes} bytes its Xing "
            "header declares, no audio could be decoded"
        )
    text = getattr(error, "error_string", "") or str(error)
    text = text.strip().removeprefix("Error :").strip().rstrip(".")
    fmt = source_format(path)
    kind = fmt.name if fmt else path.suffix or "audio"
    if not text or "does not exist" in text:  # libsndfile's words for "no decoder took it"
        text = f"not a readable {kind} file"
    elif "not recognised" in text.lower():
        text = f"not a readable {kind} file ({text[0].lower()}{text[1:]})"
    return "cannot decode: " + text + (f" ({notes[0]})" if notes else "")


def _mpg123_note(message: str) -> str:
    return message.removeprefix("Note:").removeprefix("Warning:").strip().rstrip(".")


def _declared_frames(path: Path, kind: str, header_frames: int) -> tuple[int | None, bool]:
    """(frames the header declares, whether the file is shorter than its header says).

    An MP3's length is exact only with a Xing/Info header (then libmpg123 reports it, encoder
    delay and padding removed); without one it is an estimate from the file size.
    """
    if kind in ("WAV", "WAVEX"):
        return wav_declared_frames(str(path)), False
    if kind == "FLAC":
        return (int(header_frames) or None), False
    if kind == "MP3" and (xing := mp3_xing(path)) is not None:
        cut = xing.declared_bytes is not None and xing.available_bytes < xing.declared_bytes
        return int(header_frames), cut
    return None, False


def wav_declared_frames(path: str) -> int | None:
    """The frame count a RIFF/WAVE header's ``data`` chunk declares (None if unreadable).

    libsndfile reads a cut-off WAV as a shorter clip without a word; the header still
    says how long it should be.
    """
    try:
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
    except OSError:
        return None
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    position, block_align = 12, None
    while position + 8 <= len(head):
        chunk, size = (
            head[position : position + 4],
            int.from_bytes(head[position + 4 : position + 8], "little"),
        )
        if chunk == b"fmt " and position + 22 <= len(head):
            block_align = int.from_bytes(head[position + 20 : position + 22], "little")
        if chunk == b"data":
            return size // block_align if block_align else None
        position += 8 + size + (size & 1)
    return None


@dataclass(frozen=True)
class XingHeader:
    """An MP3's Xing/Info header (LAME writes one for CBR and VBR): the stream's declared size."""

    declared_frames: int
    declared_bytes: int | None
    available_bytes: int  # from the first MPEG frame to the end of the file


def mp3_xing(path: Path) -> XingHeader | None:
    """The Xing/Info header of the first MPEG audio frame (after an ID3v2 tag), if any."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(10)
            start = _id3v2_size(head)
            handle.seek(start)
            frame = handle.read(256)
            size = os.fstat(handle.fileno()).st_size
    except OSError:
        return None
    if len(frame) < 4 or frame[0] != 0xFF or frame[1] & 0xE0 != 0xE0:
        return None
    mpeg1 = (frame[1] >> 3) & 0x3 == 0x3
    mono = (frame[3] >> 6) & 0x3 == 0x3
    offset = 4 + ((17 if mono else 32) if mpeg1 else (9 if mono else 17))
    tag = frame[offset : offset + 4]
    if tag not in (b"Xing", b"Info") or len(frame) < offset + 16:
        return None
    flags = int.from_bytes(frame[offset + 4 : offset + 8], "big")
    if not flags & 0x1:
        return None
    position = offset + 8
    frames = int.from_bytes(frame[position : position + 4], "big")
    declared_bytes = None
    if flags & 0x2:
        declared_bytes = int.from_bytes(frame[position + 4 : position + 8], "big")
    return XingHeader(frames, declared_bytes, size - start)


def _id3v2_size(head: bytes) -> int:
    """Bytes taken by an ID3v2 tag at the start of a file (0 without one)."""
    if len(head) < 10 or head[:3] != b"ID3":
        return 0
    size = 0
    for byte in head[6:10]:
        size = (size << 7) | (byte & 0x7F)
    footer = 10 if head[5] & 0x10 else 0
    return 10 + size + footer


# ---------------------------------------------------------------- ffmpeg: the other formats


@functools.cache
def ffmpeg_version() -> str:
    """The version of the ffmpeg binary that decodes (``ffmpeg -version``'s first line)."""
    try:
        result = subprocess.run(
            [ffmpeg_executable(), "-hide_banner", "-version"],
            capture_output=True,
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    first = result.stdout.decode("utf-8", errors="replace").partition("\n")[0].split()
    return first[2] if len(first) > 2 and first[:2] == ["ffmpeg", "version"] else "unknown"


def ffmpeg_command(path: Path) -> list[str]:
    """ffmpeg decoding the first audio stream of ``path`` to 32-bit float WAV on stdout."""
    return [
        ffmpeg_executable(),
        "-nostdin",
        "-hide_banner",
        "-nostats",
        "-loglevel",
        "level+info",
        "-threads",
        "1",
        "-i",
        str(path),
        "-map",
        "0:a:0",
        "-map_metadata",
        "-1",
        "-fflags",
        "+bitexact",
        "-c:a",
        "pcm_f32le",
        "-f",
        "wav",
        "-",
    ]


def _decode_ffmpeg(path: Path) -> Decoded:
    try:
        result = subprocess.run(ffmpeg_command(path), capture_output=True, check=False)
    except OSError as error:
        raise DecodeProblem(
            f"cannot decode: ffmpeg cannot run ({error.strerror or error})"
        ) from None
    log = result.stderr.decode("utf-8", errors="replace")
    errors = _log_errors(log)
    if result.returncode != 0 or not result.stdout:
        no_audio = "matches no streams" in log or not errors
        raise DecodeProblem(f"cannot decode: {_no_audio(log) if no_audio else errors[0]}")
    data, rate = _float_wav(result.stdout)
    duration = _declared_duration(log)
    declared = None if duration is None else int(round(duration * rate))
    cut_short = _is_ogg(path) and not _ogg_ends(path)
    return Decoded(data, rate, declared, tuple(errors), cut_short)


def _log_errors(log: str) -> list[str]:
    """ffmpeg's error lines (warnings left out), without the ``[component @ 0x...]`` prefix."""
    found = []
    for line in log.splitlines():
        match = _LOG_LINE.search(line)
        if match and match.group(1) != "warning":
            found.append(match.group(2).strip())
    return found


def _no_audio(log: str) -> str:
    if "matches no streams" in log or "does not contain any stream" in log:
        return "no audio stream in the file"
    return "ffmpeg decoded no audio"


def _declared_duration(log: str) -> float | None:
    """The container's duration (None when unknown or only estimated from the bitrate)."""
    if "Estimating duration from bitrate" in log:
        return None
    match = _DURATION.search(log)
    if not match:
        return None
    hours, minutes, seconds = match.groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _float_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Samples and rate of the 32-bit float WAV ffmpeg wrote (its sizes unset on a pipe)."""
    position, channels, rate = 12, 0, 0
    while position + 8 <= len(data):
        chunk = data[position : position + 4]
        size = int.from_bytes(data[position + 4 : position + 8], "little")
        if chunk == b"fmt ":
            channels = int.from_bytes(data[position + 10 : position + 12], "little")
            rate = int.from_bytes(data[position + 12 : position + 16], "little")
        if chunk == b"data":
            payload = data[position + 8 :]
            usable = len(payload) - len(payload) % (4 * max(channels, 1))
            samples = np.frombuffer(payload[:usable], dtype="<f4").astype(np.float32)
            return samples.reshape(-1, channels), rate
        position += 8 + size + (size & 1)
    raise DecodeProblem("cannot decode: ffmpeg wrote no audio data")


def _is_ogg(path: Path) -> bool:
    return path.suffix.lower() in (".ogg", ".opus")


def _ogg_ends(path: Path) -> bool:
    """True when the file ends with a whole Ogg page that has the end-of-stream flag (a cut
    file ends inside a page, or without the last one)."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            handle.seek(max(0, size - 65536 - 27))
            tail = handle.read()
    except OSError:
        return False
    position = tail.rfind(b"OggS")
    if position < 0 or position + 27 > len(tail) or not tail[position + 5] & 0x04:
        return False
    segments = tail[position + 26]
    lacing = tail[position + 27 : position + 27 + segments]
    return len(lacing) == segments and position + 27 + segments + sum(lacing) == len(tail)

"""Audio input/output shared by the builders: decode, resample, quantise, checksum, write.

Conventions (docs/architecture.md, render rule): arrays are float32 ``[frames, channels]``;
resampling uses the SoX resampler (python-soxr, quality "HQ"); clips are written as
16-bit PCM (FLAC or WAV) with ``np.rint(x * 32767)``, no dither; a clip's checksum is the
sha256 of its int16 PCM, interleaved, little-endian. What a dataset writes (rate,
channels, format) is its :class:`OutputSpec`, declared once by the dataset.
"""

from __future__ import annotations

import errno
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from builders.common.atomic import atomic_file
from builders.common.decode import DecodeProblem, decode_audio
from builders.common.hashing import file_sha256
from builders.errors import UserError

FULL_SCALE = 32767
FORMATS = {"flac": "FLAC", "wav": "WAV"}
SAMPLE_RATES = (16000, 22050, 44100, 48000)
CHANNEL_COUNTS = (1, 2)


@dataclass(frozen=True)
class OutputSpec:
    """What every clip of a dataset is: sample rate, channel count, file format (16-bit PCM)."""

    sample_rate: int
    channels: int
    audio_format: str = "flac"

    def __post_init__(self) -> None:
        if self.sample_rate not in SAMPLE_RATES:
            raise UserError(
                f"unsupported sample rate {self.sample_rate} Hz "
                f"(supported: {', '.join(map(str, SAMPLE_RATES))})"
            )
        if self.channels not in CHANNEL_COUNTS:
            raise UserError(f"unsupported channel count {self.channels} (mono or stereo output)")
        if self.audio_format not in FORMATS:
            raise UserError(f"unsupported audio format {self.audio_format!r} (flac or wav)")

    @property
    def suffix(self) -> str:
        return f".{self.audio_format}"

    def describe(self) -> str:
        """E.g. ``44.1 kHz stereo 16-bit FLAC``."""
        layout = "mono" if self.channels == 1 else "stereo"
        return f"{self.sample_rate / 1000:g} kHz {layout} 16-bit {self.audio_format.upper()}"


def check_source(path: Path, expected_sha256: str) -> None:
    """Raise UserError naming ``path`` when it is missing or differs from the planned sha256."""
    if not Path(path).is_file():
        raise UserError(f"source file missing: {path} (re-plan if the corpus moved)")
    actual = file_sha256(path)
    if actual != expected_sha256:
        raise UserError(
            f"source file changed since planning: {path} (sha256 {actual[:12]}..., "
            f"manifest {expected_sha256[:12]}...); restore it or re-plan"
        )


def read_audio(path: Path) -> tuple[np.ndarray, int]:
    """Decode a source file of any :data:`~builders.common.audio_formats.SOURCE_FORMATS` as
    float32 ``[frames, channels]`` (WAV, FLAC, MP3 by libsndfile, the others by ffmpeg)."""
    try:
        return decode_audio(path)
    except DecodeProblem as error:
        raise UserError(f"{path}: {error}") from error


def resample(x: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Resample float32 ``[frames, channels]`` with soxr (HQ); identity when already at target."""
    if rate == target:
        return x
    return np.ascontiguousarray(soxr.resample(x, rate, target, quality="HQ"), dtype=np.float32)


def resampled_length(frames: int, rate: int, target: int) -> int:
    """The frame count of ``frames`` at ``rate`` after resampling to ``target``."""
    return int(frames) if int(rate) == target else int(round(int(frames) * target / int(rate)))


def fit_length(x: np.ndarray, frames: int) -> np.ndarray:
    """Trim or zero-pad ``x`` to exactly ``frames`` frames."""
    if len(x) >= frames:
        return x[:frames]
    pad = np.zeros((frames - len(x), x.shape[1]), dtype=x.dtype)
    return np.concatenate([x, pad])


def db_to_gain(gain_db: float) -> np.float32:
    """Linear float32 factor for a gain in dB."""
    return np.float32(10.0 ** (float(gain_db) / 20.0))


def to_stereo(x: np.ndarray) -> np.ndarray:
    """Mono -> both channels; stereo unchanged; more channels is a user error."""
    if x.shape[1] == 1:
        return np.repeat(x, 2, axis=1)
    if x.shape[1] == 2:
        return x
    raise UserError(f"unsupported channel count {x.shape[1]} (mono or stereo sources only)")


def to_mono(x: np.ndarray) -> np.ndarray:
    """The channel mean as ``[frames, 1]`` float32 (mono unchanged)."""
    if x.shape[1] == 1:
        return x
    return np.ascontiguousarray(x.mean(axis=1, dtype=np.float32)[:, None])


def to_channels(x: np.ndarray, channels: int) -> np.ndarray:
    """``x`` with the output's channel count: mono/stereo duplicated or averaged."""
    return to_stereo(x) if channels == 2 else to_mono(x)


def peak_normalise(x: np.ndarray) -> tuple[np.ndarray, float]:
    """Scale the whole clip by 1/peak when its peak exceeds full scale; return (clip, gain_db <= 0)."""
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak <= 1.0:
        return x, 0.0
    gain = np.float32(1.0 / peak)
    return x * gain, float(20.0 * np.log10(float(gain)))


def quantise(x: np.ndarray, *, overwrite: bool = False) -> np.ndarray:
    """float32 in [-1, 1] -> int16 by ``np.rint(x * 32767)``, no dither.

    The caller keeps peaks <= 1.0 (see :func:`peak_normalise`); the final clip only guards
    against float rounding of a peak that is exactly full scale. ``overwrite=True`` lets a
    caller that owns a float32 ``x`` have it used as scratch space (same result, no copy).
    """
    scaled = x if overwrite and x.dtype == np.float32 and x.flags.writeable else None
    scaled = np.multiply(x, np.float32(FULL_SCALE), out=scaled, dtype=np.float32)
    np.rint(scaled, out=scaled)
    np.clip(scaled, -FULL_SCALE - 1, FULL_SCALE, out=scaled)
    return scaled.astype("<i2")


def pcm_sha256(pcm: np.ndarray) -> str:
    """sha256 of int16 PCM, interleaved frames, little-endian."""
    return hashlib.sha256(np.ascontiguousarray(pcm, dtype="<i2")).hexdigest()


def encode(pcm: np.ndarray, spec: OutputSpec) -> bytes:
    """Encode int16 PCM as a 16-bit FLAC or WAV file in memory."""
    buffer = io.BytesIO()
    sf.write(buffer, pcm, spec.sample_rate, format=FORMATS[spec.audio_format], subtype="PCM_16")
    return buffer.getvalue()


def encode_clip(pcm: np.ndarray, spec: OutputSpec, name: str) -> bytes:
    """:func:`encode` of a rendered clip ``name``, its channels checked against ``spec``."""
    if pcm.shape[1] != spec.channels:
        raise ValueError(f"{name}: {pcm.shape[1]} channels, the output spec says {spec.channels}")
    try:
        return encode(pcm, spec)
    except (sf.LibsndfileError, RuntimeError) as error:
        raise OSError(errno.EIO, str(error), name) from error


def write_clip(path: Path, pcm: np.ndarray, spec: OutputSpec) -> str:
    """Write int16 PCM atomically in the output's format and rate; return its :func:`pcm_sha256`.

    libsndfile encodes straight into the temporary file (the same bytes as :func:`encode`,
    without a Python callback per block), which is then renamed into place.
    """
    if pcm.shape[1] != spec.channels:
        raise ValueError(f"{path}: {pcm.shape[1]} channels, the output spec says {spec.channels}")
    with atomic_file(Path(path)) as tmp:
        try:
            sf.write(
                str(tmp), pcm, spec.sample_rate, format=FORMATS[spec.audio_format], subtype="PCM_16"
            )
        except (
            sf.LibsndfileError,
            RuntimeError,
        ) as error:  # e.g. "System error: No space left on device"
            raise OSError(errno.EIO, str(error), str(path)) from error
    return pcm_sha256(pcm)


def decode_pcm(data: bytes | Path) -> tuple[np.ndarray, int]:
    """Decode a 16-bit clip (bytes or path) to int16 ``[frames, channels]`` and its rate."""
    source = io.BytesIO(data) if isinstance(data, bytes | bytearray) else str(data)
    pcm, rate = sf.read(source, dtype="int16", always_2d=True)
    return pcm, int(rate)


def clip_sha256(data: bytes | Path) -> str:
    """Checksum of an encoded clip recomputed from its decoded PCM."""
    return pcm_sha256(decode_pcm(data)[0])

"""The audio formats source corpora come in: one table that every reader and the decoder use.

WAV, FLAC and MP3 are decoded by libsndfile, as they always were (so v1 builds keep every
byte); the formats users hold from YouTube and streaming previews (M4A/AAC, Ogg Vorbis,
Opus, WebM) by ffmpeg (``builders.common.decode``).

When one clip is found in several files (``4.mp3`` and a converted ``4.m4a``), a reader keeps
one by :func:`preference_order` and lists the others as skipped, naming the kept file:

1. files in the formats the reader read before the new ones were added (its ``classic``
   suffixes: WAV for RAVDESS; WAV and MP3 for MiSME's DEAM and Soundtracks readers; WAV,
   MP3 and FLAC for the others) come first, the first by sorted path as always, so a v1
   build picks the same files;
2. then the other formats, lossless before lossy, in the order of :data:`SOURCE_FORMATS`
   (FLAC, WAV, MP3, M4A, AAC, Ogg, Opus, WebM), then by sorted path.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SourceFormat:
    """A source audio format: its file suffix, its name, lossless or not, and its decoder."""

    suffix: str
    name: str
    lossless: bool
    decoder: str  # "libsndfile" or "ffmpeg"


SOURCE_FORMATS: tuple[SourceFormat, ...] = (
    SourceFormat(".flac", "FLAC", True, "libsndfile"),
    SourceFormat(".wav", "WAV", True, "libsndfile"),
    SourceFormat(".mp3", "MP3", False, "libsndfile"),
    SourceFormat(".m4a", "M4A (AAC in MP4)", False, "ffmpeg"),
    SourceFormat(".aac", "AAC (ADTS)", False, "ffmpeg"),
    SourceFormat(".ogg", "Ogg Vorbis", False, "ffmpeg"),
    SourceFormat(".opus", "Opus", False, "ffmpeg"),
    SourceFormat(".webm", "WebM (Opus or Vorbis)", False, "ffmpeg"),
)
SOURCE_SUFFIXES: tuple[str, ...] = tuple(f.suffix for f in SOURCE_FORMATS)
CLASSIC_SUFFIXES: tuple[str, ...] = (".flac", ".mp3", ".wav")  # read before the others
_BY_SUFFIX = {f.suffix: f for f in SOURCE_FORMATS}


def source_format(path: Path | str) -> SourceFormat | None:
    """The format of ``path`` by its suffix (any case), or None when it is no source format."""
    return _BY_SUFFIX.get(Path(path).suffix.lower())


def is_source_audio(path: Path | str) -> bool:
    """True when ``path`` has one of :data:`SOURCE_SUFFIXES` (any case)."""
    return source_format(path) is not None


def suffixes_text(separator: str = ", ") -> str:
    """The accepted suffixes for messages: ``.flac, .wav, .mp3, ...``."""
    return separator.join(SOURCE_SUFFIXES)


def preference_key(
    path: Path, root: Path, classic: Iterable[str] = CLASSIC_SUFFIXES
) -> tuple[int, int, str]:
    """Sort key of the module's rule: classic formats by path, then the rest by format order."""
    suffix = path.suffix.lower()
    relative = path.relative_to(root).as_posix()
    if suffix in tuple(classic):
        return (0, 0, relative)
    fmt = _BY_SUFFIX.get(suffix)
    if fmt is None:  # not audio (RAVDESS's video files): last, by path
        return (3, 0, relative)
    return (1 if fmt.lossless else 2, SOURCE_FORMATS.index(fmt), relative)


def preference_order(
    paths: Iterable[Path], root: Path, classic: Iterable[str] = CLASSIC_SUFFIXES
) -> list[Path]:
    """``paths`` (below ``root``) in the order a reader meets them: the first file of a clip
    is the one it keeps (the module's rule)."""
    classic = tuple(classic)
    return sorted(paths, key=lambda path: preference_key(path, root, classic))

"""What the instrumental-MER demo corpora share: audio jobs for the engine, CSV text."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from builders.demo.audio_files import write_music
from builders.demo.music import synth_music


@dataclass(frozen=True)
class AudioJob:
    """One file to synthesise: where, which item (the random stream), labels on 1-9, length."""

    path: str
    seed: int
    item: str
    valence: float
    arousal: float
    duration_s: float
    music_format: str


def write_audio(job: AudioJob) -> str:
    """Synthesise and write one music file (an engine work unit); returns its path."""
    audio = synth_music(job.seed, job.item, job.valence, job.arousal, job.duration_s)
    write_music(Path(job.path), audio, job.music_format)
    return job.path


def csv_text(rows: list[list[str]], *, line_end: str = "\r\n", delimiter: str = ",") -> str:
    """``rows`` as CSV text (quoted where needed), CRLF line ends unless told otherwise."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=line_end, delimiter=delimiter)
    writer.writerows(rows)
    return buffer.getvalue()

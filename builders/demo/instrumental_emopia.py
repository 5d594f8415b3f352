"""The instrumental-MER demo's EMOPIA: piano-cover clips and ``label.csv``.

``EMOPIA/audio/Q<q>_<YouTube id>_<n>.mp3`` and ``EMOPIA/label.csv``: one video has seven
clips; one audio file carries another version's quadrant in its name. The performers reuse
the demo DEAM's artists and the Soundtracks' composers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from builders.common.seeding import rng_for
from builders.demo.instrumental_deam import ARTISTS
from builders.demo.instrumental_files import AudioJob, csv_text
from builders.demo.instrumental_soundtracks import COMPOSERS
from builders.demo.music import draw_valence_arousal


@dataclass(frozen=True)
class EmopiaClip:
    video: str
    segment: int
    quadrant: str  # label.csv's
    file_quadrant: str  # the audio file's name (another version's when they differ)
    duration_s: float
    title: str

    @property
    def label_name(self) -> str:
        return f"{self.quadrant}_{self.video}_{self.segment}"

    @property
    def file_name(self) -> str:
        return f"{self.file_quadrant}_{self.video}_{self.segment}"


def youtube_id(seed: int, index: int) -> str:
    """An 11-character YouTube-like id (letters, digits, ``_``, ``-``; the first two have both)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    digest = hashlib.sha256(f"{seed}-video-{index}".encode()).digest()
    text = "".join(alphabet[b % 64] for b in digest[:11])
    return text[:3] + ("_x-" if index < 2 else text[3:6]) + text[6:]


CLIPS_PER_VIDEO = (7, 2, 3, 2, 2, 3, 2, 2)


def emopia_clips(seed: int, n_videos: int) -> list[EmopiaClip]:
    """Clips of ``n_videos`` piano covers (one with seven clips), quadrants cycling per video."""
    clips = []
    for index in range(n_videos):
        video = youtube_id(seed, index)
        quadrant = f"Q{index % 4 + 1}"
        performer = ARTISTS[0] if index == 0 else COMPOSERS[(index + 1) % len(COMPOSERS)]
        title = f"{performer} - Piano Cover {index}"
        for segment in range(CLIPS_PER_VIDEO[index % len(CLIPS_PER_VIDEO)]):
            duration = float(
                np.round(
                    rng_for(seed, "instrumental-demo-emopia", f"{video}-{segment}").uniform(
                        17.0, 22.0
                    ),
                    2,
                )
            )
            file_quadrant = (
                "Q1" if (index, segment) == (1, 0) else quadrant
            )  # another version's name
            clips.append(EmopiaClip(video, segment, quadrant, file_quadrant, duration, title))
    return clips


def write_emopia(
    root: Path, seed: int, clips: list[EmopiaClip], music_format: str
) -> list[AudioJob]:
    (root / "audio").mkdir(parents=True)
    rows = [["ID", "4Q", "annotator"]] + [[c.label_name, c.quadrant[1], "demo"] for c in clips]
    (root / "label.csv").write_text(csv_text(rows, line_end="\n"), encoding="utf-8")
    jobs = []
    for clip in clips:
        valence, arousal = _quadrant_ratings(seed, clip)
        jobs.append(
            AudioJob(
                str(root / "audio" / f"{clip.file_name}.{music_format}"),
                seed,
                f"imer-emopia-{clip.label_name}",
                valence,
                arousal,
                clip.duration_s,
                music_format,
            )
        )
    return jobs


def _quadrant_ratings(seed: int, clip: EmopiaClip) -> tuple[float, float]:
    index = {"Q1": 0, "Q2": 1, "Q4": 2, "Q3": 3}[clip.quadrant]  # draw_valence_arousal's cycle
    return draw_valence_arousal(seed, "instrumental-emopia", clip.label_name, index, 2)

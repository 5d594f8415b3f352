"""The instrumental-MER demo's Soundtracks: sets 1 and 2 with their rating files.

``Soundtracks/Set1/NNN.mp3``, ``Set2/NNN.mp3``, ``mean_ratings_set1.csv`` and
``mean_ratings_set2.csv`` (BOM, CRLF, capitalised set-2 header with ``link``): two set-2
excerpts are copies of set-1 excerpts, one links a set-1 excerpt without audio; one excerpt
is too short for a clip.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from builders.common.seeding import rng_for
from builders.demo.instrumental_files import AudioJob, csv_text
from builders.demo.music import draw_valence_arousal
from builders.demo.sources import SOUNDTRACKS_SET1_COLUMNS, TARGETS

COMPOSERS = ("Hanna Vale", "Joel Brandt", "Ada Moreau", "Lumen Drift", "Rui Okada", "Sam Keller")


@dataclass(frozen=True)
class Excerpt:
    set_name: str  # set1 | set2
    number: int
    valence: float  # 1-9
    arousal: float
    duration_s: float
    composer: str
    link: int | None = None  # set 2: the set-1 number of the same excerpt
    audio: bool = True

    @property
    def item(self) -> str:
        return f"{self.set_name}-{self.number:03d}"


def soundtracks_excerpts(seed: int, n_set1: int, n_set2: int) -> list[Excerpt]:
    """Set-1 and set-2 excerpts; set 2's first two copy set-1 excerpts, its third links one
    without audio; the last set-1 excerpt is 8 s long (too short for a clip)."""
    rng = rng_for(seed, "instrumental-demo-soundtracks")
    numbers = sorted(int(n) for n in rng.choice(np.arange(1, 361), size=n_set1 + 1, replace=False))
    set1 = []
    for index, number in enumerate(numbers):
        valence, arousal = draw_valence_arousal(
            seed, "instrumental-soundtracks", f"set1-{number}", index, 2
        )
        duration = 8.0 if index == n_set1 - 1 else float(np.round(rng.uniform(15.5, 19.0), 2))
        set1.append(
            Excerpt(
                "set1",
                number,
                valence,
                arousal,
                duration,
                COMPOSERS[index % len(COMPOSERS)],
                audio=index < n_set1,
            )
        )
    set2 = []
    for index, number in enumerate(
        sorted(int(n) for n in rng.choice(np.arange(1, 111), size=n_set2, replace=False))
    ):
        if index < 3:
            original = set1[index] if index < 2 else set1[-1]  # set1[-1] has no audio
            set2.append(
                Excerpt(
                    "set2",
                    number,
                    original.valence,
                    original.arousal,
                    original.duration_s,
                    original.composer,
                    link=original.number,
                )
            )
            continue
        valence, arousal = draw_valence_arousal(
            seed, "instrumental-soundtracks", f"set2-{number}", index, 2
        )
        set2.append(
            Excerpt(
                "set2",
                number,
                valence,
                arousal,
                float(np.round(rng.uniform(12.0, 18.0), 2)),
                COMPOSERS[(index + 2) % len(COMPOSERS)],
            )
        )
    return set1 + set2


def write_soundtracks(
    root: Path, seed: int, excerpts: list[Excerpt], music_format: str
) -> list[AudioJob]:
    """Rating files of both sets; the audio jobs (a set-2 copy gets its set-1 original's audio)."""
    set1 = [e for e in excerpts if e.set_name == "set1"]
    set2 = [e for e in excerpts if e.set_name == "set2"]
    rows1 = [list(SOUNDTRACKS_SET1_COLUMNS)]
    rows1 += [
        [
            f"{e.number:03d}",
            f"{e.valence:.2f}",
            f"{e.arousal:.2f}",
            *_scales(seed, e.item, 6),
            _target(e),
        ]
        for e in set1
    ]
    rows2 = [
        [
            "Number",
            "Valence",
            "Energy",
            "Tension",
            "Anger",
            "Fear",
            "Happy",
            "Sad",
            "Tender",
            "Beauty",
            "Liking",
            "TARGET",
            "soundtrack",
            "link",
        ]
    ]
    rows2 += [
        [
            f"{e.number:03d}",
            f"{e.valence:.2f}",
            f"{e.arousal:.2f}",
            *_scales(seed, e.item, 8),
            _target(e),
            f"Demo Film {e.number}",
            "" if e.link is None else str(e.link),
        ]
        for e in set2
    ]
    root.mkdir(parents=True)
    for name, rows in (("mean_ratings_set1.csv", rows1), ("mean_ratings_set2.csv", rows2)):
        (root / name).write_bytes(b"\xef\xbb\xbf" + csv_text(rows).encode("utf-8"))
    jobs = []
    for excerpt in excerpts:
        if not excerpt.audio:
            continue
        folder = root / excerpt.set_name.capitalize()
        folder.mkdir(exist_ok=True)
        source = f"set1-{excerpt.link:03d}" if excerpt.link is not None else excerpt.item
        jobs.append(
            AudioJob(
                str(folder / f"{excerpt.number:03d}.{music_format}"),
                seed,
                f"imer-soundtracks-{source}",
                excerpt.valence,
                excerpt.arousal,
                excerpt.duration_s,
                music_format,
            )
        )
    return jobs


def _scales(seed: int, item: str, count: int) -> list[str]:
    return [
        f"{x:.2f}" for x in rng_for(seed, "instrumental-demo-scales", item).uniform(1.0, 7.5, count)
    ]


def _target(excerpt: Excerpt) -> str:
    return TARGETS[(excerpt.valence > 5, excerpt.arousal > 5)]

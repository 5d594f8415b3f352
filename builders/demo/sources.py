"""`misme-build demo-sources SRC`: synthetic RAVDESS, DEAM and Soundtracks copies.

The corpora are written in the on-disk formats of the real distributions, so the
real readers (``builders.corpora``) are exercised end to end:

- ``SRC/RAVDESS/Actor_XX/03-01-EE-II-SS-RR-AA.wav``: 48 kHz mono 16-bit speech-like
  clips (24 actors, odd = male; :mod:`builders.demo.speech`);
- ``SRC/DEAM/MEMD_audio/<song_id>.mp3`` (44.1 kHz stereo) and the static annotation
  CSVs (leading-space headers, CRLF, both file variants, a few rows without audio);
- ``SRC/Soundtracks/Set1/NNN.mp3`` and ``mean_ratings_set1.csv`` (BOM, CRLF).

The signals carry their labels after loudness normalisation: emotions change F0
level, range and jitter, speaking rate, breathiness, spectral tilt and consonant
strength; music valence sets the mode (major/minor), dissonance and register, music
arousal sets tempo, note density, brightness, attack and percussion
(:mod:`builders.demo.music`). Every draw comes from ``rng_for(seed, purpose, id)``, so the
same seed gives byte-identical files.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from builders.common.atomic import atomic_dir
from builders.common.seeding import rng_for
from builders.demo.audio_files import music_format_available, write_music
from builders.demo.music import MUSIC_RATE, draw_valence_arousal, synth_music
from builders.demo.speech import N_ACTORS, SPEECH_RATE, write_ravdess
from builders.errors import UserError

MARKER = ".misme-demo-sources.json"
DEAM_ANNOTATION_DIR = "annotations/annotations averaged per song/song_level"
DEAM_EXTRA_ANNOTATIONS = 3  # annotation rows without audio, as in partial downloads
SOUNDTRACKS_EXTRA_RATINGS = 2


# --------------------------------------------------------------------------- DEAM


def deam_song_ids(seed: int, count: int) -> tuple[list[int], list[int], list[int]]:
    """(ids in the 1_2000 file with audio, ids in the 2000_2058 file with audio, ids without audio)."""
    rng = rng_for(seed, "demo-deam-ids")
    late = min(2, count - 1) if count > 1 else 0
    early = rng.choice(
        np.arange(2, 2001), size=count - late + DEAM_EXTRA_ANNOTATIONS, replace=False
    )
    late_ids = sorted(int(i) for i in rng.choice(np.arange(2001, 2059), size=late, replace=False))
    early_ids = [int(i) for i in early]
    return sorted(early_ids[: count - late]), late_ids, sorted(early_ids[count - late :])


def deam_duration(seed: int, song_id: int, low: float, high: float) -> float:
    """Skewed towards short clips: mean about low + 10 s, capped at ``high``."""
    rng = rng_for(seed, "demo-deam-duration", str(song_id))
    return round(float(min(low + rng.gamma(1.3, (high - low) / 5), high)), 2)


def _csv_lines(rows: list[list[str]]) -> bytes:
    return "".join(",".join(row) + "\r\n" for row in rows).encode()


def _g(value: float) -> str:
    return f"{value:g}"


def write_deam(
    root: Path, seed: int, count: int, duration_range: tuple[float, float], music_format: str
) -> dict[str, int]:
    early, late, extra = deam_song_ids(seed, count)
    audio_dir = root / "MEMD_audio"
    audio_dir.mkdir(parents=True)
    labels = {}
    for index, song_id in enumerate(sorted(early + late + extra)):
        labels[song_id] = draw_valence_arousal(seed, "deam", str(song_id), index, 1)
    for song_id in early + late:
        duration = deam_duration(seed, song_id, *duration_range)
        audio = synth_music(seed, f"deam-{song_id}", *labels[song_id], duration)
        write_music(audio_dir / f"{song_id}.{music_format}", audio, music_format)
    write_deam_annotations(root / DEAM_ANNOTATION_DIR, seed, sorted(early + extra), late, labels)
    return {"files": len(early) + len(late), "annotations_without_audio": len(extra)}


def write_deam_annotations(
    folder: Path,
    seed: int,
    early: list[int],
    late: list[int],
    labels: dict[int, tuple[float, float]],
) -> None:
    """The two static annotation CSVs (1_2000, 2000_2058) of the songs, as DEAM writes them."""
    folder.mkdir(parents=True)
    header = ["song_id", " valence_mean", " valence_std", " arousal_mean", " arousal_std"]
    rows = [header]
    for song_id in early:
        rng = rng_for(seed, "demo-deam-std", str(song_id))
        v, a = labels[song_id]
        rows.append(
            [
                str(song_id),
                _g(v),
                _g(round(rng.uniform(0.5, 2.1), 2)),
                _g(a),
                _g(round(rng.uniform(0.5, 2.1), 2)),
            ]
        )
    (folder / "static_annotations_averaged_songs_1_2000.csv").write_bytes(_csv_lines(rows))
    late_header = [
        "song_id",
        " valence_mean",
        " valence_std",
        " valence_ max_mean",
        " valence_max_std",
        " valence_min_mean",
        " valence_min_std",
        " arousal_mean",
        " arousal_std",
        " arousal_max_mean",
        " arousal_max_std",
        " arousal_min_mean",
        " arousal_min_std",
    ]
    rows = [late_header]
    for song_id in late:
        rng = rng_for(seed, "demo-deam-std", str(song_id))
        v, a = labels[song_id]
        spread = rng.uniform(0.5, 2.0, 10).round(2)
        rows.append(
            [str(song_id)]
            + [
                str(x)
                for x in (
                    v,
                    spread[0],
                    min(9.0, round(v + spread[1], 1)),
                    spread[2],
                    max(1.0, round(v - spread[3], 1)),
                    spread[4],
                    a,
                    spread[5],
                    min(9.0, round(a + spread[6], 1)),
                    spread[7],
                    max(1.0, round(a - spread[8], 1)),
                    spread[9],
                )
            ]
        )
    (folder / "static_annotations_averaged_songs_2000_2058.csv").write_bytes(_csv_lines(rows))


# --------------------------------------------------------------------------- Soundtracks


SOUNDTRACKS_SET1_COLUMNS = (
    "number",
    "valence",
    "energy",
    "tension",
    "anger",
    "fear",
    "happy",
    "sad",
    "tender",
    "TARGET",
)
TARGETS = {
    (True, True): "HAPPY",
    (False, True): "ANGER",
    (False, False): "SAD",
    (True, False): "TENDER",
}


def soundtracks_draws(
    seed: int, count: int, duration_s: float
) -> tuple[list[int], dict[int, float]]:
    """The Set1 numbers that get ratings, and the length in s of each that gets audio."""
    rng = rng_for(seed, "demo-soundtracks-numbers")
    numbers = sorted(
        int(n)
        for n in rng.choice(
            np.arange(1, 361), size=count + SOUNDTRACKS_EXTRA_RATINGS, replace=False
        )
    )
    with_audio = set(int(n) for n in rng.choice(numbers, size=count, replace=False))
    lengths = {
        number: round(
            duration_s
            + rng_for(seed, "demo-soundtracks-duration", f"set1-{number:03d}").uniform(-1.0, 1.0),
            2,
        )
        for number in numbers
        if number in with_audio
    }
    return numbers, lengths


def write_soundtracks(
    root: Path, seed: int, count: int, duration_s: float, music_format: str
) -> dict[str, int]:
    numbers, lengths = soundtracks_draws(seed, count, duration_s)
    audio_dir = root / "Set1"
    audio_dir.mkdir(parents=True)
    rows = [list(SOUNDTRACKS_SET1_COLUMNS)]
    for index, number in enumerate(numbers):
        item = f"set1-{number:03d}"
        valence, arousal = draw_valence_arousal(seed, "soundtracks", item, index, 2)
        if number in lengths:
            audio = synth_music(seed, f"soundtracks-{item}", valence, arousal, lengths[number])
            write_music(audio_dir / f"{number:03d}.{music_format}", audio, music_format)
        rows.append(_soundtracks_row(seed, item, number, valence, arousal))
    (root / "mean_ratings_set1.csv").write_bytes(b"\xef\xbb\xbf" + _csv_lines(rows))
    return {"files": count, "ratings_without_audio": SOUNDTRACKS_EXTRA_RATINGS}


def _soundtracks_row(
    seed: int, item: str, number: int, valence: float, arousal: float
) -> list[str]:
    rng = rng_for(seed, "demo-soundtracks-scales", item)
    scales = rng.uniform(1.0, 7.5, 6)
    target = TARGETS[(valence > 5, arousal > 5)]
    return (
        [f"{number:03d}", f"{valence:.2f}", f"{arousal:.2f}"]
        + [f"{x:.2f}" for x in scales]
        + [target]
    )


# --------------------------------------------------------------------------- entry points


def _check_count(name: str, value: int, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise UserError(f"{name} must be an integer from {low} to {high}, got {value!r}")
    return value


def _check_dest(dest: Path) -> Path:
    dest = Path(dest).expanduser().absolute()
    if dest.exists() and not dest.is_dir():
        raise UserError(f"demo-sources destination is not a folder: {dest}")
    if dest.exists() and any(dest.iterdir()) and not (dest / MARKER).exists():
        raise UserError(
            f"demo-sources destination is not empty and was not written by demo-sources: {dest}"
        )
    return dest


def write_demo_sources(
    dest: Path,
    *,
    seed: int = 0,
    clips_per_actor: int = 4,
    n_deam: int = 36,
    n_soundtracks: int = 24,
    deam_duration_range: tuple[float, float] = (10.0, 60.0),
    soundtracks_duration_s: float = 15.0,
) -> dict:
    """Write the three demo corpora below ``dest`` (replaced as a whole) and return a summary.

    ``dest`` must be missing, empty, or an earlier demo-sources output. The same
    arguments always give byte-identical files.
    """
    dest = _check_dest(dest)
    _check_count("seed", seed, 0, 2**63 - 1)
    _check_count("clips per actor", clips_per_actor, 1, 60)
    _check_count("number of DEAM clips", n_deam, 1, 1990)
    _check_count("number of Soundtracks clips", n_soundtracks, 1, 350)
    low, high = (float(x) for x in deam_duration_range)
    if not 4.5 <= low <= high <= 600.0 or not 4.5 <= soundtracks_duration_s <= 600.0:
        raise UserError(
            "music durations must lie between 4.5 s (the v1 window) and 600 s (and min <= max)"
        )
    music_format = music_format_available()
    summary = {
        "seed": seed,
        "music_format": music_format,
        "ravdess": {
            "files": 0,
            "actors": N_ACTORS,
            "clips_per_actor": clips_per_actor,
            "sample_rate": SPEECH_RATE,
        },
        "deam": {"sample_rate": MUSIC_RATE, "duration_range_s": [low, high]},
        "soundtracks": {"sample_rate": MUSIC_RATE, "duration_s": soundtracks_duration_s},
    }
    try:
        with atomic_dir(dest) as tmp:
            summary["ravdess"]["files"] = write_ravdess(tmp / "RAVDESS", seed, clips_per_actor)
            summary["deam"].update(
                write_deam(tmp / "DEAM", seed, n_deam, (low, high), music_format)
            )
            summary["soundtracks"].update(
                write_soundtracks(
                    tmp / "Soundtracks", seed, n_soundtracks, soundtracks_duration_s, music_format
                )
            )
            (tmp / MARKER).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    except OSError as error:
        raise UserError(
            f"cannot write demo sources to {dest}: {error.strerror or error}"
        ) from error
    return {"dest": str(dest), **summary}


def print_summary(summary: dict) -> None:
    """The lines `misme-build demo-sources` prints for the MiSME sources."""
    print(f"demo sources written to {summary['dest']} (seed {summary['seed']}):")
    print(
        f"  RAVDESS      {summary['ravdess']['files']} speech clips, {N_ACTORS} actors, 48 kHz mono WAV"
    )
    print(
        f"  DEAM         {summary['deam']['files']} clips ({summary['music_format'].upper()}), "
        f"{summary['deam']['annotations_without_audio']} annotations without audio"
    )
    print(
        f"  Soundtracks  {summary['soundtracks']['files']} clips ({summary['music_format'].upper()}), "
        f"{summary['soundtracks']['ratings_without_audio']} ratings without audio"
    )

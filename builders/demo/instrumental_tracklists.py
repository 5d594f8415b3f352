"""The thesis's three tracklists and split file for the demo corpora (instrumental-MER mode a).

The EMOPIA tracklist has a multi-line quoted title and names one clip as Q4 that
``label.csv`` has as Q3, as EMOPIA 1.0 does for 19 real clips.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from builders.common.seeding import rng_for
from builders.demo.instrumental_deam import (
    FIRST_SAMPLE_S,
    WINDOW_S,
    DeamSong,
    dynamic_ratings,
    kept_songs,
    metadata_title,
)
from builders.demo.instrumental_emopia import EmopiaClip
from builders.demo.instrumental_files import csv_text
from builders.demo.instrumental_soundtracks import Excerpt
from builders.instrumental_mer.segments import segment_song


def write_tracklists(
    folder: Path, seed: int, songs: list[DeamSong], excerpts: list[Excerpt], clips: list[EmopiaClip]
) -> int:
    """The thesis's three tracklists and split file for the demo corpora; the number of clips."""
    folder.mkdir(parents=True)
    ids = _deam_tracklist(folder, seed, songs) + _soundtracks_tracklist(folder, excerpts)
    ids += _emopia_tracklist(folder, clips)
    order = sorted(
        ids, key=lambda clip_id: rng_for(seed, "instrumental-demo-split", clip_id).random()
    )
    cut1, cut2 = int(0.65 * len(order)), int(0.8 * len(order))
    splits = {"train": order[:cut1], "validation": order[cut1:cut2], "test": order[cut2:]}
    (folder / "MER-stratified-splits.json").write_text(json.dumps(splits) + "\n", encoding="utf-8")
    return len(ids)


def _deam_tracklist(folder: Path, seed: int, songs: list[DeamSong]) -> list[str]:
    rows = [
        [
            "songId",
            "clipId",
            "songNumberOfClips",
            "artist",
            "title",
            "secondsSlice",
            "duration",
            "arousalAvg",
            "arousalStd",
            "valenceAvg",
            "valenceStd",
        ]
    ]
    for song in kept_songs(songs):
        valence, arousal = dynamic_ratings(seed, song)
        times = FIRST_SAMPLE_S + 0.5 * np.arange(len(valence))
        segments = segment_song(
            times,
            valence,
            arousal,
            window_s=WINDOW_S,
            samples_per_window=10,
            max_change=0.05,
            max_segments=5,
        )
        for number, segment in enumerate(segments, start=1):
            part = slice(
                int((segment.start_s - FIRST_SAMPLE_S) * 2),
                int((segment.end_s - FIRST_SAMPLE_S) * 2),
            )
            rows.append(
                [
                    str(song.song_id),
                    f"{song.song_id}_{number}",
                    str(len(segments)),
                    song.artist,
                    metadata_title(song, songs),
                    f"{segment.start_s:.1f}-{segment.end_s:.1f}",
                    f"{segment.end_s - segment.start_s:.1f}",
                    f"{segment.arousal:.4f}",
                    f"{np.std(arousal[part]):.4f}",
                    f"{segment.valence:.4f}",
                    f"{np.std(valence[part]):.4f}",
                ]
            )
    (folder / "deam-final-tracklist.csv").write_text(
        csv_text(rows, line_end="\n"), encoding="utf-8"
    )
    return [f"d_{row[1]}" for row in rows[1:]]


def _soundtracks_tracklist(folder: Path, excerpts: list[Excerpt]) -> list[str]:
    rows = [
        [
            "Set",
            "Nro",
            "Filename",
            "FoundByAPI",
            "Title",
            "Artist",
            "SpotifyId",
            "Valence",
            "Arousal",
        ]
    ]
    copies = [e for e in excerpts if e.link is not None]
    for excerpt in excerpts:
        if (
            not excerpt.audio
            or excerpt.duration_s < 10
            or (excerpt in copies and excerpt != copies[0])
        ):
            continue  # the thesis kept one linked pair as two clips: so does the demo (copies[0])
        rows.append(
            [
                excerpt.set_name[-1],
                str(excerpt.number),
                f"{excerpt.set_name[-1]}_{excerpt.number:03d}",
                "1",
                f"Demo Film {excerpt.number}",
                excerpt.composer,
                "",
                f"{(excerpt.valence - 5) / 4:.4g}",
                f"{(excerpt.arousal - 5) / 4:.4g}",
            ]
        )
    (folder / "soundtracks-final-tracklist.csv").write_text(csv_text(rows), encoding="utf-8")
    return [f"s_{row[2]}" for row in rows[1:]]


def _emopia_tracklist(folder: Path, clips: list[EmopiaClip]) -> list[str]:
    rows = [["ytId", "Q", "clipname", "ytTitle"]]
    relabelled = next(c for c in clips if c.quadrant == "Q3")  # Q4 in the thesis, Q3 in EMOPIA 1.0
    for index, clip in enumerate(clips):
        if clip.segment >= 5:
            continue  # the thesis's at most five per song
        quadrant = "Q4" if clip == relabelled else clip.quadrant
        title = (
            clip.title.replace(" - ", " -\n") if index == 0 else clip.title
        )  # a multi-line title
        rows.append([clip.video, quadrant[1], f"{quadrant}_{clip.video}_{clip.segment}.mp3", title])
    (folder / "emopia-final-tracklist.csv").write_text(
        csv_text(rows, line_end="\n"), encoding="utf-8"
    )
    return [f"e_{row[2]}" for row in rows[1:]]

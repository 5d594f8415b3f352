"""Synthetic DEAM, Soundtracks and EMOPIA copies for the instrumental-MER builder (both modes).

Written below ``dest`` in the corpora's real on-disk formats, so the real readers run:

- ``DEAM/``: audio, static and 2 Hz dynamic annotations, metadata
  (:mod:`builders.demo.instrumental_deam`);
- ``Soundtracks/``: sets 1 and 2 and their rating files
  (:mod:`builders.demo.instrumental_soundtracks`);
- ``EMOPIA/``: audio and ``label.csv`` (:mod:`builders.demo.instrumental_emopia`);
- ``tracklists/``: the thesis's three tracklists and ``MER-stratified-splits.json`` for
  mode (a) (:mod:`builders.demo.instrumental_tracklists`);
- ``spotify-cache.jsonl`` (recorded Spotify answers, ``builders.corpora.recorded``) and
  ``screen.csv`` (the manual review list that overrides it).

The audio is synthesised by :func:`builders.demo.music.synth_music`. Every draw comes from
``rng_for``: the same seed gives byte-identical files.
"""

from __future__ import annotations

import json
from pathlib import Path

from builders.common.atomic import atomic_dir
from builders.corpora.recorded import write_demo_spotify_cache
from builders.demo.audio_files import music_format_available
from builders.demo.instrumental_deam import (
    deam_songs,
    review_rows,
    spotify_tracks,
    write_deam,
)
from builders.demo.instrumental_emopia import emopia_clips, write_emopia
from builders.demo.instrumental_files import csv_text, write_audio
from builders.demo.instrumental_soundtracks import soundtracks_excerpts, write_soundtracks
from builders.demo.instrumental_tracklists import write_tracklists
from builders.demo.music import MUSIC_RATE
from builders.engine import map_units
from builders.errors import UserError

MARKER = ".misme-instrumental-demo-sources.json"


def _check_dest(dest: Path) -> Path:
    dest = Path(dest).expanduser().absolute()
    if dest.exists() and not dest.is_dir():
        raise UserError(f"instrumental demo sources destination is not a folder: {dest}")
    if dest.exists() and any(dest.iterdir()) and not (dest / MARKER).exists():
        raise UserError(
            f"instrumental demo sources destination is not empty and was not written by "
            f"the demo: {dest}"
        )
    return dest


def source_paths(dest: Path) -> dict[str, Path]:
    """Where the pieces are below ``dest``: corpus roots, tracklists, Spotify cache, review list."""
    dest = Path(dest)
    return {
        "deam": dest / "DEAM",
        "soundtracks": dest / "Soundtracks",
        "emopia": dest / "EMOPIA",
        "tracklists": dest / "tracklists",
        "spotify_cache": dest / "spotify-cache.jsonl",
        "screen": dest / "screen.csv",
    }


def write_instrumental_demo_sources(
    dest: Path,
    seed: int = 0,
    *,
    n_deam: int = 14,
    n_set1: int = 10,
    n_set2: int = 6,
    n_videos: int = 8,
    workers: int = 1,
    progress: bool = True,
) -> dict:
    """Write the demo DEAM, Soundtracks, EMOPIA, tracklists, Spotify cache and review list.

    ``dest`` (replaced as a whole) must be missing, empty or an earlier output of this
    function. Returns a summary; the same arguments give byte-identical files.
    """
    dest = _check_dest(dest)
    for name, value, low in (
        ("n_deam", n_deam, 10),
        ("n_set1", n_set1, 2),
        ("n_set2", n_set2, 4),
        ("n_videos", n_videos, 2),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 200:
            raise UserError(f"{name} must be an integer from {low} to 200, got {value!r}")
    music_format = music_format_available()
    songs = deam_songs(seed, n_deam)
    excerpts = soundtracks_excerpts(seed, n_set1, n_set2)
    clips = emopia_clips(seed, n_videos)
    try:
        with atomic_dir(dest) as tmp:
            jobs = write_deam(tmp / "DEAM", seed, songs, music_format)
            jobs += write_soundtracks(tmp / "Soundtracks", seed, excerpts, music_format)
            jobs += write_emopia(tmp / "EMOPIA", seed, clips, music_format)
            map_units(
                write_audio,
                jobs,
                workers=workers,
                desc="demo audio",
                unit="file",
                progress=progress,
            )
            n_tracklist = write_tracklists(tmp / "tracklists", seed, songs, excerpts, clips)
            write_demo_spotify_cache(tmp / "spotify-cache.jsonl", spotify_tracks(songs))
            (tmp / "screen.csv").write_text(
                csv_text(review_rows(songs), line_end="\n"), encoding="utf-8"
            )
            summary = {
                "seed": seed,
                "music_format": music_format,
                "sample_rate": MUSIC_RATE,
                "deam_songs": len(songs),
                "soundtracks_excerpts": len(excerpts),
                "emopia_clips": len(clips),
                "tracklist_clips": n_tracklist,
            }
            (tmp / MARKER).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    except OSError as error:
        raise UserError(
            f"cannot write instrumental demo sources to {dest}: {error.strerror or error}"
        ) from error
    return {"dest": str(dest), **summary}

"""Demo sources of the MuSe-style VAD builder: recorded caches, a tiny lexicon, labelled audio.

``write_muse_demo_sources(DEST)`` writes what a real tags-mode run reads, in the real formats:

- ``DEST/lastfm-calls.jsonl``: the recorded Last.fm calls (``tag.getTopTracks`` pages of the
  tag ``soundtrack``, ``track.getTopTags`` per track) of invented tracks;
- ``DEST/NRC-VAD-demo.txt``: a tiny lexicon in the NRC-VAD v1 format: invented words plus the
  documented NRC-VAD v1 values of cool, nice, study, sad, happy and angry;
- ``DEST/spotify-calls.jsonl``: the recorded Spotify searches that link the tracks;
- ``DEST/audio/<letter>/<spotify_id>.mp3`` (``.wav`` without ffmpeg): synthetic music whose
  valence and arousal (1-9) are ``1 + 8 * V`` and ``1 + 8 * A`` of the track's lexicon VAD,
  made by the demo's music synthesis (:func:`builders.demo.music.synth_music`).

A few tracks are made to be left out at each stage (not found on Last.fm, only genre tags,
not found on Spotify, no audio file, audio shorter than a frame) and one listing is
repeated, so the audit has every kind of entry. Every draw comes from ``rng_for(seed,
purpose, id)``: the same arguments give byte-identical files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from builders.common.atomic import atomic_dir
from builders.common.seeding import rng_for
from builders.corpora.lexicons import read_lexicon, tags_to_vad
from builders.corpora.recorded import (
    RecordedLastfmTrack,
    RecordedSpotifyTrack,
    spotify_id_for,
    write_demo_lastfm_cache,
    write_demo_spotify_cache,
)
from builders.demo.audio_files import music_format_available, write_music
from builders.demo.music import synth_music
from builders.engine import map_units
from builders.errors import UserError

MARKER = ".misme-muse-demo-sources.json"
SEED_TAG = "soundtrack"
LEXICON_NAME = "NRC-VAD-demo.txt"
NRC_DOCUMENTED = {  # NRC-VAD v1 (Mohammad 2018), as documented
    "cool": (0.885, 0.540, 0.781),
    "nice": (0.930, 0.442, 0.650),
    "study": (0.653, 0.361, 0.768),
    "sad": (0.225, 0.333, 0.149),
    "happy": (1.000, 0.735, 0.772),
    "angry": (0.122, 0.830, 0.604),
}
INVENTED = {  # invented words spread over the valence x arousal plane
    "glimmerous": (0.910, 0.860, 0.700),
    "brightswell": (0.800, 0.650, 0.640),
    "dreadsome": (0.080, 0.900, 0.420),
    "stormish": (0.250, 0.780, 0.550),
    "moonhushed": (0.720, 0.120, 0.380),
    "softfall": (0.600, 0.220, 0.450),
    "greyfallow": (0.120, 0.100, 0.180),
    "hollowed": (0.200, 0.250, 0.260),
}
MOODS = tuple(sorted({**NRC_DOCUMENTED, **INVENTED}))
ARTISTS = (
    "Ada Quill",
    "Bram Vesper",
    "Cora Lumen",
    "Dario Fenn",
    "Elin Moss",
    "Felix Ardent",
    "Greta Holm",
    "Hugo Sand",
    "Iris Vale",
    "Jonas Reed",
    "Kira Stone",
    "Leo Marsh",
)
WORDS = (
    "Harbour",
    "Lantern",
    "Meridian",
    "Ember",
    "Tideline",
    "Orchard",
    "Vigil",
    "Cinder",
    "Aurora",
    "Threshold",
    "Solace",
    "Reverie",
)
GENRE_TAGS = {
    SEED_TAG: 100,
    "film": 30,
    "orchestral score": 12,
}  # out of lexicon: "orchestral score"


@dataclass(frozen=True)
class DemoTrack:
    """One invented track: its Last.fm tags, its Spotify presence and its audio."""

    artist: str
    title: str
    tags: dict[str, int] | None  # None: Last.fm answers "Track not found"
    duration_s: float
    on_spotify: bool = True
    has_audio: bool = True

    @property
    def spotify_id(self) -> str:
        return spotify_id_for(self.artist, self.title)


def lexicon_text() -> str:
    """The demo lexicon in the NRC-VAD v1 format (header, tab-separated, 3 decimals)."""
    rows = sorted({**NRC_DOCUMENTED, **INVENTED}.items())
    return "Word\tValence\tArousal\tDominance\n" + "".join(
        f"{word}\t{v:.3f}\t{a:.3f}\t{d:.3f}\n" for word, (v, a, d) in rows
    )


def _mood_tags(seed: int, title: str, index: int) -> dict[str, int]:
    rng = rng_for(seed, "muse-demo-tags", title)
    main = MOODS[(index * 5 + int(rng.integers(0, 3))) % len(MOODS)]
    others = [m for m in MOODS if m != main]
    extra = [others[int(i)] for i in rng.choice(len(others), size=2, replace=False)]
    tags = {
        main: int(rng.integers(60, 101)),
        extra[0]: int(rng.integers(4, 16)),
        extra[1]: int(rng.integers(1, 8)),
    }
    return {**GENRE_TAGS, **tags}


def demo_tracks(
    seed: int = 0,
    n_artists: int = 12,
    tracks_per_artist: int = 3,
    duration_range: tuple[float, float] = (30.0, 42.0),
) -> list[DemoTrack]:
    """The demo's tracks in Last.fm's listing order, the ones made to be left out last."""
    tracks = []
    for a, artist in enumerate(ARTISTS[:n_artists]):
        for k in range(tracks_per_artist):
            index = a * tracks_per_artist + k
            title = f"{WORDS[(a + k) % len(WORDS)]} {['Theme', 'Suite', 'Waltz', 'Prelude'][k % 4]}"
            credit = f"{artist} & {ARTISTS[(a + 1) % n_artists]}" if index == 4 else artist
            duration = float(rng_for(seed, "muse-demo-duration", title).uniform(*duration_range))
            tracks.append(
                DemoTrack(credit, title, _mood_tags(seed, title, index), round(duration, 2))
            )
    first, second = ARTISTS[0], ARTISTS[1 % n_artists]
    golden = {"cool": 56, "nice": 12, "study": 12, **GENRE_TAGS}  # the thesis's Figure 3.3 tags
    return tracks + [
        DemoTrack(first, "Simple Cue", golden, round(duration_range[1], 2)),
        DemoTrack(first, "Lost Reel", None, 35.0),  # Last.fm: Track not found
        DemoTrack(second, "Credits Roll", dict(GENRE_TAGS), 35.0),  # no tag in the lexicon
        DemoTrack(
            second, "Unreleased Cue", _mood_tags(seed, "Unreleased Cue", 3), 35.0, on_spotify=False
        ),
        DemoTrack(
            first, "Missing Take", _mood_tags(seed, "Missing Take", 7), 35.0, has_audio=False
        ),
        DemoTrack(second, "Sting", _mood_tags(seed, "Sting", 9), 9.5),  # shorter than one frame
    ]


@dataclass(frozen=True)
class AudioJob:
    """One file to synthesise (a work unit of the engine)."""

    seed: int
    spotify_id: str
    valence: float  # 1-9
    arousal: float
    duration_s: float
    path: str
    music_format: str


def write_audio(job: AudioJob) -> str:
    """Synthesise and write one track's audio; returns its path."""
    signal = synth_music(job.seed, job.spotify_id, job.valence, job.arousal, job.duration_s)
    Path(job.path).parent.mkdir(parents=True, exist_ok=True)
    write_music(Path(job.path), signal, job.music_format)
    return job.path


def _check_dest(dest: Path) -> Path:
    dest = Path(dest).expanduser().absolute()
    if dest.exists() and not dest.is_dir():
        raise UserError(f"muse demo sources destination is not a folder: {dest}")
    if dest.exists() and any(dest.iterdir()) and not (dest / MARKER).exists():
        raise UserError(
            f"muse demo sources destination is not empty and was not written by "
            f"write_muse_demo_sources: {dest}"
        )
    return dest


def write_muse_demo_sources(
    dest: Path,
    seed: int = 0,
    *,
    n_artists: int = 12,
    tracks_per_artist: int = 3,
    duration_range: tuple[float, float] = (30.0, 42.0),
    workers: int = 1,
) -> dict:
    """Write the demo's caches, lexicon and audio below ``dest`` (replaced as a whole).

    Returns a summary with the paths a build needs (``lastfm_cache``, ``lexicon``,
    ``spotify_cache``, ``audio``). ``dest`` must be missing, empty or an earlier output.
    """
    if not 6 <= n_artists <= len(ARTISTS) or not 1 <= tracks_per_artist <= 4:
        raise UserError(f"n_artists must be 6-{len(ARTISTS)} and tracks_per_artist 1-4")
    if not 15.0 <= duration_range[0] <= duration_range[1] <= 600.0:
        raise UserError("durations must lie between 15 and 600 s (and min <= max)")
    dest = _check_dest(dest)
    tracks = demo_tracks(seed, n_artists, tracks_per_artist, duration_range)
    music_format = music_format_available()
    try:
        with atomic_dir(dest) as tmp:
            (tmp / LEXICON_NAME).write_text(lexicon_text(), encoding="utf-8")
            listing = [*tracks[:7], tracks[2], *tracks[7:]]  # one track listed twice
            write_demo_lastfm_cache(
                tmp / "lastfm-calls.jsonl",
                [RecordedLastfmTrack(t.artist, t.title, t.tags) for t in listing],
                SEED_TAG,
                per_page=20,
            )
            write_demo_spotify_cache(
                tmp / "spotify-calls.jsonl",
                [
                    RecordedSpotifyTrack(t.artist, t.title, t.duration_s, None, t.on_spotify)
                    for t in tracks
                ],
            )
            jobs = _audio_jobs(
                seed, tracks, read_lexicon(tmp / LEXICON_NAME), tmp / "audio", music_format
            )
            map_units(write_audio, jobs, workers=workers, desc="muse demo audio", unit="file")
            summary = {
                "seed": seed,
                "tracks": len(tracks),
                "listings": len(listing),
                "audio_files": len(jobs),
                "music_format": music_format,
            }
            (tmp / MARKER).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    except OSError as error:
        raise UserError(
            f"cannot write muse demo sources to {dest}: {error.strerror or error}"
        ) from error
    return {**summary, **source_paths(dest)}


def source_paths(dest: Path) -> dict[str, Path]:
    """Where the demo sources below ``dest`` are."""
    dest = Path(dest)
    return {
        "dest": dest,
        "lastfm_cache": dest / "lastfm-calls.jsonl",
        "lexicon": dest / LEXICON_NAME,
        "spotify_cache": dest / "spotify-calls.jsonl",
        "audio": dest / "audio",
    }


def _audio_jobs(
    seed: int, tracks: list[DemoTrack], lexicon, folder: Path, music_format: str
) -> list[AudioJob]:
    jobs = []
    for track in tracks:
        if not (track.has_audio and track.on_spotify and track.tags):
            continue
        vad = tags_to_vad(track.tags, lexicon).vad
        valence, arousal = (1.0, 1.0) if vad is None else (1 + 8 * vad[0], 1 + 8 * vad[1])
        path = folder / track.artist[0].lower() / f"{track.spotify_id}.{music_format}"
        jobs.append(
            AudioJob(
                seed, track.spotify_id, valence, arousal, track.duration_s, str(path), music_format
            )
        )
    return jobs

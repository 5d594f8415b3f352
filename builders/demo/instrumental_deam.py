"""The instrumental-MER demo's DEAM: dynamic and static annotations, metadata, Spotify answers.

Written below ``DEAM/``: ``MEMD_audio/<song_id>.mp3`` (40 s; 35 s for some, as audio jobs),
the static annotation CSVs (leading-space headers, CRLF, the 13-column 2000_2058 file), the
2 Hz dynamic annotations ``annotations/annotations averaged per song/dynamic (per second
annotations)/valence.csv`` and ``arousal.csv`` (from 15 s, shorter songs padded with empty
cells), and ``metadata/metadata_2013.csv`` (tab separated), ``metadata_2014.csv`` and
``metadata_2015.csv`` (trailing empty field; one title with an unquoted comma).

DEAM's dynamic ratings are designed window by window (plateaus, jumps, a slow drift) around
each song's own valence/arousal, which the synthetic audio carries
(:func:`builders.demo.music.synth_music`). What Spotify is recorded to answer for each song
and the manual review list that overrides it are here too: they decide which songs the
tracklist keeps.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from builders.common.seeding import rng_for
from builders.corpora.recorded import RecordedSpotifyTrack
from builders.demo.instrumental_files import AudioJob, csv_text
from builders.demo.music import draw_valence_arousal
from builders.demo.sources import write_deam_annotations

DYNAMIC_DIR = "annotations/annotations averaged per song/dynamic (per second annotations)"
STATIC_DIR = "annotations/annotations averaged per song/song_level"
FIRST_SAMPLE_S = 15.0
WINDOW_S = 5.0
# Offsets of the window means from the song's own rating (valence, arousal), five windows:
# each pattern makes the segmentation rule take a different path (see the module docstring).
WINDOW_PATTERNS = (
    ((0.0, 0.01, 0.02, 0.12, 0.12), (0.0, 0.0, 0.0, 0.0, 0.0)),  # 3 windows, then 2 after a jump
    ((0.0, 0.0, 0.0, 0.0, 0.0), (0.0, 0.1, 0.1, 0.11, 0.11)),  # arousal jump: 1 segment of 3
    ((0.0, 0.03, 0.06, 0.06, 0.06), (0.0, 0.0, 0.0, 0.0, 0.0)),  # drift: 2 windows, then 3
    ((0.0, 0.0, 0.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0, 0.0)),  # stable: 3 + 2
)
ARTISTS = (
    "Lumen Drift",
    "Björk Demo",
    "Kevin Demo",
    "The Quiet Rooms",
    "Marta Ostrova",
    "Ninefold",
    "Kevin Demo",
    "Paper Lanterns",
    "bjork demo",
    "Old Harbour",
    "Sine Theory",
    "Lumen Drift",
    "Grey Meridian",
    "Tova Lind",
)
# Spotify's recorded answers per DEAM song index: instrumentalness, or how the search fails.
SPOTIFY_VOCAL, SPOTIFY_NOT_FOUND, SPOTIFY_POOR_MATCH = 3, 6, 9


@dataclass(frozen=True)
class DeamSong:
    song_id: int
    artist: str
    title: str
    valence: float  # 1-9
    arousal: float
    duration_s: float
    pattern: int


def deam_songs(seed: int, count: int) -> list[DeamSong]:
    """The demo's DEAM songs: ids from the 2013, 2014 and 2015 ranges, shared artists."""
    rng = rng_for(seed, "instrumental-demo-deam-ids")
    ranges = [(2, 1000), (1001, 2000), (2001, 2058)]
    shares = [count - 2 * (count // 3), count // 3, count // 3]
    ids = sorted(
        int(i)
        for (low, high), n in zip(ranges, shares, strict=True)
        for i in rng.choice(np.arange(low, high + 1), size=n, replace=False)
    )
    songs = []
    for index, song_id in enumerate(ids):
        valence, arousal = draw_valence_arousal(seed, "instrumental-deam", str(song_id), index, 1)
        duration = 35.2 if index % 5 == 4 else 40.2
        songs.append(
            DeamSong(
                song_id,
                ARTISTS[index % len(ARTISTS)],
                f"Demo Piece {song_id}",
                valence,
                arousal,
                duration,
                index % len(WINDOW_PATTERNS),
            )
        )
    return songs


def dynamic_ratings(seed: int, song: DeamSong) -> tuple[np.ndarray, np.ndarray]:
    """2 Hz valence and arousal in [-1, 1] from 15 s to the end of the song's audio."""
    samples = int((song.duration_s - FIRST_SAMPLE_S) / 0.5 + 1e-9)
    windows = samples // 10
    offsets_v, offsets_a = WINDOW_PATTERNS[song.pattern]
    rng = rng_for(seed, "instrumental-demo-dynamic", str(song.song_id))
    series = []
    for rating, offsets in ((song.valence, offsets_v), (song.arousal, offsets_a)):
        base = (rating - 5.0) / 4.0
        sign = 1.0 if base >= 0 else -1.0
        means = np.repeat([base + sign * offsets[w] for w in range(windows)], 10)
        values = means + rng.uniform(-0.004, 0.004, means.size)
        series.append(np.clip(np.round(values, 4), -1.0, 1.0))
    return series[0], series[1]


def write_deam(root: Path, seed: int, songs: list[DeamSong], music_format: str) -> list[AudioJob]:
    """Annotations and metadata of the demo DEAM; the audio jobs for its songs."""
    ratings = {song.song_id: dynamic_ratings(seed, song) for song in songs}
    longest = max(len(v) for v, _ in ratings.values())
    header = ["song_id"] + [
        f"sample_{int(FIRST_SAMPLE_S * 1000 + 500 * i)}ms" for i in range(longest)
    ]
    folder = root / DYNAMIC_DIR
    folder.mkdir(parents=True)
    for position, name in ((0, "valence.csv"), (1, "arousal.csv")):
        rows = [header]
        for song in songs:
            values = [f"{x:.4f}".rstrip("0").rstrip(".") for x in ratings[song.song_id][position]]
            rows.append([str(song.song_id), *values, *[""] * (longest - len(values))])
        (folder / name).write_text(csv_text(rows), encoding="utf-8")
    labels = {song.song_id: (song.valence, song.arousal) for song in songs}
    write_deam_annotations(
        root / STATIC_DIR,
        seed,
        [s.song_id for s in songs if s.song_id <= 2000],
        [s.song_id for s in songs if s.song_id > 2000],
        labels,
    )
    _write_deam_metadata(root / "metadata", songs)
    (root / "MEMD_audio").mkdir()
    return [
        AudioJob(
            str(root / "MEMD_audio" / f"{song.song_id}.{music_format}"),
            seed,
            f"imer-deam-{song.song_id}",
            song.valence,
            song.arousal,
            song.duration_s,
            music_format,
        )
        for song in songs
    ]


def _write_deam_metadata(folder: Path, songs: list[DeamSong]) -> None:
    folder.mkdir(parents=True)
    y2013 = [
        [
            "song_id",
            "file_name",
            "Artist",
            "Song title",
            "start of the segment (min.sec)",
            "end of the segment (min.sec)",
            "Genre",
        ]
    ]
    y2014 = [["Id", "Artist", "Album", "Track", "Genre", "start", "end", "last.fm labels"]]
    y2015_lines = ["id,Filename,title,artist,album,genre,"]
    for song in songs:
        if song.song_id <= 1000:
            y2013.append(
                [
                    str(song.song_id),
                    f"{song.song_id}.mp3",
                    song.artist,
                    song.title,
                    "0.50",
                    "1.35",
                    "Ambient",
                ]
            )
        elif song.song_id <= 2000:
            y2014.append(
                [
                    str(song.song_id),
                    song.artist,
                    "Demo Album",
                    song.title,
                    "Electronic",
                    "0.1",
                    "0.46",
                    "calm",
                    "night",
                ]
            )
        else:  # unquoted commas, as in the real 2015 file (the reader mends " Part 2")
            title = (
                f"{song.title}, Part 2"
                if song.song_id == max(s.song_id for s in songs)
                else song.title
            )
            filename = f"{song.artist.replace(' ', '')}_{song.song_id}"
            y2015_lines.append(f"{song.song_id},{filename},{title},{song.artist},n/a,Classical,")
    (folder / "metadata_2013.csv").write_text(csv_text(y2013, delimiter="\t"), encoding="utf-8")
    (folder / "metadata_2014.csv").write_text(csv_text(y2014), encoding="utf-8")
    (folder / "metadata_2015.csv").write_text("\r\n".join(y2015_lines) + "\r\n", encoding="utf-8")


def spotify_tracks(songs: list[DeamSong]) -> list[RecordedSpotifyTrack]:
    """What Spotify is recorded to answer for each DEAM song (by the song's index)."""
    tracks = []
    for index, song in enumerate(songs):
        title = metadata_title(song, songs)
        if index == SPOTIFY_VOCAL:
            tracks.append(RecordedSpotifyTrack(song.artist, title, song.duration_s, 0.08))
        elif index == SPOTIFY_NOT_FOUND:
            tracks.append(RecordedSpotifyTrack(song.artist, title, found=False))
        elif index == SPOTIFY_POOR_MATCH:
            tracks.append(
                RecordedSpotifyTrack(
                    song.artist, title, spotify_artist="Somebody Else", spotify_title="Another Song"
                )
            )
        else:
            tracks.append(RecordedSpotifyTrack(song.artist, title, song.duration_s, 0.9))
    return tracks


def metadata_title(song: DeamSong, songs: list[DeamSong]) -> str:
    """The song's title as the metadata file gives it (the last 2015 song's has a comma)."""
    last = max(s.song_id for s in songs)
    return f"{song.title}, Part 2" if song.song_id == last and song.song_id > 2000 else song.title


def review_rows(songs: list[DeamSong]) -> list[list[str]]:
    """The manual review list: keeps the song Spotify could not find, drops one with vocals."""
    return [
        ["song_id", "keep", "note"],
        [str(songs[SPOTIFY_NOT_FOUND].song_id), "keep", "not on Spotify; no vocals heard"],
        [str(songs[0].song_id), "drop", "vocals in the second half, despite Spotify's score"],
    ]


def kept_songs(songs: list[DeamSong]) -> list[DeamSong]:
    """The songs the Spotify answers plus the review list keep (the tracklist's DEAM songs)."""
    dropped = {SPOTIFY_VOCAL, SPOTIFY_POOR_MATCH, 0}
    return [song for index, song in enumerate(songs) if index not in dropped]

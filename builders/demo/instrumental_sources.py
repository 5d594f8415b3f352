"""Synthetic DEAM, Soundtracks and EMOPIA copies for the instrumental-MER builder (both modes).

Written below ``dest`` in the corpora's real on-disk formats, so the real readers run:

- ``DEAM/MEMD_audio/<song_id>.mp3`` (40 s; 35 s for some), the static annotation CSVs
  (leading-space headers, CRLF, the 13-column 2000_2058 file), the 2 Hz dynamic annotations
  ``annotations/annotations averaged per song/dynamic (per second annotations)/valence.csv``
  and ``arousal.csv`` (from 15 s, shorter songs padded with empty cells), and
  ``metadata/metadata_2013.csv`` (tab separated), ``metadata_2014.csv`` and
  ``metadata_2015.csv`` (trailing empty field; one title with an unquoted comma);
- ``Soundtracks/Set1/NNN.mp3``, ``Set2/NNN.mp3``, ``mean_ratings_set1.csv`` and
  ``mean_ratings_set2.csv`` (BOM, CRLF, capitalised set-2 header with ``link``: two set-2
  excerpts are copies of set-1 excerpts, one links a set-1 excerpt without audio; one
  excerpt is too short for a clip);
- ``EMOPIA/audio/Q<q>_<YouTube id>_<n>.mp3`` and ``EMOPIA/label.csv`` (one video has seven
  clips; one audio file carries another version's quadrant in its name);
- ``tracklists/``: the thesis's three tracklists and ``MER-stratified-splits.json`` for
  mode (a) (the EMOPIA tracklist has a multi-line quoted title and names one clip as Q4 that
  ``label.csv`` has as Q3, as EMOPIA 1.0 does for 19 real clips);
- ``spotify-cache.jsonl`` (recorded Spotify answers, ``builders.corpora.recorded``) and
  ``screen.csv`` (the manual review list that overrides it).

DEAM's dynamic ratings are designed window by window (plateaus, jumps, a slow drift) around
each song's own valence/arousal, which the synthetic audio carries
(``builders.demo.sources.synth_music``). Every draw comes from ``rng_for``: the same seed
gives byte-identical files.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from builders.common.atomic import atomic_dir
from builders.common.seeding import rng_for
from builders.corpora.recorded import RecordedSpotifyTrack, write_demo_spotify_cache
from builders.demo.sources import (
    MUSIC_RATE,
    _write_deam_annotations,
    draw_valence_arousal,
    music_format_available,
    synth_music,
    write_music,
)
from builders.engine import map_units
from builders.errors import UserError
from builders.instrumental_mer.segments import segment_song

MARKER = ".misme-instrumental-demo-sources.json"
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
COMPOSERS = ("Hanna Vale", "Joel Brandt", "Ada Moreau", "Lumen Drift", "Rui Okada", "Sam Keller")
# Spotify's recorded answers per DEAM song index: instrumentalness, or how the search fails.
SPOTIFY_VOCAL, SPOTIFY_NOT_FOUND, SPOTIFY_POOR_MATCH = 3, 6, 9


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


def _csv_text(rows: list[list[str]], *, line_end: str = "\r\n", delimiter: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=line_end, delimiter=delimiter)
    writer.writerows(rows)
    return buffer.getvalue()


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
        (folder / name).write_text(_csv_text(rows), encoding="utf-8")
    labels = {song.song_id: (song.valence, song.arousal) for song in songs}
    _write_deam_annotations(
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
    (folder / "metadata_2013.csv").write_text(_csv_text(y2013, delimiter="\t"), encoding="utf-8")
    (folder / "metadata_2014.csv").write_text(_csv_text(y2014), encoding="utf-8")
    (folder / "metadata_2015.csv").write_text("\r\n".join(y2015_lines) + "\r\n", encoding="utf-8")


def spotify_tracks(songs: list[DeamSong]) -> list[RecordedSpotifyTrack]:
    """What Spotify is recorded to answer for each DEAM song (by the song's index)."""
    tracks = []
    for index, song in enumerate(songs):
        title = _metadata_title(song, songs)
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


def _metadata_title(song: DeamSong, songs: list[DeamSong]) -> str:
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


# --- Soundtracks ------------------------------------------------------------------------------


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
    rows1 = [
        [
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
        ]
    ]
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
        (root / name).write_bytes(b"\xef\xbb\xbf" + _csv_text(rows).encode("utf-8"))
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
    return {
        (True, True): "HAPPY",
        (False, True): "ANGER",
        (False, False): "SAD",
        (True, False): "TENDER",
    }[(excerpt.valence > 5, excerpt.arousal > 5)]


# --- EMOPIA -----------------------------------------------------------------------------------


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
    (root / "label.csv").write_text(_csv_text(rows, line_end="\n"), encoding="utf-8")
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


# --- mode (a) tracklists ----------------------------------------------------------------------


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
                    _metadata_title(song, songs),
                    f"{segment.start_s:.1f}-{segment.end_s:.1f}",
                    f"{segment.end_s - segment.start_s:.1f}",
                    f"{segment.arousal:.4f}",
                    f"{np.std(arousal[part]):.4f}",
                    f"{segment.valence:.4f}",
                    f"{np.std(valence[part]):.4f}",
                ]
            )
    (folder / "deam-final-tracklist.csv").write_text(
        _csv_text(rows, line_end="\n"), encoding="utf-8"
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
    (folder / "soundtracks-final-tracklist.csv").write_text(_csv_text(rows), encoding="utf-8")
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
        _csv_text(rows, line_end="\n"), encoding="utf-8"
    )
    return [f"e_{row[2]}" for row in rows[1:]]


# --- entry point ------------------------------------------------------------------------------


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
                _csv_text(review_rows(songs), line_end="\n"), encoding="utf-8"
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

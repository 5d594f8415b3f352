"""Mode (b): the dataset compiled afresh from the raw corpora (any subset of the three).

- DEAM: songs with 2 Hz dynamic annotations and audio, artist and title from
  ``metadata_*.csv``, screened as instrumental (Spotify match + instrumentalness, then the
  review list, which overrides; the review list alone is the selection; without either,
  every song is kept and the audit says so), then segmented
  (``builders.instrumental_mer.segments``) once the audio's length is known.
- Soundtracks: every rated excerpt with audio, labels ``(x - 5) / 4`` of valence and
  energy; a set-2 excerpt whose ``link`` names a set-1 excerpt is the same audio: the set-1
  clip is kept (the set-2 one when set 1 lacks it) and the pair is reported.
- EMOPIA: every ``label.csv`` clip with audio (exact name, else unambiguous video +
  segment; relabellings reported), quadrant from ``label.csv``; at most N per video are
  chosen later (seeded), once the clips' lengths are known.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from builders.corpora.deam_dynamic import DynamicAnnotations, find_deam_dynamic, read_deam_dynamic
from builders.corpora.deam_metadata import read_deam_metadata_report
from builders.corpora.emopia import find_emopia_labels, match_clips, read_emopia_labels
from builders.corpora.listing import files_below, files_named, summarise_ids
from builders.corpora.mer_tracklists import quadrant
from builders.corpora.soundtracks import (
    RATING_FILES,
    read_soundtracks_links,
    read_soundtracks_ratings,
)
from builders.corpora.spotify import SpotifyReader
from builders.corpora.spotify_screening import LocalSong, screen_songs
from builders.corpora.spotify_tables import ReviewEntry
from builders.errors import UserError
from builders.instrumental_mer.inventory import find_audio
from builders.instrumental_mer.recipe import InstrumentalMerRecipe
from builders.instrumental_mer.selection import (
    Selection,
    SongRatings,
    candidate_frame,
    emopia_clip_id,
    unit_scale,
)

SCREENING_COLUMNS = (
    "song_id",
    "artist",
    "title",
    "keep",
    "decided_by",
    "reason",
    "spotify_id",
    "overlap",
    "instrumentalness",
    "instrumentalness_source",
)


def compile_selection(
    roots: Mapping[str, Path],
    recipe: InstrumentalMerRecipe,
    *,
    spotify: SpotifyReader | None = None,
    review: Mapping[str, ReviewEntry] | None = None,
) -> Selection:
    """Candidates of every corpus in ``roots`` (keys ``deam``, ``soundtracks``, ``emopia``)."""
    if not roots:
        raise UserError("give at least one corpus (--deam, --soundtracks, --emopia)")
    if "deam" not in roots and (spotify is not None or review is not None):
        raise UserError(
            "--spotify-cache, --screen and --instrumentalness screen DEAM songs: give --deam"
        )
    selection = Selection("compile", candidate_frame([]))
    rows: list[dict] = []
    if "deam" in roots:
        _deam_songs(Path(roots["deam"]), recipe, spotify, review, selection)
    if "soundtracks" in roots:
        rows += _soundtracks_clips(Path(roots["soundtracks"]), selection)
    if "emopia" in roots:
        rows += _emopia_clips(Path(roots["emopia"]), selection)
    selection.clips = candidate_frame(rows)
    return selection


# --- DEAM ---------------------------------------------------------------------------------------


def _deam_songs(
    root: Path,
    recipe: InstrumentalMerRecipe,
    spotify: SpotifyReader | None,
    review: Mapping[str, ReviewEntry] | None,
    selection: Selection,
) -> None:
    audio = find_audio("deam", root)
    selection.skipped.extend(audio.skipped)
    dynamic = read_deam_dynamic(*find_deam_dynamic(root))
    selection.skipped.extend(("deam", f"song {song}", reason) for song, reason in dynamic.skipped)
    selection.skipped.extend(
        ("deam", _relative(where, root), note) for where, note in dynamic.duplicates
    )
    metadata = read_deam_metadata_report([p for p in files_below(root) if _is_metadata(p)])
    selection.report["deam_metadata"] = {
        "songs": len(metadata.entries),
        "recovered": [[_relative(where, root), note] for where, note in metadata.recovered],
        "unreadable": [[_relative(where, root), note] for where, note in metadata.unreadable],
    }
    songs = [song for song in dynamic.songs if f"deam-{song.song_id}" in audio.paths]
    without_audio = [
        song.song_id for song in dynamic.songs if f"deam-{song.song_id}" not in audio.paths
    ]
    if without_audio:
        selection.missing.append(
            (
                "deam",
                "dynamic annotations",
                summarise_ids(without_audio, "annotated songs have no audio file"),
            )
        )
    unannotated = _unannotated_audio(audio.paths, dynamic)
    if unannotated:
        selection.skipped.append(
            (
                "deam",
                "audio",
                summarise_ids(unannotated, "audio files have no dynamic annotations"),
            )
        )
    kept = _screen(songs, metadata.entries, recipe, spotify, review, selection)
    for song in songs:
        if song.song_id in kept:
            source_id = f"deam-{song.song_id}"
            artist, title = metadata.entries.get(song.song_id, (None, None))
            selection.songs[source_id] = SongRatings(song, artist, title)
            selection.files[source_id] = ("deam", audio.paths[source_id])


def _unannotated_audio(paths: Mapping[str, str], dynamic: DynamicAnnotations) -> list[str]:
    """The audio files of songs neither annotated nor reported as unreadable, by song id."""
    known = {song.song_id for song in dynamic.songs} | {song for song, _ in dynamic.skipped}
    found = [source_id.removeprefix("deam-") for source_id in paths]
    return [paths[f"deam-{song}"] for song in sorted(set(found) - known, key=_song_order)]


def _song_order(song: str) -> tuple[int, str]:
    return (int(song), song) if song.isdigit() else (1 << 62, song)


def _relative(where: str, root: Path) -> str:
    """A reader's ``file[:line]`` relative to the corpus root (manifests hold no machine paths)."""
    return where.removeprefix(f"{Path(root).absolute().as_posix()}/")


def _is_metadata(path: Path) -> bool:
    name = path.name.lower()
    return name.startswith("metadata") and name.endswith(".csv")


def _screen(
    songs: list,
    entries: Mapping,
    recipe: InstrumentalMerRecipe,
    spotify: SpotifyReader | None,
    review: Mapping[str, ReviewEntry] | None,
    selection: Selection,
) -> set[str]:
    """The ids of the songs kept as instrumental; the decisions go to ``selection.screening``."""
    if spotify is None and review is None:
        selection.report["screening"] = {
            "screened": False,
            "kept": len(songs),
            "note": "DEAM songs not screened (no --spotify-cache or --screen): every song kept",
        }
        return {song.song_id for song in songs}
    local = [LocalSong(song.song_id, *entries.get(song.song_id, (None, None))) for song in songs]
    result = screen_songs(
        local,
        spotify=spotify,
        review=review,
        overlap_threshold=recipe.screening.overlap_threshold,
        instrumentalness_threshold=recipe.screening.instrumentalness_threshold,
    )
    frame = pd.DataFrame(
        [
            {**vars(decision), "artist": song.artist, "title": song.title}
            for decision, song in zip(result.decisions, local, strict=True)
        ],
        columns=list(SCREENING_COLUMNS),
    )
    selection.screening = frame
    decided = frame.groupby(["decided_by", "keep"]).size()
    selection.report["screening"] = {
        "screened": True,
        "songs": len(frame),
        "kept": int(frame["keep"].sum()),
        "spotify": spotify is not None,
        "review_list": review is not None,
        "decisions": {
            f"{by}:{'keep' if keep else 'drop'}": int(n) for (by, keep), n in decided.items()
        },
        "review_ids_without_song": list(result.unknown_review_ids),
    }
    return set(result.kept())


# --- Soundtracks --------------------------------------------------------------------------------


def _soundtracks_clips(root: Path, selection: Selection) -> list[dict]:
    audio = find_audio("soundtracks", root)
    selection.skipped.extend(audio.skipped)
    rated: dict[str, tuple[float, float]] = {}
    rating_files = {}
    for set_name, file_name in RATING_FILES.items():
        found = files_named(root, [file_name])
        if found:
            rating_files[set_name] = found[0]
            table = read_soundtracks_ratings(found[0])
            for number, valence, arousal in zip(
                table["number"], table["valence"], table["arousal"]
            ):
                rated[f"{set_name}-{number}"] = (unit_scale(valence), unit_scale(arousal))
    if not rating_files:
        raise UserError(
            f"no Soundtracks ratings file ({' or '.join(RATING_FILES.values())}) found below {root}"
        )
    excerpts = _usable_excerpts(rated, audio.paths, selection)
    dropped = _distinct_excerpts(excerpts, rating_files.get("set2"), selection)
    rows = []
    for excerpt in sorted(set(excerpts) - dropped):
        source_id = f"soundtracks-{excerpt}"
        selection.files[source_id] = ("soundtracks", audio.paths[source_id])
        valence, arousal = rated[excerpt]
        set_name, number = excerpt.split("-")
        rows.append(
            {
                "clip_id": f"s_{set_name[-1]}_{number}",
                "corpus": "soundtracks",
                "source_id": source_id,
                "song_id": excerpt,
                "valence": valence,
                "arousal": arousal,
                "quadrant": quadrant(valence, arousal),
            }
        )
    return rows


def _usable_excerpts(
    rated: Mapping[str, tuple], paths: Mapping[str, str], selection: Selection
) -> list[str]:
    with_audio = {source_id.removeprefix("soundtracks-") for source_id in paths}
    no_audio = sorted(set(rated) - with_audio)
    if no_audio:
        selection.missing.append(
            ("soundtracks", "ratings", summarise_ids(no_audio, "rated excerpts have no audio file"))
        )
    for excerpt in sorted(with_audio - set(rated)):
        selection.skipped.append(
            (
                "soundtracks",
                paths[f"soundtracks-{excerpt}"],
                f"no rating for excerpt {excerpt} in the mean ratings files",
            )
        )
    return sorted(set(rated) & with_audio)


def _distinct_excerpts(
    excerpts: list[str], set2_ratings: Path | None, selection: Selection
) -> set[str]:
    """The excerpts left out as copies of another (set 2 of a linked pair), pairs reported."""
    if set2_ratings is None:
        selection.report["soundtracks_pairs"] = []
        return set()
    links = read_soundtracks_links(set2_ratings)
    present, dropped, pairs = set(excerpts), set(), []
    kept_for: dict[str, str] = {}
    for set2, set1 in zip(links["set2_number"], links["set1_number"]):
        copy, original = f"set2-{set2}", f"set1-{set1}"
        if copy not in present:
            continue
        keeper = original if original in present else kept_for.setdefault(original, copy)
        if keeper != copy:
            dropped.add(copy)
            pairs.append(
                {
                    "kept": _clip(keeper),
                    "left_out": _clip(copy),
                    "note": f"set-2 {set2} is set-1 {set1} (link)",
                }
            )
        else:
            pairs.append(
                {
                    "kept": _clip(copy),
                    "left_out": None,
                    "note": f"set-2 {set2} links set-1 {set1}, which has no audio or rating",
                }
            )
    selection.report["soundtracks_pairs"] = pairs
    return dropped


def _clip(excerpt: str) -> str:
    set_name, number = excerpt.split("-")
    return f"s_{set_name[-1]}_{number}"


# --- EMOPIA -------------------------------------------------------------------------------------


def _emopia_clips(root: Path, selection: Selection) -> list[dict]:
    audio = find_audio("emopia", root)
    selection.skipped.extend(audio.skipped)
    labels = read_emopia_labels(find_emopia_labels(root))
    available = [source_id.removeprefix("emopia-") for source_id in audio.paths]
    matches = match_clips(labels["clip_name"], available)
    used, rows, relabelled = set(), [], []
    by_name = labels.set_index("clip_name")
    for wanted, matched, method, note in matches.itertuples(index=False):
        if not isinstance(matched, str):
            selection.missing.append(("emopia", wanted, f"label.csv clip without audio: {note}"))
            continue
        source_id = f"emopia-{matched}"
        used.add(matched)
        selection.files[source_id] = ("emopia", audio.paths[source_id])
        clip_id = emopia_clip_id(wanted)
        if method == "video+segment":
            relabelled.append({"clip_id": clip_id, "file": audio.paths[source_id], "note": note})
        rows.append(
            {
                "clip_id": clip_id,
                "corpus": "emopia",
                "source_id": source_id,
                "song_id": by_name.at[wanted, "youtube_id"],
                "quadrant": by_name.at[wanted, "quadrant"],
            }
        )
    for name in sorted(set(available) - used):
        selection.skipped.append(("emopia", audio.paths[f"emopia-{name}"], "clip not in label.csv"))
    selection.report["relabelled"] = relabelled
    return rows

"""Where each clip lies in its source, once the sources' lengths are known.

All spans are computed in frames at the source's own rate, then stored in seconds
(rounded to 1e-6 s, which :func:`builders.excerpts.excerpt_span` turns back into exactly
those frames):

- a fixed span (a DEAM tracklist slice or segment) ``[start, end)``: kept as is when the
  audio is long enough; shortened to end with the audio when it ends at most the recipe's
  ``deam.end_tolerance_s`` after it (reported); else the clip is left out (reported);
- the middle of a source (Soundtracks, EMOPIA): ``L = min(frames, round(max_s * rate))``
  frames starting at ``(frames - L) // 2``; a source shorter than ``min_s`` gives no clip.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from builders.common.seeding import seeded_order
from builders.corpora.deam_dynamic import DynamicSong
from builders.corpora.mer_tracklists import quadrant
from builders.instrumental_mer.recipe import InstrumentalMerRecipe
from builders.instrumental_mer.segments import PREFERRED_WINDOWS, segment_song, usable_windows
from builders.instrumental_mer.selection import Selection, SongRatings, candidate_frame

Span = tuple[float, float, str | None]  # start_s, duration_s, note


def fixed_span(
    start_s: float, end_s: float, frames: int, rate: int, tolerance_s: float
) -> Span | str:
    """``(start_s, duration_s, note)`` of a fixed span in a source, or why it does not fit."""
    first, end = int(round(start_s * rate)), int(round(end_s * rate))
    if end > frames + int(round(tolerance_s * rate)) or first >= frames:
        return (
            f"slice {start_s:g}-{end_s:g} s ends after the audio ({frames / rate:.3f} s long, "
            f"tolerance {tolerance_s:g} s)"
        )
    note = None
    if end > frames:
        note = f"slice {start_s:g}-{end_s:g} s shortened to the audio's end ({frames / rate:.3f} s)"
    length = min(end, frames) - first
    return round(start_s, 6), round(length / rate, 6), note


def middle_span(frames: int, rate: int, max_s: float, min_s: float) -> Span | str:
    """The middle ``min(max_s, length)`` seconds of a source, or why it is too short."""
    length = min(frames, int(round(max_s * rate)))
    if length < int(round(min_s * rate)):
        return f"shorter than {min_s:g} s ({frames / rate:.3f} s)"
    start = (frames - length) // 2
    return round(start / rate, 6), round(length / rate, 6), None


def deam_segment_clips(
    songs: Mapping[str, SongRatings], sources: pd.DataFrame, recipe: InstrumentalMerRecipe
) -> tuple[pd.DataFrame, list[tuple[str, str, str]]]:
    """Mode (b): one candidate clip ``d_<song>_<n>`` per segment of each probed song, and the
    probed songs that give no segment, with the reason."""
    lengths = sources.set_index("source_id")["duration_s"]
    settings = recipe.deam
    rows, without = [], []
    for source_id, song in sorted(songs.items()):
        if source_id not in lengths.index:
            continue
        ratings = song.ratings
        last_end_s = float(lengths[source_id]) + settings.end_tolerance_s
        segments = segment_song(
            ratings.times_s,
            ratings.valence,
            ratings.arousal,
            window_s=settings.window_s,
            samples_per_window=settings.samples_per_window,
            max_change=settings.max_change,
            max_segments=settings.max_segments_per_song,
            last_end_s=last_end_s,
        )
        if not segments:
            reason = _no_segment(ratings, float(lengths[source_id]), recipe)
            without.append(("deam", f"song {ratings.song_id}", reason))
        for number, segment in enumerate(segments, start=1):
            rows.append(
                {
                    "clip_id": f"d_{ratings.song_id}_{number}",
                    "corpus": "deam",
                    "source_id": source_id,
                    "song_id": ratings.song_id,
                    "artist": song.artist,
                    "title": song.title,
                    "start_s": segment.start_s,
                    "end_s": segment.end_s,
                    "valence": segment.valence,
                    "arousal": segment.arousal,
                    "quadrant": quadrant(segment.valence, segment.arousal),
                }
            )
    return candidate_frame(rows), without


def _no_segment(ratings: DynamicSong, audio_s: float, recipe: InstrumentalMerRecipe) -> str:
    """Why a song's ratings give no segment: too few windows in its audio, or none stable."""
    settings = recipe.deam
    complete = len(ratings.times_s) // settings.samples_per_window
    last_end_s = audio_s + settings.end_tolerance_s
    usable = usable_windows(ratings.times_s, complete, settings.window_s, last_end_s)
    if usable < min(PREFERRED_WINDOWS):
        first = float(ratings.times_s[0]) if len(ratings.times_s) else 0.0
        return (
            f"no segment: {usable} complete {settings.window_s:g}-s window(s) of ratings "
            f"from {first:g} s end within the audio ({audio_s:.3f} s long, tolerance "
            f"{settings.end_tolerance_s:g} s); a segment needs {min(PREFERRED_WINDOWS)}"
        )
    return (
        f"no segment: no {min(PREFERRED_WINDOWS)} or {max(PREFERRED_WINDOWS)} neighbouring "
        f"windows of its {usable} change by at most {settings.max_change:g}"
    )


def place_clips(
    selection: Selection, sources: pd.DataFrame, recipe: InstrumentalMerRecipe
) -> tuple[pd.DataFrame, list[tuple[str, str, str]], list[dict]]:
    """(clips with ``start_s``/``duration_s``, clips left out with the reason, shortened notes)."""
    segmented, left_out = deam_segment_clips(selection.songs, sources, recipe)
    candidates = pd.concat([selection.clips, segmented], ignore_index=True)
    probed = sources.set_index("source_id")
    rows, shortened = [], []
    for row in candidates.to_dict("records"):
        if row["source_id"] not in probed.index:
            continue  # its file was reported as unusable by the probe
        source = probed.loc[row["source_id"]]
        frames, rate = int(source["frames"]), int(source["sample_rate"])
        if pd.isna(row["start_s"]):
            span = middle_span(
                frames, rate, recipe.excerpts.max_duration_s, recipe.excerpts.min_duration_s
            )
        else:
            span = fixed_span(
                row["start_s"], row["end_s"], frames, rate, recipe.deam.end_tolerance_s
            )
        if isinstance(span, str):
            left_out.append((row["corpus"], row["clip_id"], span))
            continue
        start_s, duration_s, note = span
        if note:
            shortened.append({"clip_id": row["clip_id"], "note": note})
        rows.append(
            {**row, "start_s": start_s, "duration_s": duration_s, "source_path": source["path"]}
        )
    clips = pd.DataFrame(rows, columns=[*candidates.columns, "duration_s", "source_path"])
    return clips.sort_values("clip_id", kind="stable").reset_index(drop=True), left_out, shortened


def choose_per_song(
    clips: pd.DataFrame, corpus: str, limit: int, seed: int
) -> tuple[pd.DataFrame, list[dict]]:
    """At most ``limit`` clips per song of ``corpus``, drawn by ``seeded_order`` per song.

    The order depends on (seed, ``<corpus>-clips-per-song-<song>``, clip id) only.
    Returns the kept clips and, per song that had more, which clips were left out.
    """
    keep = pd.Series(True, index=clips.index)
    left_out = []
    part = clips[clips["corpus"] == corpus]
    for song, group in sorted(part.groupby("song_id"), key=lambda item: str(item[0])):
        if len(group) <= limit:
            continue
        order = seeded_order(sorted(group["clip_id"]), seed, f"{corpus}-clips-per-song-{song}")
        dropped = sorted(order[limit:])
        keep[group.index[group["clip_id"].isin(dropped)]] = False
        left_out.append({"song_id": str(song), "kept": sorted(order[:limit]), "left_out": dropped})
    return clips[keep].reset_index(drop=True), left_out

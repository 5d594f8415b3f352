"""The plan's audio stages: find, probe and frame each linked track's audio file."""

from __future__ import annotations

from pathlib import Path

from builders.common.audio_formats import CLASSIC_SUFFIXES, SOURCE_SUFFIXES, preference_order
from builders.errors import UserError
from builders.excerpts import excerpt_span, probe_sources
from builders.muse_vad.collect import Labelled
from builders.muse_vad.recipe import MuseVadRecipe
from builders.muse_vad.spec import AUDIO_CORPUS

AUDIO_SUFFIXES = SOURCE_SUFFIXES


def index_audio(root: Path) -> dict[str, list[str]]:
    """Audio files (any source format, any case, not hidden) below ``root`` by stem: their
    paths relative to ``root``, ``.mp3``, ``.wav``, ``.flac`` first by sorted path, then the
    other formats in the formats' order (``builders.common.audio_formats``)."""
    if not Path(root).is_dir():
        raise UserError(f"audio folder not found: {root}")
    audio = [
        path
        for path in Path(root).rglob("*")
        if path.suffix.lower() in AUDIO_SUFFIXES
        and not path.name.startswith(".")
        and path.is_file()
    ]
    found: dict[str, list[str]] = {}
    for path in preference_order(audio, Path(root)):
        found.setdefault(path.stem, []).append(path.relative_to(root).as_posix())
    return found


def _classic(paths: list[str]) -> list[str]:
    return [path for path in paths if Path(path).suffix.lower() in CLASSIC_SUFFIXES]


def frame_starts(frames: int, rate: int, frame_s: float) -> list[float]:
    """Start times of the whole non-overlapping frames of a file (the remainder is dropped).

    >>> frame_starts(16000 * 44, 16000, 15.0)
    [0.0, 15.0]
    """
    starts, k = [], 0
    while True:
        start_s = round(k * frame_s, 6)
        first, length = excerpt_span(start_s, frame_s, rate)
        if first + length > frames:
            return starts
        starts.append(start_s)
        k += 1


def attach_audio(
    labelled: Labelled,
    root: Path,
    recipe: MuseVadRecipe,
    *,
    workers: int,
    strict: bool,
    progress: bool,
) -> list[dict]:
    """Find, probe and frame each track's audio; returns the source rows of the kept tracks."""
    index = index_audio(root)
    wanted = []
    for track in labelled.tracks:
        if track["spotify_id"] is None:
            labelled.drop(
                track,
                "audio",
                "no Spotify id to find its audio file by (link with --spotify-cache)",
            )
        elif track["spotify_id"] not in index:
            labelled.drop(
                track,
                "audio",
                f"no audio file {track['spotify_id']}.mp3|.wav|.flac below the audio folder",
            )
        elif len(_classic(index[track["spotify_id"]])) > 1:
            raise UserError(
                f"Spotify id {track['spotify_id']} has several audio files below {root}: "
                f"{', '.join(_classic(index[track['spotify_id']]))}; keep one"
            )
        else:
            kept, *others = index[track["spotify_id"]]
            labelled.other_formats += [{"kept": kept, "skipped": other} for other in others]
            wanted.append(track)
    paths = [index[t["spotify_id"]][0] for t in wanted]
    probes = probe_sources([str(Path(root) / p) for p in paths], workers=workers, progress=progress)
    labelled.tracks, sources = [], []
    for track, path, probe in zip(wanted, paths, probes, strict=True):
        reason = _unusable(probe, recipe.sources.max_file_mb)
        if reason and strict and isinstance(probe, str):
            raise UserError(f"audio file {path} is unusable (--strict): {reason}")
        if reason:
            labelled.drop(track, "audio", f"audio file {path}: {reason}")
            continue
        starts = frame_starts(probe["frames"], probe["sample_rate"], recipe.frames.frame_s)
        track.update(
            source_id=track["spotify_id"],
            duration_s=probe["duration_s"],
            n_frames=len(starts),
            frame_starts=starts,
            source_sha256=probe["sha256"],
        )
        labelled.tracks.append(track)
        sources.append(
            {"source_id": track["spotify_id"], "corpus": AUDIO_CORPUS, "path": path, **probe}
        )
    return sources


def _unusable(probe: dict | str, max_file_mb: float) -> str | None:
    if isinstance(probe, str):
        return probe
    if max_file_mb and probe["size_bytes"] > max_file_mb * 1e6:
        return f"{probe['size_bytes'] / 1e6:.1f} MB, over sources.max_file_mb = {max_file_mb:g}"
    return None


def drop_short(labelled: Labelled, frame_s: float) -> None:
    """Leave out the tracks whose audio is shorter than one frame."""
    kept = []
    for track in labelled.tracks:
        if track["n_frames"]:
            kept.append(track)
        else:
            labelled.drop(
                track,
                "frames",
                f"audio of {track['duration_s']:.2f} s is shorter than one {frame_s:g} s frame",
            )
    labelled.tracks = kept

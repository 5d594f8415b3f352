"""The MuSe-style VAD plan: labelled tracks -> Spotify -> audio -> frames -> folds -> manifests.

Stages (the thesis's counts, recorded in ``audit.json``): *collected* tracks (tags mode: the
seed tag's top tracks, each once; import mode: the CSV's rows), *with lexicon tags* (a VAD
label; import mode: every row), *linked* (a Spotify id: given by the CSV or found by a
Spotify search; None in tags mode without ``--spotify-cache``), *with audio* (a usable file
``<spotify_id>.mp3|.wav|.flac`` anywhere below ``--audio``) and *with frames* (at least one
frame). Every track left out is listed in the audit with its stage and reason.

Frames: non-overlapping ``frames.frame_s`` spans from the start of the file, frame k at
``k * frame_s``; the remainder shorter than a frame is dropped; frame ids are
``<track_id>-<k:04d>``. Planned without ``--audio``, the manifests hold the labelled tracks
(with folds) and no frames: the render needs a plan with audio.

The plan is a pure function of the inputs, the recipe and the seed: the manifests are
byte-identical whatever the worker count or the order files are found in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from builders.common.build_state import write_build_state
from builders.common.lock import build_lock
from builders.common.manifest_folder import write_manifest_folder
from builders.common.versions import lock_sha256, package_versions
from builders.corpora.lastfm import LastfmClient
from builders.corpora.spotify import SpotifyReader
from builders.errors import UserError
from builders.excerpts import SOURCE_COLUMNS
from builders.muse_vad.collect import LABELS, TRACK_FIELDS, Labelled
from builders.muse_vad.folds import assign_folds
from builders.muse_vad.framing import attach_audio, drop_short
from builders.muse_vad.linking import labelled_tracks, lastfm_client, link_tracks, spotify_reader
from builders.muse_vad.recipe import MuseVadRecipe, load_recipe
from builders.muse_vad.spec import AUDIO_CORPUS

TRACK_COLUMNS = (
    "track_id",
    "track",
    "artist",
    "spotify_id",
    "mbid",
    "duration_s",
    "spotify_duration_s",
    "weighted_mood",
    "n_tags",
    *LABELS,
    "scale",
    "seeds",
    "genre",
    "lastfm_url",
    "source_id",
    "n_frames",
    "artist_group",
    "vad_bin",
    "fold",
)
FRAME_COLUMNS = (
    "frame_id",
    "track_id",
    "source_id",
    "start_s",
    "duration_s",
    "fold",
    *LABELS,
    "scale",
    "artist_group",
)
STAGES = ("collection", "tags", "linking", "audio", "frames")
TOOL_PACKAGES = (
    "numpy",
    "pandas",
    "pyarrow",
    "soundfile",
    "soxr",
    "spotipy",
    "requests",
    "ffmpeg",  # the binary that decodes M4A/AAC, Ogg, Opus and WebM
)


@dataclass(frozen=True)
class Plan:
    """Everything the plan decides: the manifests' content."""

    tracks: pd.DataFrame
    frames: pd.DataFrame
    sources: pd.DataFrame
    audit: dict
    recipe: MuseVadRecipe
    build: dict  # the recipe's [build] table


# ---------------------------------------------------------------- tables


def tracks_table(tracks: list[dict]) -> pd.DataFrame:
    """The working table of the kept tracks (every column of TRACK_COLUMNS but the fold's)."""
    columns = [
        c
        for c in (
            *TRACK_FIELDS,
            "duration_s",
            "source_id",
            "n_frames",
            "source_sha256",
            "frame_starts",
        )
        if c not in ("artist_group", "vad_bin", "fold")
    ]
    frame = pd.DataFrame([{c: t.get(c) for c in columns} for t in tracks], columns=columns)
    for column in ("n_tags", "n_frames"):
        frame[column] = frame[column].astype("Int64")
    for column in (*LABELS, "duration_s", "spotify_duration_s"):
        frame[column] = frame[column].astype("float64")
    for column in set(columns) - {
        "n_tags",
        "n_frames",
        "frame_starts",
        *LABELS,
        "duration_s",
        "spotify_duration_s",
    }:
        frame[column] = frame[column].astype("string")
    return frame.sort_values("track_id", kind="stable").reset_index(drop=True)


def frames_table(tracks: pd.DataFrame, frame_s: float) -> pd.DataFrame:
    """One row per frame, sorted by frame id; each frame carries its track's labels and fold."""
    rows = []
    for track in tracks.to_dict("records"):
        for k, start_s in enumerate(track["frame_starts"] or []):
            rows.append(
                {
                    "frame_id": f"{track['track_id']}-{k:04d}",
                    "start_s": start_s,
                    "duration_s": float(frame_s),
                    **{c: track[c] for c in FRAME_COLUMNS if c in track and c != "duration_s"},
                }
            )
    frame = pd.DataFrame(rows, columns=list(FRAME_COLUMNS))
    frame["fold"] = frame["fold"].astype("int64")
    for column in ("start_s", "duration_s", *LABELS):
        frame[column] = frame[column].astype("float64")
    return frame.sort_values("frame_id", kind="stable").reset_index(drop=True)


def sources_table(sources: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(sources, columns=list(SOURCE_COLUMNS))
    for column in ("size_bytes", "frames", "sample_rate", "channels"):
        frame[column] = frame[column].astype("int64")
    frame["duration_s"] = frame["duration_s"].astype("float64")
    return frame.sort_values("source_id", kind="stable").reset_index(drop=True)


def _dropped(labelled: Labelled) -> list[dict]:
    order = {stage: i for i, stage in enumerate(STAGES)}
    return sorted(
        labelled.dropped,
        key=lambda d: (order[d["stage"]], d["artist"], d["track"], d["track_id"], d.get("line", 0)),
    )


# ---------------------------------------------------------------- the whole plan


def plan_dataset(
    *,
    out: Path,
    lastfm_cache: Path | None = None,
    lexicon: Path | None = None,
    lexicon_format: str | None = None,
    muse_csv: Path | None = None,
    spotify_cache: Path | None = None,
    audio: Path | None = None,
    recipe_path: Path | None = None,
    seed: int | None = None,
    seed_tag: str | None = None,
    frame_s: float | None = None,
    workers: int = 1,
    strict: bool = False,
    progress: bool = True,
    wait: bool = False,
    force: bool = False,
    lastfm: LastfmClient | None = None,
    spotify: SpotifyReader | None = None,
) -> Plan:
    """Collect or import, link, find the audio, frame, fold, and write ``OUT/manifests``.

    ``lastfm`` / ``spotify`` are ready clients (e.g. pointed at a test server) instead of
    ``lastfm_cache`` / ``spotify_cache``. One run at a time per OUT (``wait`` waits for the
    other); a changed plan over a rendered build needs ``force`` (which deletes the old
    outputs).
    """
    recipe, _ = load_recipe(recipe_path, seed=seed, seed_tag=seed_tag, frame_s=frame_s)
    if muse_csv is not None and seed_tag is not None:
        raise UserError("--seed-tag is for the tags mode (the Last.fm collection), not --muse-csv")
    out = Path(out)
    if lastfm is None and lastfm_cache is not None:
        lastfm = lastfm_client(lastfm_cache)
    if spotify is None and spotify_cache is not None:
        spotify = spotify_reader(spotify_cache)
    with build_lock(out, "plan", wait=wait):
        labelled = labelled_tracks(
            recipe, lastfm=lastfm, lexicon=lexicon, lexicon_format=lexicon_format, muse_csv=muse_csv
        )
        stages, sources = _link_and_frame(
            labelled, spotify, audio, recipe, workers, strict, progress
        )
        plan = _finish(labelled, stages, sources, recipe, audio is not None)
        if not write_plan(plan, out, force=force) and progress:
            print(f"plan unchanged: kept {out / 'manifests'} (and what the render added to it)")
        if audio is not None:
            write_build_state(out, {AUDIO_CORPUS: Path(audio).resolve()})
    return plan


def _link_and_frame(
    labelled: Labelled,
    spotify: SpotifyReader | None,
    audio: Path | None,
    recipe: MuseVadRecipe,
    workers: int,
    strict: bool,
    progress: bool,
) -> tuple[dict, list[dict]]:
    """The stages after the labels: Spotify link, then (with ``audio``) files and frames."""
    stages = {
        **labelled.stages,
        "linked": link_tracks(labelled, spotify, recipe.linking.overlap_threshold),
        "with_audio": None,
        "with_frames": None,
    }
    sources: list[dict] = []
    if audio is not None:
        sources = attach_audio(
            labelled, Path(audio), recipe, workers=workers, strict=strict, progress=progress
        )
        stages["with_audio"] = len(labelled.tracks)
        drop_short(labelled, recipe.frames.frame_s)
        stages["with_frames"] = len(labelled.tracks)
        kept = {t["source_id"] for t in labelled.tracks}
        sources = [s for s in sources if s["source_id"] in kept]
    if not labelled.tracks:
        raise UserError(
            f"no track is left to build with ({_stage_text(stages)}); first reason: "
            f"{_first_reason(labelled)}"
        )
    return stages, sources


def _first_reason(labelled: Labelled) -> str:
    dropped = _dropped(labelled)
    return (
        f"{dropped[0]['artist']} - {dropped[0]['track']}: {dropped[0]['reason']}"
        if dropped
        else "none"
    )


def _stage_text(stages: dict) -> str:
    return ", ".join(f"{name.replace('_', ' ')} {n}" for name, n in stages.items() if n is not None)


def _finish(
    labelled: Labelled, stages: dict, sources: list[dict], recipe: MuseVadRecipe, with_audio: bool
) -> Plan:
    table = tracks_table(labelled.tracks)
    folds = recipe.folds
    table, fold_audit = assign_folds(
        table, folds.n_folds, folds.valence_bins, folds.arousal_bins, recipe.seed
    )
    frames = (
        frames_table(table, recipe.frames.frame_s)
        if with_audio
        else pd.DataFrame(
            {
                c: pd.Series(
                    dtype="float64"
                    if c in ("start_s", "duration_s", *LABELS)
                    else "int64"
                    if c == "fold"
                    else "string"
                )
                for c in FRAME_COLUMNS
            }
        )
    )
    audit = {
        "mode": labelled.mode,
        "stages": stages,
        "labels": labelled.labels,
        "duplicate_listings": labelled.duplicate_listings,
        **({"not_answered": labelled.not_answered} if labelled.not_answered else {}),
        **({"other_formats": labelled.other_formats} if labelled.other_formats else {}),
        "frame_s": recipe.frames.frame_s,
        "counts": {"tracks": len(table), "frames": len(frames), "sources": len(sources)},
        **fold_audit,
        "dropped": _dropped(labelled),
    }
    build = {
        "mode": labelled.mode,
        "labels": labelled.labels,
        "tool_versions": package_versions(("misme-toolkit", *TOOL_PACKAGES)),
        "lock_sha256": lock_sha256(),
    }
    tracks = table[list(TRACK_COLUMNS)].reset_index(drop=True)
    return Plan(tracks, frames, sources_table(sources), audit, recipe, build)


# ---------------------------------------------------------------- manifests


def write_plan(plan: Plan, out: Path, *, force: bool = False) -> bool:
    """Write ``OUT/manifests`` as one folder; False (nothing written) when it holds this plan
    already, so that the render's checksums in frames.parquet survive a re-plan (a changed
    plan over a rendered build needs ``force``)."""
    tables = {
        "tracks.parquet": plan.tracks,
        "frames.parquet": plan.frames,
        "sources.parquet": plan.sources,
    }
    texts = {
        "audit.json": json.dumps(plan.audit, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
        "recipe.toml": plan.recipe.to_toml({"build": plan.build}),
    }
    return write_manifest_folder(Path(out) / "manifests", tables, texts, force=force)


def summarise(plan: Plan) -> str:
    """A few lines for the command line: stage counts, folds, where the reasons are."""
    audit = plan.audit
    lines = [
        f"{audit['mode']} mode: {_stage_text(audit['stages'])}",
        f"tracks {audit['counts']['tracks']}, frames {audit['counts']['frames']} "
        f"({plan.recipe.frames.frame_s:g} s), scale {audit['labels']['scale']}",
        f"{'fold':<7}{'tracks':>7}{'frames':>8}{'artists':>9}",
    ]
    for name, fold in audit["folds"].items():
        frames = "-" if fold["frames"] is None else fold["frames"]
        lines.append(f"{name:<7}{fold['tracks']:>7}{frames:>8}{fold['artist_groups']:>9}")
    lines.append("leakage audit: " + ", ".join(f"{k}={v}" for k, v in audit["leakage"].items()))
    if audit.get("not_answered"):
        lines.append(
            f"not answered: {audit['not_answered']} track(s) have only a recorded Last.fm "
            "error (e.g. a rate limit) in the cache; set LASTFM_API_KEY and plan again to ask"
        )
    if audit["dropped"]:
        first = audit["dropped"][0]
        lines.append(
            f"left out: {len(audit['dropped'])} track(s) (audit.json), e.g. {first['artist']} - "
            f"{first['track']}: {first['reason']}"
        )
    return "\n".join(lines)

"""RAVDESS reader: labels come from the file name ``MM-VV-EE-II-SS-RR-AA.wav``.

Only audio-only (modality 03) speech (vocal channel 01) is used; song files and the
video modalities are listed as skipped with a note, malformed names with the reason.
"""

from __future__ import annotations

import re
from pathlib import Path

from builders.common.audio_formats import is_source_audio
from builders.corpora.listing import (
    CorpusListing,
    audio_files_below,
    checked_root,
    listing_frame,
    relative_posix,
    sorted_skips,
)
from builders.errors import UserError

VIDEO_SUFFIXES = (".mp4",)  # the audio-video modalities: listed as not used
CLASSIC_SUFFIXES = (".wav",)  # RAVDESS's own format, read first when a take is in several
EMOTION_NAMES: tuple[str, ...] = (
    "neutral",
    "calm",
    "happy",
    "sad",
    "angry",
    "fearful",
    "disgust",
    "surprised",
)
_NAME = re.compile(r"^\d{2}(-\d{2}){6}$")
_ACTOR_FOLDER = re.compile(r"^actor_(\d{2})$", re.IGNORECASE)

_MODALITY = {"01": "full audio-video", "02": "video-only", "03": "audio-only"}
_CHANNEL = {"01": "speech", "02": "song"}


def parse_ravdess_name(name: str) -> dict[str, object]:
    """Labels encoded in a RAVDESS file name, or ValueError saying what is wrong.

    >>> parse_ravdess_name("03-01-05-02-01-01-12.wav")["emotion_name"]
    'angry'
    """
    stem = name.rsplit(".", 1)[0]
    if not _NAME.match(stem):
        raise ValueError(
            "not a RAVDESS file name (expected 7 two-digit fields MM-VV-EE-II-SS-RR-AA)"
        )
    modality, channel, emotion, intensity, statement, repetition, actor = stem.split("-")
    _check_code("modality", modality, _MODALITY)
    _check_code("vocal channel", channel, _CHANNEL)
    _check_range("emotion", emotion, 1, 8)
    _check_range("intensity", intensity, 1, 2)
    if emotion == "01" and intensity == "02":
        raise ValueError("invalid code: neutral (01) has no strong intensity (02)")
    _check_range("statement", statement, 1, 2)
    _check_range("repetition", repetition, 1, 2)
    _check_range("actor", actor, 1, 24)
    return {
        "modality": modality,
        "vocal_channel": channel,
        "emotion": int(emotion),
        "emotion_name": EMOTION_NAMES[int(emotion) - 1],
        "intensity": int(intensity),
        "statement": int(statement),
        "repetition": int(repetition),
        "actor": actor,
        "gender": "male" if int(actor) % 2 == 1 else "female",
    }


def _check_code(what: str, code: str, allowed: dict[str, str]) -> None:
    if code not in allowed:
        raise ValueError(f"invalid {what} code {code} (allowed: {', '.join(allowed)})")


def _check_range(what: str, code: str, low: int, high: int) -> None:
    if not low <= int(code) <= high:
        raise ValueError(f"invalid {what} code {code} (allowed: {low:02d}-{high:02d})")


def read_ravdess(root: Path) -> CorpusListing:
    """List the audio-only speech files of a RAVDESS copy below ``root``."""
    root = checked_root(root, "RAVDESS")
    rows, skipped, seen = [], [], {}
    for path in audio_files_below(root, CLASSIC_SUFFIXES, extra=VIDEO_SUFFIXES):
        relative = relative_posix(path, root)
        reason = _reason_to_skip(path, seen)
        if reason:
            skipped.append((relative, reason))
            continue
        seen[path.stem.lower()] = relative
        rows.append(_row(path, relative))
    if not rows:
        raise UserError(
            f"no RAVDESS audio-only speech files (03-01-EE-II-SS-RR-AA.wav) found below {root}"
            + (f" ({len(skipped)} other files skipped)" if skipped else "")
        )
    return CorpusListing("ravdess", root, listing_frame(rows), sorted_skips(skipped))


def _reason_to_skip(path: Path, seen: dict[str, str]) -> str | None:
    try:
        labels = parse_ravdess_name(path.name)
    except ValueError as error:
        return str(error)
    if labels["modality"] != "03":
        return f"{_MODALITY[labels['modality']]} modality ({labels['modality']}), not used"
    if labels["vocal_channel"] != "01":
        return "song (vocal channel 02), not used"
    if not is_source_audio(path):
        return "audio-only speech must be an audio file (.wav, or another audio format)"
    folder = _ACTOR_FOLDER.match(path.parent.name)
    if folder and folder.group(1) != labels["actor"]:
        return f"file name says actor {labels['actor']} but the folder is {path.parent.name}"
    if path.stem.lower() in seen:
        return f"duplicate of {seen[path.stem.lower()]}"
    return None


def _row(path: Path, relative: str) -> dict[str, object]:
    labels = parse_ravdess_name(path.name)
    stem = path.name.rsplit(".", 1)[0]
    return {
        "source_id": f"ravdess-{stem}",
        "corpus": "ravdess",
        "path": relative,
        **{
            key: labels[key]
            for key in (
                "actor",
                "gender",
                "emotion",
                "emotion_name",
                "intensity",
                "statement",
                "repetition",
            )
        },
        "valence": None,
        "arousal": None,
    }

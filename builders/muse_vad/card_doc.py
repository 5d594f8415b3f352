"""What the MuSe-style VAD card says about it: sources, columns, tasks, folds, limitations."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

from builders.hf.card_doc import CardDoc, ColumnDoc, TaskDoc

SCALE = "the lexicon's: [0, 1] (NRC-VAD) or 1-9 (Warriner, MuSe CSV), named in `scale`"
LEXICON_SOURCES = {"nrc-vad": "nrc-vad", "warriner": "warriner"}

COLUMNS = (
    ColumnDoc("id", "The frame's id (`<track_id>-<n>`).", configs=("frames",)),
    ColumnDoc("id", "The track's id (same as `track_id`).", configs=("tracks",)),
    ColumnDoc("track_id", "The track's stable id."),
    ColumnDoc("track", "Track title (Last.fm)."),
    ColumnDoc("artist", "Artist name (Last.fm)."),
    ColumnDoc("spotify_id", "The linked Spotify track id (the audio file's name)."),
    ColumnDoc("mbid", "MusicBrainz id, where Last.fm gives one."),
    ColumnDoc("start_s", "Start of the frame in the track.", "seconds"),
    ColumnDoc("duration_s", "Length of the frame.", "seconds", configs=("frames",)),
    ColumnDoc("duration_s", "Length of the track's audio file.", "seconds", configs=("tracks",)),
    ColumnDoc("spotify_duration_s", "The track's length as Spotify gives it.", "seconds"),
    ColumnDoc("weighted_mood", "The kept mood tags with their Last.fm counts (JSON object)."),
    ColumnDoc("n_tags", "Number of kept mood tags."),
    ColumnDoc("valence_tags", "Valence: tag-count-weighted lexicon mean of the track.", SCALE),
    ColumnDoc("arousal_tags", "Arousal: tag-count-weighted lexicon mean of the track.", SCALE),
    ColumnDoc("dominance_tags", "Dominance: tag-count-weighted lexicon mean of the track.", SCALE),
    ColumnDoc(
        "scale", "The label scale of the row.", codes=(("[0,1]", "NRC-VAD"), ("1-9", "Warriner"))
    ),
    ColumnDoc("seeds", "The MuSe CSV's seed tags (import mode)."),
    ColumnDoc("genre", "The MuSe CSV's genre (import mode)."),
    ColumnDoc("lastfm_url", "The track's Last.fm page."),
    ColumnDoc("source_id", "The audio file's id (its name without extension)."),
    ColumnDoc("n_frames", "Number of frames cut from the track."),
    ColumnDoc("artist_group", "Normalised artist name: the unit the folds keep together."),
    ColumnDoc("vad_bin", "Valence x arousal quantile bin the folds are stratified on.", "v<i>a<j>"),
    ColumnDoc("audio", "The frame: a non-overlapping span of the track, sharing its labels."),
)

TASKS = (TaskDoc("muse-vad", ("frames",), "valence, arousal, dominance (the lexicon's scale)"),)

FOLDS = (
    "Artist-independent (every track of an artist group in one fold), stratified on valence x "
    "arousal quantile bins (`vad_bin`), seeded by the recipe; every frame shares its track's "
    "fold and labels."
)

LIMITATIONS = (
    "Labels come from listeners' Last.fm tags through a word lexicon, not from ratings of the "
    "audio; every frame of a track carries the track's label.",
    "Track linking (Last.fm to Spotify) is by name matching and can pick a wrong version.",
)

CARD = CardDoc(
    pretty_name="MuSe-style VAD: valence, arousal and dominance of soundtracks",
    sources=("lastfm-spotify",),
    thesis="diazbanet2021",
    task_categories=("audio-classification",),
    tags=("music-emotion-recognition", "valence-arousal-dominance", "soundtracks"),
    columns=COLUMNS,
    tasks=TASKS,
    limitations=LIMITATIONS,
    folds=FOLDS,
)


def card_for_build(out: Path) -> CardDoc:
    """The card of the build in ``out``, with the lexicon its labels came from (NRC-VAD or
    Warriner, from ``[build]`` of its recipe; an imported MuSe CSV is on Warriner's scale)."""
    try:
        build = tomllib.loads((Path(out) / "manifests" / "recipe.toml").read_text())["build"]
    except (OSError, ValueError, KeyError):
        return CARD
    lexicon = build.get("labels", {}).get("lexicon", {}).get("format")
    key = "warriner" if build.get("mode") == "import" else LEXICON_SOURCES.get(lexicon)
    return replace(CARD, sources=CARD.sources + ((key,) if key else ()))

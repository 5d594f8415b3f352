"""What the instrumental-MER card says about it: sources, columns, tasks, folds, limitations."""

from __future__ import annotations

from builders.hf.card_doc import CardDoc, ColumnDoc, TaskDoc
from builders.instrumental_mer.protocols import LOCO_CONFIGS, PROTOCOL_CONFIGS, THESIS_CONFIG

QUADRANTS = (("Q1", "V>0, A>0"), ("Q2", "V<=0, A>0"), ("Q3", "V<=0, A<=0"), ("Q4", "V>0, A<=0"))
CLIPS_AUDIO = "audio of clips, by id"  # protocol configs have no audio column of their own
NORM = "[-1, 1] ((x - 5) / 4 of a 1-9 rating); empty for EMOPIA (quadrant only)"

COLUMNS = (
    ColumnDoc(
        "corpus",
        "The clip's source corpus.",
        codes=(("deam", "DEAM"), ("soundtracks", "Soundtracks"), ("emopia", "EMOPIA")),
    ),
    ColumnDoc("song_id", "The song (or excerpt, or EMOPIA video) the clip is cut from."),
    ColumnDoc("artist", "The song's artist, as the source or its tracklist gives it."),
    ColumnDoc("title", "The song's title, as the source or its tracklist gives it."),
    ColumnDoc("start_s", "Start of the clip in the source file.", "seconds"),
    ColumnDoc("duration_s", "Length of the clip.", "seconds (10-15)"),
    ColumnDoc("valence", "Mean valence rating of the clip's span.", NORM),
    ColumnDoc("arousal", "Mean arousal rating of the clip's span.", NORM),
    ColumnDoc(
        "quadrant",
        "Russell quadrant of (valence, arousal), zero counting as low; EMOPIA's own label.",
        codes=QUADRANTS,
    ),
    ColumnDoc("audio", "The instrumental clip."),
    ColumnDoc(
        "fold",
        "The clip's fold in `clips` (the protocol's split is the shard it is in).",
        "1..K",
        configs=PROTOCOL_CONFIGS,
    ),
    ColumnDoc(
        "audio_sha256",
        "sha256 of the clip's int16 PCM; its audio is the `clips` row of the same `id`.",
        configs=PROTOCOL_CONFIGS,
    ),
)

TASKS = (
    TaskDoc("mer-quadrant", ("clips",), "quadrant (Q1-Q4), every clip"),
    TaskDoc("mer-va", ("clips",), "valence, arousal ([-1, 1]), the rated clips"),
    TaskDoc(
        "mer-quadrant-loco",
        LOCO_CONFIGS,
        "quadrant, every clip predicted without its corpus (fold = held-out corpus)",
        CLIPS_AUDIO,
    ),
    TaskDoc(
        "mer-va-loco",
        LOCO_CONFIGS,
        "valence, arousal, the rated clips without their corpus",
        CLIPS_AUDIO,
    ),
    TaskDoc(
        "mer-quadrant-thesis", (THESIS_CONFIG,), "quadrant, the thesis's test clips", CLIPS_AUDIO
    ),
    TaskDoc(
        "mer-va-thesis", (THESIS_CONFIG,), "valence, arousal, the rated test clips", CLIPS_AUDIO
    ),
)

FOLDS = (
    "Artist-, song- and video-independent, stratified by quadrant, seeded by the recipe (the "
    "thesis used one 65/15/20 % song-level split, which leaked artists); every fold within 25 % "
    "of the mean fold size. Cross-corpus duplicates are flagged in the audit, not removed."
)

LIMITATIONS = (
    "Three corpora with different annotation protocols: DEAM's continuous ratings, "
    "Soundtracks' excerpt ratings and EMOPIA's quadrant labels are not one scale.",
    "EMOPIA clips have a quadrant but no valence/arousal: `mer-va` scores the rated clips only.",
    "Instrumentalness of DEAM songs rests on Spotify's (recorded or user-supplied) values and "
    "a manual review.",
)

CARD = CardDoc(
    pretty_name="Instrumental MER: DEAM, Soundtracks and EMOPIA clips with quadrants",
    sources=("deam", "soundtracks", "emopia"),
    thesis="rodningen2022",
    task_categories=("audio-classification",),
    tags=("music-emotion-recognition", "instrumental-music", "valence-arousal"),
    columns=COLUMNS,
    tasks=TASKS,
    limitations=LIMITATIONS,
    folds=FOLDS,
)

"""What MiSME's card says about it: licence sources, columns, tasks, folds, limitations."""

from __future__ import annotations

from builders.hf.card_doc import CardDoc, ColumnDoc, TaskDoc

BSS = ("bss", "bss-oracle")
NINE_POINT = "1-9 (the source's rating scale)"
NORM = "[-1, 1], (x - 5) / 4 of the 1-9 value"

COLUMNS = (
    ColumnDoc("actor", "RAVDESS actor, two digits.", "01..24"),
    ColumnDoc(
        "gender", "The actor's gender.", codes=(("female", "even actor"), ("male", "odd actor"))
    ),
    ColumnDoc(
        "emotion",
        "Acted emotion (RAVDESS code).",
        codes=tuple(
            (str(i), name)
            for i, name in enumerate(
                ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised"), 1
            )
        ),
    ),
    ColumnDoc("emotion_name", "The emotion's name (see `emotion`)."),
    ColumnDoc("intensity", "Emotional intensity.", codes=(("1", "normal"), ("2", "strong"))),
    ColumnDoc(
        "statement",
        "The sentence spoken.",
        codes=(("1", "Kids are talking by the door"), ("2", "Dogs are sitting by the door")),
    ),
    ColumnDoc("repetition", "RAVDESS repetition of the take.", "1..2"),
    ColumnDoc(
        "corpus",
        "The music clip's source corpus.",
        codes=(("deam", "DEAM"), ("soundtracks", "Soundtracks")),
    ),
    ColumnDoc(
        "valence", "The music clip's valence (DEAM static mean; Soundtracks `valence`).", NINE_POINT
    ),
    ColumnDoc(
        "arousal", "The music clip's arousal (DEAM static mean; Soundtracks `energy`).", NINE_POINT
    ),
    ColumnDoc("valence_norm", "`valence` rescaled.", NORM),
    ColumnDoc("arousal_norm", "`arousal` rescaled.", NORM),
    ColumnDoc(
        "quadrant",
        "Russell quadrant of (valence_norm, arousal_norm); zero counts as low.",
        codes=(("Q1", "V>0, A>0"), ("Q2", "V<=0, A>0"), ("Q3", "V<=0, A<=0"), ("Q4", "V>0, A<=0")),
    ),
    ColumnDoc("speech_id", "The `id` of the mix's speech clip in config `speech`."),
    ColumnDoc("music_id", "The `id` of the mix's music clip in config `music`."),
    ColumnDoc("pair_index", "Which of the speech clip's K music partners this mix is.", "0..K-1"),
    ColumnDoc(
        "window_index",
        "The 4.5 s window of the music picked (at random, seeded) for the SER crop "
        "`audio_window`; the speech is centred in every window.",
        "0..P-1, P = floor(music duration / 4.5 s)",
    ),
    ColumnDoc("window_start_s", "Start of that window in the mix.", "seconds"),
    ColumnDoc(
        "mix_gain_db",
        "Gain applied to the whole mix so that its peak stays within full scale (0 when the "
        "plain sum does not clip; never hard-clipped).",
        "dB, <= 0",
    ),
    ColumnDoc(
        "overlap",
        "Measured fraction of the music's duration covered by active speech (20 ms frames "
        "within 35 dB of the loudest).",
        "0..1",
    ),
    ColumnDoc(
        "audio",
        "The speech clip: the RAVDESS take at the output rate and -23 LUFS.",
        configs=("speech",),
    ),
    ColumnDoc("audio", "The music clip at -23 LUFS.", configs=("music",)),
    ColumnDoc("audio", "The full mix: music with the speech in every window.", configs=("mixed",)),
    ColumnDoc(
        "audio_window",
        "The mix cropped to the SER window (`window_start_s`, 4.5 s).",
        configs=("mixed",),
    ),
    ColumnDoc("audio", "Separated music (accompaniment estimate) of the full mix.", configs=BSS),
    ColumnDoc(
        "audio_window",
        "Separated speech (vocals estimate) of the full mix, cropped to the SER window.",
        configs=BSS,
    ),
)

TASKS = (
    TaskDoc("misme-ser", ("mixed", *BSS), "emotion (1-8)", "audio_window"),
    TaskDoc("misme-mer", ("mixed", *BSS), "valence, arousal (1-9)"),
    TaskDoc("misme-ser-speech", ("speech",), "emotion (1-8)"),
    TaskDoc("misme-mer-music", ("music",), "valence, arousal (1-9)"),
)

FOLDS = (
    "Speaker- and music-independent: 4 actors per fold (2 male, 2 female), music clips shuffled "
    "into folds of equal size (±1) stratified by corpus and quadrant, every random decision "
    "seeded from the recipe's seed and the item's id. Every variant (speech, music, mixed, "
    "separated) shares its sources' fold, so each actor and each music clip is in exactly one "
    "fold. Each speech clip is mixed with K music clips of its own fold."
)

LIMITATIONS = (
    "Acted speech (24 North American English actors, two sentences); real broadcast speech "
    "and its emotions differ.",
    "Speech and music are mixed without any contextual relation, at equal loudness (-23 LUFS).",
    "The music's valence and arousal are the source corpora's listener ratings; the speech's "
    "emotion is the actor's intended one.",
    "Separated configs are as good as their separation model (quality in the card's BSS sections).",
)

CARD = CardDoc(
    pretty_name="MiSME: mixed speech and music emotion recognition",
    sources=("ravdess", "deam", "soundtracks"),
    thesis="laugs2020",
    task_categories=("audio-classification",),
    tags=(
        "speech-emotion-recognition",
        "music-emotion-recognition",
        "mixed-audio",
        "source-separation",
    ),
    language=("en",),
    columns=COLUMNS,
    tasks=TASKS,
    limitations=LIMITATIONS,
    folds=FOLDS,
    default_config="mixed",
)

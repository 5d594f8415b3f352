"""Synthetic RAVDESS: speech-like clips whose prosody and voice quality carry the emotion.

``write_ravdess`` writes ``Actor_XX/03-01-EE-II-SS-RR-AA.wav``: 48 kHz mono 16-bit clips
(24 actors, odd = male). Emotions change F0 level, range and jitter, speaking rate,
breathiness, spectral tilt and consonant strength, so they survive loudness normalisation.
Every draw comes from ``rng_for(seed, purpose, id)``: the same seed gives the same bytes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
from scipy import signal

from builders.common.seeding import rng_for
from builders.demo.audio_files import write_int16_wav

SPEECH_RATE = 48_000
N_ACTORS = 24


@dataclass(frozen=True)
class Voice:
    """Emotion-dependent prosody and voice quality of one utterance."""

    f0_factor: float  # multiplies the speaker's base F0
    f0_range_st: float  # spread of syllable pitch accents, semitones
    rate: float  # syllables per second
    jitter: float  # relative F0 perturbation
    breath: float  # share of aspiration noise in the source
    brightness: float  # glottal pulse sharpness / spectral tilt, about -1..1.5
    tremor_st: float  # 5.5 Hz F0 tremor depth, semitones
    level_db: float  # peak level of the written file (not a cue after normalisation)
    consonants: float  # strength of the noise bursts at syllable onsets
    final_rise_st: float  # pitch movement over the last syllables


EMOTION_VOICES: dict[int, Voice] = {
    1: Voice(1.00, 2.0, 4.2, 0.004, 0.05, 0.0, 0.0, -10.0, 0.30, -2.0),  # neutral
    2: Voice(0.94, 1.4, 3.3, 0.003, 0.16, -0.7, 0.0, -13.0, 0.18, -2.5),  # calm
    3: Voice(1.28, 6.0, 5.0, 0.008, 0.05, 0.6, 0.0, -6.0, 0.50, 1.0),  # happy
    4: Voice(0.88, 1.0, 2.6, 0.014, 0.26, -1.1, 0.35, -15.0, 0.12, -3.5),  # sad
    5: Voice(1.35, 4.0, 5.7, 0.020, 0.12, 1.4, 0.0, -3.0, 0.95, -1.0),  # angry
    6: Voice(1.55, 3.0, 6.3, 0.028, 0.20, 0.2, 0.9, -8.0, 0.40, 0.5),  # fearful
    7: Voice(0.84, 3.2, 3.0, 0.032, 0.10, 0.4, 0.0, -9.0, 0.65, -1.5),  # disgust
    8: Voice(1.45, 8.0, 4.5, 0.006, 0.08, 0.8, 0.0, -6.0, 0.50, 7.0),  # surprised
}

# F1, F2, F3 (Hz) of an adult male voice; vowel sequences of the two RAVDESS statements.
VOWEL_FORMANTS = {
    "a": (730, 1090, 2440),
    "i": (300, 2250, 3000),
    "u": (320, 870, 2240),
    "o": (570, 840, 2410),
}
STATEMENT_VOWELS = {1: "iaoiauo", 2: "oaiiauo"}


def strong_voice(voice: Voice) -> Voice:
    """Strong intensity: every parameter 1.5x further from neutral."""
    neutral = EMOTION_VOICES[1]
    return replace(
        voice,
        **{
            f.name: getattr(neutral, f.name)
            + 1.5 * (getattr(voice, f.name) - getattr(neutral, f.name))
            for f in fields(Voice)
        },
    )


@dataclass(frozen=True)
class Speaker:
    base_f0: float
    formant_scale: float
    rate_factor: float
    breath_offset: float


def speaker_for(seed: int, actor: int) -> Speaker:
    """Stable traits of one demo actor (odd = male)."""
    rng = rng_for(seed, "demo-ravdess-actor", f"{actor:02d}")
    male = actor % 2 == 1
    return Speaker(
        base_f0=float(rng.uniform(100, 135) if male else rng.uniform(185, 235)),
        formant_scale=float((1.0 if male else 1.16) * rng.uniform(0.95, 1.05)),
        rate_factor=float(rng.uniform(0.9, 1.1)),
        breath_offset=float(rng.uniform(-0.03, 0.03)),
    )


def ravdess_name(emotion: int, intensity: int, statement: int, repetition: int, actor: int) -> str:
    return f"03-01-{emotion:02d}-{intensity:02d}-{statement:02d}-{repetition:02d}-{actor:02d}.wav"


def synth_speech(
    seed: int, name: str, speaker: Speaker, emotion: int, intensity: int, statement: int
) -> np.ndarray:
    """One speech-like utterance as float64 mono at 48 kHz, silence before and after."""
    rng = rng_for(seed, "demo-ravdess-clip", name)
    voice = EMOTION_VOICES[emotion] if intensity == 1 else strong_voice(EMOTION_VOICES[emotion])
    vowels = STATEMENT_VOWELS[statement]
    durations = rng.uniform(0.75, 1.25, len(vowels)) / (voice.rate * speaker.rate_factor)
    edges = np.concatenate([[0.0], np.cumsum(durations)])
    n = int(edges[-1] * SPEECH_RATE)
    t = np.arange(n) / SPEECH_RATE
    syllable = np.minimum(np.searchsorted(edges, t, side="right") - 1, len(vowels) - 1)
    envelope = _syllable_envelope(rng, t, edges, syllable, voice)
    f0 = _f0_contour(rng, t, edges, speaker, voice)
    voiced, aspiration = _glottal_source(rng, f0, voice, speaker)
    vowel_sounds = _formant_filter(
        (voiced + aspiration) * envelope, vowels, syllable, speaker.formant_scale
    )
    # a direct voiced path keeps the emotion-dependent spectral tilt above F3
    speech = vowel_sounds + 0.2 * voiced * envelope + _consonant_bursts(rng, n, edges, voice)
    return _pad_with_silence(rng, speech, voice)


def _syllable_envelope(rng, t, edges, syllable, voice: Voice) -> np.ndarray:
    stress = rng.uniform(0.55, 1.0, len(edges) - 1)
    phase = (t - edges[syllable]) / (edges[syllable + 1] - edges[syllable])
    sharpness = 0.35 if voice.consonants > 0.6 else 0.7
    return stress[syllable] * np.sin(np.pi * phase) ** sharpness


def _f0_contour(rng, t, edges, speaker: Speaker, voice: Voice) -> np.ndarray:
    centres = (edges[:-1] + edges[1:]) / 2
    count = len(centres)
    accents = voice.f0_range_st * (rng.random(count) - 0.5)
    trend = np.zeros(count)
    trend[-2:] = voice.final_rise_st * np.array([0.4, 1.0])
    trend[:-2] += np.linspace(0.0, min(voice.final_rise_st, 0.0), count - 2)
    semitones = np.interp(t, centres, accents + trend)
    semitones += voice.tremor_st * np.sin(2 * np.pi * 5.5 * t + rng.uniform(0, 2 * np.pi))
    jitter_knots = rng.standard_normal(int(t[-1] * 150) + 2)
    jitter = voice.jitter * np.interp(t * 150, np.arange(jitter_knots.size), jitter_knots)
    return speaker.base_f0 * voice.f0_factor * 2 ** (semitones / 12) * (1 + jitter)


def _glottal_source(
    rng, f0: np.ndarray, voice: Voice, speaker: Speaker
) -> tuple[np.ndarray, np.ndarray]:
    """Voiced excitation (differentiated glottal pulses) and aspiration noise."""
    phase = np.cumsum(f0 / SPEECH_RATE) % 1.0
    sharpness = math.exp(1.2 + 0.9 * voice.brightness)
    pulse = (0.5 - 0.5 * np.cos(2 * np.pi * phase)) ** sharpness
    voiced = np.diff(pulse, prepend=pulse[0])
    voiced /= np.max(np.abs(voiced)) + 1e-12
    breath = float(np.clip(voice.breath + speaker.breath_offset, 0.0, 0.6))
    noise = rng.standard_normal(f0.size) * (0.4 + 0.6 * pulse) * 0.5
    return (1 - breath) * voiced, breath * noise


def _formant_filter(
    excitation: np.ndarray, vowels: str, syllable: np.ndarray, scale: float
) -> np.ndarray:
    out = np.zeros_like(excitation)
    vowel_of_sample = np.array(list(vowels))[syllable]
    for vowel, formants in VOWEL_FORMANTS.items():
        mask = vowel_of_sample == vowel
        if not mask.any():
            continue
        filtered = np.zeros_like(excitation)
        for gain, (freq, bandwidth) in zip(
            (1.0, 0.55, 0.3), zip(formants, (90, 120, 200)), strict=True
        ):
            b, a = signal.iirpeak(freq * scale, freq * scale / bandwidth, fs=SPEECH_RATE)
            filtered += gain * signal.lfilter(b, a, excitation)
        out[mask] = filtered[mask]
    return out


def _consonant_bursts(rng, n: int, edges: np.ndarray, voice: Voice) -> np.ndarray:
    bursts = np.zeros(n)
    length = int(0.035 * SPEECH_RATE)
    decay = np.exp(-np.arange(length) / (0.012 * SPEECH_RATE))
    for start in (edges[:-1] * SPEECH_RATE).astype(int):
        stop = min(start + length, n)
        noise = np.diff(rng.standard_normal(stop - start + 1))
        bursts[start:stop] += 0.06 * voice.consonants * noise * decay[: stop - start]
    return bursts


def _pad_with_silence(rng, speech: np.ndarray, voice: Voice) -> np.ndarray:
    lead, tail = (rng.uniform(0.4, 0.7, 2) * SPEECH_RATE).astype(int)
    clip = np.concatenate([np.zeros(lead), speech, np.zeros(tail)])
    peak = 10 ** ((voice.level_db + rng.uniform(-1.5, 1.5)) / 20)
    clip *= peak / (np.max(np.abs(clip)) + 1e-12)
    return clip + 10 ** (-72 / 20) * rng.standard_normal(clip.size)


def speech_plan(clips_per_actor: int) -> list[tuple[int, int, int, int, int]]:
    """(actor, emotion, intensity, statement, repetition) of every demo speech clip.

    Emotions rotate so that each is used about equally often, equally by both genders
    (the two actors of a male/female pair get the same emotions); intensity, statement
    and repetition vary across actors.
    """
    plan = []
    for actor in range(1, N_ACTORS + 1):
        pair = (actor - 1) // 2
        combos = {e: _combos_for(e, actor) for e in EMOTION_VOICES}
        emotion = (pair * clips_per_actor) % 8
        while len([p for p in plan if p[0] == actor]) < clips_per_actor:
            e = emotion % 8 + 1
            if combos[e]:
                plan.append((actor, e, *combos[e].pop(0)))
            emotion += 1
    return plan


def _combos_for(emotion: int, actor: int) -> list[tuple[int, int, int]]:
    if emotion == 1:
        order = [(1, 1, 1), (1, 2, 2), (1, 2, 1), (1, 1, 2)]
    else:
        order = [
            (1, 1, 1),
            (2, 2, 1),
            (1, 2, 2),
            (2, 1, 2),
            (2, 1, 1),
            (1, 2, 1),
            (2, 2, 2),
            (1, 1, 2),
        ]
    shift = actor % len(order)
    return order[shift:] + order[:shift]


def write_ravdess(root: Path, seed: int, clips_per_actor: int) -> int:
    plan = speech_plan(clips_per_actor)
    for actor, emotion, intensity, statement, repetition in plan:
        name = ravdess_name(emotion, intensity, statement, repetition, actor)
        folder = root / f"Actor_{actor:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        audio = synth_speech(seed, name, speaker_for(seed, actor), emotion, intensity, statement)
        write_int16_wav(folder / name, audio, SPEECH_RATE)
    return len(plan)

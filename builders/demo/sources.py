"""`misme-build demo-sources SRC`: synthetic RAVDESS, DEAM and Soundtracks copies.

The corpora are written in the on-disk formats of the real distributions, so the
real readers (``builders.corpora``) are exercised end to end:

- ``SRC/RAVDESS/Actor_XX/03-01-EE-II-SS-RR-AA.wav``: 48 kHz mono 16-bit speech-like
  clips (24 actors, odd = male);
- ``SRC/DEAM/MEMD_audio/<song_id>.mp3`` (44.1 kHz stereo) and the static annotation
  CSVs (leading-space headers, CRLF, both file variants, a few rows without audio);
- ``SRC/Soundtracks/Set1/NNN.mp3`` and ``mean_ratings_set1.csv`` (BOM, CRLF).

The signals carry their labels after loudness normalisation: emotions change F0
level, range and jitter, speaking rate, breathiness, spectral tilt and consonant
strength; music valence sets the mode (major/minor), dissonance and register, music
arousal sets tempo, note density, brightness, attack and percussion. Every draw comes
from ``rng_for(seed, purpose, id)``, so the same seed gives byte-identical files.
"""

from __future__ import annotations

import json
import math
import subprocess
from dataclasses import dataclass, fields, replace
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import soundfile as sf
from scipy import signal

from builders.common.atomic import atomic_dir
from builders.common.seeding import rng_for
from builders.errors import UserError

SPEECH_RATE = 48_000
MUSIC_RATE = 44_100
N_ACTORS = 24
MARKER = ".misme-demo-sources.json"
DEAM_ANNOTATION_DIR = "annotations/annotations averaged per song/song_level"
DEAM_EXTRA_ANNOTATIONS = 3  # annotation rows without audio, as in partial downloads
SOUNDTRACKS_EXTRA_RATINGS = 2


# --------------------------------------------------------------------------- speech


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


def write_int16_wav(path: Path, audio: np.ndarray, rate: int) -> None:
    """16-bit PCM with deterministic rounding (no dither)."""
    pcm = np.rint(np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)
    sf.write(path, pcm, rate, subtype="PCM_16", format="WAV")


def write_ravdess(root: Path, seed: int, clips_per_actor: int) -> int:
    plan = speech_plan(clips_per_actor)
    for actor, emotion, intensity, statement, repetition in plan:
        name = ravdess_name(emotion, intensity, statement, repetition, actor)
        folder = root / f"Actor_{actor:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        audio = synth_speech(seed, name, speaker_for(seed, actor), emotion, intensity, statement)
        write_int16_wav(folder / name, audio, SPEECH_RATE)
    return len(plan)


# --------------------------------------------------------------------------- music


def draw_valence_arousal(
    seed: int, corpus: str, item: str, index: int, decimals: int
) -> tuple[float, float]:
    """Valence and arousal on 1-9; ``index`` cycles the four quadrants."""
    rng = rng_for(seed, f"demo-{corpus}-labels", item)
    high_valence, high_arousal = index % 2 == 0, (index // 2) % 2 == 0
    valence = 5 + (1 if high_valence else -1) * rng.uniform(0.3, 3.4)
    arousal = 5 + (1 if high_arousal else -1) * rng.uniform(0.3, 3.4)
    return round(float(valence), decimals), round(float(arousal), decimals)


@dataclass(frozen=True)
class Style:
    """Musical parameters derived from valence and arousal (1-9)."""

    tempo: float
    major_share: float
    dissonance: float
    register: int
    brightness: float  # harmonic roll-off exponent; lower is brighter
    notes_per_beat: float
    attack_s: float
    percussion: float
    level_db: float


def style_for(rng: np.random.Generator, valence: float, arousal: float) -> Style:
    v, a = (valence - 1) / 8, (arousal - 1) / 8
    return Style(
        tempo=float(60 + 100 * a + rng.normal(0, 5)),
        major_share=float(np.clip(1.3 * v - 0.15, 0, 1)),
        dissonance=float(np.clip(0.8 - 1.6 * v, 0, 0.8)),
        register=int(round(4 * v - 2)),
        brightness=float(2.7 - 1.9 * a),
        notes_per_beat=float(0.5 + 3.5 * a),
        attack_s=float(0.004 + 0.3 * (1 - a) ** 2),
        percussion=float(np.clip(1.6 * a - 0.4, 0, 1)),
        level_db=float(-16 + 12 * a),
    )


def _wavetable(brightness: float, size: int = 4096, harmonics: int = 16) -> np.ndarray:
    k = np.arange(1, harmonics + 1)
    phase = np.arange(size) / size
    table = (k**-brightness) @ np.sin(2 * np.pi * np.outer(k, phase))
    return table / np.max(np.abs(table))


def _midi_hz(note: float) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


class _Mixer:
    """Accumulates notes and drum hits into a stereo buffer.

    Every note's time axis is a prefix of one shared ``arange / rate`` and its decay a prefix
    of one shared ``exp``; the attack and release ramps are computed only where they are
    below 1 (elsewhere they multiply by exactly 1.0); the wavetable phase is ``x - floor(x)``,
    which equals ``x % 1.0`` exactly for x >= 0; temporaries live in buffers reused across
    notes. Each sample gets the same float operations as the plain per-note formula, so the
    bytes are the same; the synthesis is about twice as fast.
    """

    def __init__(self, frames: int, table: np.ndarray, style: Style):
        self.out = np.zeros((frames, 2))
        self.table = table
        self.style = style
        self.time = np.arange(frames) / MUSIC_RATE
        self.decay = np.exp(-self.time * (0.5 + 3 * style.percussion))
        self._phase, self._env, self._side = np.empty(frames), np.empty(frames), np.empty(frames)
        self._index = np.empty(frames, dtype=np.int64)

    def note(self, start_s: float, dur_s: float, midi: float, amp: float, pan: float) -> None:
        start = int(start_s * MUSIC_RATE)
        n = min(int(dur_s * MUSIC_RATE), self.out.shape[0] - start)
        if n <= 0:
            return
        t, phase, index, env = self.time[:n], self._phase[:n], self._index[:n], self._env[:n]
        np.multiply(_midi_hz(midi), t, out=phase)
        np.subtract(phase, np.floor(phase, out=self._side[:n]), out=phase)
        np.multiply(phase, self.table.size, out=phase)
        np.copyto(index, phase, casting="unsafe")
        attack = min(self.style.attack_s, dur_s / 2)
        np.copyto(env, self.decay[:n])
        rising = min(n, int(attack * MUSIC_RATE) + 2)  # past it, t / attack >= 1
        env[:rising] = np.minimum(t[:rising] / attack, 1.0) * env[:rising]
        falling = max(0, int((dur_s - 0.05) * MUSIC_RATE) - 2)  # before it, (dur - t) / 0.05 > 1
        if falling < n:
            env[falling:] *= np.minimum((dur_s - t[falling:]) / 0.05, 1.0).clip(0, 1)
        np.multiply(amp, env, out=env)
        np.multiply(env, np.take(self.table, index, out=phase), out=env)
        self._add(start, env, pan)

    def hit(self, start_s: float, sound: np.ndarray, pan: float) -> None:
        start = int(start_s * MUSIC_RATE)
        n = min(sound.size, self.out.shape[0] - start)
        if n > 0:
            self._add(start, sound[:n], pan)

    def _add(self, start: int, mono: np.ndarray, pan: float) -> None:
        angle = (pan + 1) * np.pi / 4
        side = self._side[: mono.size]
        for channel, gain in enumerate((math.cos(angle), math.sin(angle))):
            self.out[start : start + mono.size, channel] += np.multiply(gain, mono, out=side)


def _drums(rng: np.random.Generator) -> dict[str, np.ndarray]:
    t = np.arange(int(0.25 * MUSIC_RATE)) / MUSIC_RATE
    kick = np.sin(2 * np.pi * (50 * t + 70 * 0.04 * (1 - np.exp(-t / 0.04)))) * np.exp(-t / 0.12)
    noise = rng.standard_normal(t.size)
    snare = (0.6 * noise + 0.4 * np.sin(2 * np.pi * 190 * t)) * np.exp(-t / 0.07)
    hat = np.diff(noise, prepend=0.0) * np.exp(-t / 0.02) * 0.5
    return {"kick": kick, "snare": snare, "hat": hat}


MAJOR, MINOR = (0, 4, 7), (0, 3, 7)
MAJOR_SCALE, MINOR_SCALE = (0, 2, 4, 5, 7, 9, 11), (0, 2, 3, 5, 7, 8, 10)


PROGRESSIONS = ((0, 3, 4, 0), (0, 5, 3, 4), (0, 4, 5, 3), (0, 3, 0, 4))  # scale degrees per bar
DIATONIC_MAJOR = {0: True, 3: True, 4: True, 5: False}  # I IV V vi in a major key
DIATONIC_MINOR = {0: False, 3: False, 4: False, 5: True}  # i iv v VI in a natural minor key


def synth_music(
    seed: int, item: str, valence: float, arousal: float, duration_s: float
) -> np.ndarray:
    """A music-like stereo excerpt (float64, 44.1 kHz) that carries valence and arousal."""
    rng = rng_for(seed, "demo-music-audio", item)
    style = style_for(rng, valence, arousal)
    mixer = _Mixer(int(duration_s * MUSIC_RATE), _wavetable(style.brightness), style)
    beat = 60.0 / style.tempo
    key = 45 + int(rng.integers(0, 12)) + style.register
    progression = PROGRESSIONS[int(rng.integers(0, len(PROGRESSIONS)))]
    for bar, bar_start in enumerate(np.arange(0.0, duration_s, 4 * beat)):
        chord = _chord(rng, key, progression[bar % len(progression)], style)
        for i, note in enumerate(chord):
            mixer.note(bar_start, 4 * beat, note, 0.22, -0.6 + 1.2 * i / max(len(chord) - 1, 1))
        mixer.note(bar_start, 4 * beat, chord[0] - 12, 0.3, 0.0)
        _melody(rng, mixer, bar_start, beat, chord, style)
    _percussion(rng, mixer, duration_s, beat, style)
    return _fade_and_level(rng, mixer.out, style)


def _chord(rng, key: int, degree: int, style: Style) -> list[float]:
    """A diatonic triad of the valence's mode; mid valences borrow from the other mode."""
    in_major = style.major_share >= 0.5
    scale, qualities = (MAJOR_SCALE, DIATONIC_MAJOR) if in_major else (MINOR_SCALE, DIATONIC_MINOR)
    major = qualities[degree]
    borrow = (1 - style.major_share) if in_major else style.major_share
    if rng.random() < borrow:
        major = not major
    root = key + scale[degree]
    notes = [root + step for step in (MAJOR if major else MINOR)]
    if rng.random() < style.dissonance:
        notes.append(root + float(rng.choice([1, 6, 11])))
    detune = style.dissonance * 0.15
    return [note + rng.uniform(-detune, detune) for note in notes]


def _melody(
    rng, mixer: _Mixer, bar_start: float, beat: float, chord: list[float], style: Style
) -> None:
    count = max(1, int(round(4 * style.notes_per_beat * rng.uniform(0.8, 1.2))))
    step = 4 * beat / count
    pitches = rng.choice(np.array(chord) + 12, size=count) + 12 * rng.integers(0, 2, count)
    for k, pitch in enumerate(pitches):
        mixer.note(
            bar_start + k * step, step * 0.9, float(pitch), 0.16, float(rng.uniform(-0.3, 0.3))
        )


def _percussion(rng, mixer: _Mixer, duration_s: float, beat: float, style: Style) -> None:
    if style.percussion <= 0:
        return
    drums = _drums(rng)
    for k, start in enumerate(np.arange(0.0, duration_s, beat / 2)):
        on_beat = k % 2 == 0
        if on_beat and rng.random() < style.percussion:
            mixer.hit(start, 0.7 * style.percussion * drums["kick"], 0.0)
        if on_beat and (k // 2) % 2 == 1 and style.percussion > 0.5:
            mixer.hit(start, 0.5 * style.percussion * drums["snare"], 0.1)
        if rng.random() < style.percussion:
            mixer.hit(start, 0.4 * style.percussion * drums["hat"], 0.4)


def _fade_and_level(rng, audio: np.ndarray, style: Style) -> np.ndarray:
    fade = np.minimum(np.arange(audio.shape[0]) / (0.05 * MUSIC_RATE), 1.0)
    audio = audio * (fade * fade[::-1])[:, None]
    peak = 10 ** ((style.level_db + rng.uniform(-1.0, 1.0)) / 20)
    return audio * (peak / (np.max(np.abs(audio)) + 1e-12))


def write_music(path: Path, audio: np.ndarray, music_format: str) -> None:
    """Write a stereo excerpt as MP3 (LAME through the bundled ffmpeg) or 16-bit WAV."""
    data = np.clip(audio, -1.0, 1.0).astype("<f4")
    if music_format == "wav":
        write_int16_wav(path, data, MUSIC_RATE)
        return
    # ffmpeg's LAME at its fastest algorithm setting is ~5x faster than libsndfile's
    # MP3 writer; bitexact flags keep version strings out of the file.
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-nostdin",
        "-v",
        "error",
        "-f",
        "f32le",
        "-ar",
        str(MUSIC_RATE),
        "-ac",
        "2",
        "-i",
        "-",
        "-c:a",
        "libmp3lame",
        "-q:a",
        "4",
        "-compression_level",
        "9",
        "-fflags",
        "+bitexact",
        "-flags:a",
        "+bitexact",
        "-map_metadata",
        "-1",
        "-y",
        "-f",
        "mp3",
        str(path),
    ]
    result = subprocess.run(command, input=data.tobytes(), capture_output=True, check=False)
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip().splitlines()
        raise UserError(
            f"ffmpeg could not write {path.name}: {message[-1] if message else 'unknown error'}"
        )


def music_format_available() -> str:
    """``mp3`` when the bundled ffmpeg runs here, else ``wav``."""
    try:
        imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError:
        return "wav"
    return "mp3"


# --------------------------------------------------------------------------- DEAM


def deam_song_ids(seed: int, count: int) -> tuple[list[int], list[int], list[int]]:
    """(ids in the 1_2000 file with audio, ids in the 2000_2058 file with audio, ids without audio)."""
    rng = rng_for(seed, "demo-deam-ids")
    late = min(2, count - 1) if count > 1 else 0
    early = rng.choice(
        np.arange(2, 2001), size=count - late + DEAM_EXTRA_ANNOTATIONS, replace=False
    )
    late_ids = sorted(int(i) for i in rng.choice(np.arange(2001, 2059), size=late, replace=False))
    early_ids = [int(i) for i in early]
    return sorted(early_ids[: count - late]), late_ids, sorted(early_ids[count - late :])


def deam_duration(seed: int, song_id: int, low: float, high: float) -> float:
    """Skewed towards short clips: mean about low + 10 s, capped at ``high``."""
    rng = rng_for(seed, "demo-deam-duration", str(song_id))
    return round(float(min(low + rng.gamma(1.3, (high - low) / 5), high)), 2)


def _csv_lines(rows: list[list[str]]) -> bytes:
    return "".join(",".join(row) + "\r\n" for row in rows).encode()


def _g(value: float) -> str:
    return f"{value:g}"


def write_deam(
    root: Path, seed: int, count: int, duration_range: tuple[float, float], music_format: str
) -> dict[str, int]:
    early, late, extra = deam_song_ids(seed, count)
    audio_dir = root / "MEMD_audio"
    audio_dir.mkdir(parents=True)
    labels = {}
    for index, song_id in enumerate(sorted(early + late + extra)):
        labels[song_id] = draw_valence_arousal(seed, "deam", str(song_id), index, 1)
    for song_id in early + late:
        duration = deam_duration(seed, song_id, *duration_range)
        audio = synth_music(seed, f"deam-{song_id}", *labels[song_id], duration)
        write_music(audio_dir / f"{song_id}.{music_format}", audio, music_format)
    _write_deam_annotations(root / DEAM_ANNOTATION_DIR, seed, sorted(early + extra), late, labels)
    return {"files": len(early) + len(late), "annotations_without_audio": len(extra)}


def _write_deam_annotations(
    folder: Path,
    seed: int,
    early: list[int],
    late: list[int],
    labels: dict[int, tuple[float, float]],
) -> None:
    folder.mkdir(parents=True)
    header = ["song_id", " valence_mean", " valence_std", " arousal_mean", " arousal_std"]
    rows = [header]
    for song_id in early:
        rng = rng_for(seed, "demo-deam-std", str(song_id))
        v, a = labels[song_id]
        rows.append(
            [
                str(song_id),
                _g(v),
                _g(round(rng.uniform(0.5, 2.1), 2)),
                _g(a),
                _g(round(rng.uniform(0.5, 2.1), 2)),
            ]
        )
    (folder / "static_annotations_averaged_songs_1_2000.csv").write_bytes(_csv_lines(rows))
    late_header = [
        "song_id",
        " valence_mean",
        " valence_std",
        " valence_ max_mean",
        " valence_max_std",
        " valence_min_mean",
        " valence_min_std",
        " arousal_mean",
        " arousal_std",
        " arousal_max_mean",
        " arousal_max_std",
        " arousal_min_mean",
        " arousal_min_std",
    ]
    rows = [late_header]
    for song_id in late:
        rng = rng_for(seed, "demo-deam-std", str(song_id))
        v, a = labels[song_id]
        spread = rng.uniform(0.5, 2.0, 10).round(2)
        rows.append(
            [str(song_id)]
            + [
                str(x)
                for x in (
                    v,
                    spread[0],
                    min(9.0, round(v + spread[1], 1)),
                    spread[2],
                    max(1.0, round(v - spread[3], 1)),
                    spread[4],
                    a,
                    spread[5],
                    min(9.0, round(a + spread[6], 1)),
                    spread[7],
                    max(1.0, round(a - spread[8], 1)),
                    spread[9],
                )
            ]
        )
    (folder / "static_annotations_averaged_songs_2000_2058.csv").write_bytes(_csv_lines(rows))


# --------------------------------------------------------------------------- Soundtracks


TARGETS = {
    (True, True): "HAPPY",
    (False, True): "ANGER",
    (False, False): "SAD",
    (True, False): "TENDER",
}


def write_soundtracks(
    root: Path, seed: int, count: int, duration_s: float, music_format: str
) -> dict[str, int]:
    rng = rng_for(seed, "demo-soundtracks-numbers")
    numbers = sorted(
        int(n)
        for n in rng.choice(
            np.arange(1, 361), size=count + SOUNDTRACKS_EXTRA_RATINGS, replace=False
        )
    )
    with_audio = set(int(n) for n in rng.choice(numbers, size=count, replace=False))
    audio_dir = root / "Set1"
    audio_dir.mkdir(parents=True)
    rows = [
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
    for index, number in enumerate(numbers):
        item = f"set1-{number:03d}"
        valence, arousal = draw_valence_arousal(seed, "soundtracks", item, index, 2)
        if number in with_audio:
            length = duration_s + rng_for(seed, "demo-soundtracks-duration", item).uniform(
                -1.0, 1.0
            )
            audio = synth_music(seed, f"soundtracks-{item}", valence, arousal, round(length, 2))
            write_music(audio_dir / f"{number:03d}.{music_format}", audio, music_format)
        rows.append(_soundtracks_row(seed, item, number, valence, arousal))
    (root / "mean_ratings_set1.csv").write_bytes(b"\xef\xbb\xbf" + _csv_lines(rows))
    return {"files": count, "ratings_without_audio": SOUNDTRACKS_EXTRA_RATINGS}


def _soundtracks_row(
    seed: int, item: str, number: int, valence: float, arousal: float
) -> list[str]:
    rng = rng_for(seed, "demo-soundtracks-scales", item)
    scales = rng.uniform(1.0, 7.5, 6)
    target = TARGETS[(valence > 5, arousal > 5)]
    return (
        [f"{number:03d}", f"{valence:.2f}", f"{arousal:.2f}"]
        + [f"{x:.2f}" for x in scales]
        + [target]
    )


# --------------------------------------------------------------------------- entry points


def _check_count(name: str, value: int, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise UserError(f"{name} must be an integer from {low} to {high}, got {value!r}")
    return value


def _check_dest(dest: Path) -> Path:
    dest = Path(dest).expanduser().absolute()
    if dest.exists() and not dest.is_dir():
        raise UserError(f"demo-sources destination is not a folder: {dest}")
    if dest.exists() and any(dest.iterdir()) and not (dest / MARKER).exists():
        raise UserError(
            f"demo-sources destination is not empty and was not written by demo-sources: {dest}"
        )
    return dest


def write_demo_sources(
    dest: Path,
    *,
    seed: int = 0,
    clips_per_actor: int = 4,
    n_deam: int = 36,
    n_soundtracks: int = 24,
    deam_duration_range: tuple[float, float] = (10.0, 60.0),
    soundtracks_duration_s: float = 15.0,
) -> dict:
    """Write the three demo corpora below ``dest`` (replaced as a whole) and return a summary.

    ``dest`` must be missing, empty, or an earlier demo-sources output. The same
    arguments always give byte-identical files.
    """
    dest = _check_dest(dest)
    _check_count("seed", seed, 0, 2**63 - 1)
    _check_count("clips per actor", clips_per_actor, 1, 60)
    _check_count("number of DEAM clips", n_deam, 1, 1990)
    _check_count("number of Soundtracks clips", n_soundtracks, 1, 350)
    low, high = (float(x) for x in deam_duration_range)
    if not 4.5 <= low <= high <= 600.0 or not 4.5 <= soundtracks_duration_s <= 600.0:
        raise UserError(
            "music durations must lie between 4.5 s (the v1 window) and 600 s (and min <= max)"
        )
    music_format = music_format_available()
    summary = {
        "seed": seed,
        "music_format": music_format,
        "ravdess": {
            "files": 0,
            "actors": N_ACTORS,
            "clips_per_actor": clips_per_actor,
            "sample_rate": SPEECH_RATE,
        },
        "deam": {"sample_rate": MUSIC_RATE, "duration_range_s": [low, high]},
        "soundtracks": {"sample_rate": MUSIC_RATE, "duration_s": soundtracks_duration_s},
    }
    try:
        with atomic_dir(dest) as tmp:
            summary["ravdess"]["files"] = write_ravdess(tmp / "RAVDESS", seed, clips_per_actor)
            summary["deam"].update(
                write_deam(tmp / "DEAM", seed, n_deam, (low, high), music_format)
            )
            summary["soundtracks"].update(
                write_soundtracks(
                    tmp / "Soundtracks", seed, n_soundtracks, soundtracks_duration_s, music_format
                )
            )
            (tmp / MARKER).write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    except OSError as error:
        raise UserError(
            f"cannot write demo sources to {dest}: {error.strerror or error}"
        ) from error
    return {"dest": str(dest), **summary}


def print_summary(summary: dict) -> None:
    """The lines `misme-build demo-sources` prints for the MiSME sources."""
    print(f"demo sources written to {summary['dest']} (seed {summary['seed']}):")
    print(
        f"  RAVDESS      {summary['ravdess']['files']} speech clips, {N_ACTORS} actors, 48 kHz mono WAV"
    )
    print(
        f"  DEAM         {summary['deam']['files']} clips ({summary['music_format'].upper()}), "
        f"{summary['deam']['annotations_without_audio']} annotations without audio"
    )
    print(
        f"  Soundtracks  {summary['soundtracks']['files']} clips ({summary['music_format'].upper()}), "
        f"{summary['soundtracks']['ratings_without_audio']} ratings without audio"
    )

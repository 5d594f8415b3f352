"""Synthetic music: stereo excerpts (44.1 kHz) whose sound carries valence and arousal.

Valence sets the mode (major/minor), dissonance and register; arousal sets tempo, note
density, brightness, attack and percussion. Every draw comes from ``rng_for(seed, purpose,
id)``: the same arguments give the same samples. Used by every demo's music corpora.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from builders.common.seeding import rng_for

MUSIC_RATE = 44_100


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

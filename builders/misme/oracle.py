"""Oracle separation: ideal ratio masks from the true stems (the upper bound, no model).

Pure numpy/scipy, deterministic: a Hann STFT with Spleeter's frame (4096, hop 1024), the
speech mask ``|S|^2 / (|S|^2 + |M|^2)`` and music mask ``1 - speech mask`` applied to the
*mix*'s STFT, inverse STFT by weighted overlap-add.
"""

from __future__ import annotations

import numpy as np
import scipy.fft

from builders.common.audio import fit_length

ORACLE_N_FFT = 4096  # Spleeter's frame length ...
ORACLE_HOP = 1024  # ... and hop, so the oracle bounds a Spleeter-like STFT masker


def _hann(n_fft: int) -> np.ndarray:
    """Periodic Hann window (the STFT-friendly one, as scipy's ``get_window('hann')``)."""
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)


def _stft(x: np.ndarray) -> np.ndarray:
    """Hann STFT of ``x`` [channels, frames]: ``[channels, n_frames, n_fft/2+1]`` complex64.

    The signal is zero-padded by n_fft/2 at both ends (centred frames) and at the end to
    a whole number of hops, as scipy.signal.stft(boundary="zeros", padded=True) does.
    """
    n_fft, hop = ORACLE_N_FFT, ORACLE_HOP
    length = x.shape[-1] + n_fft
    extra = (-(length - n_fft)) % hop
    padded = np.pad(x.astype(np.float32), ((0, 0), (n_fft // 2, n_fft // 2 + extra)))
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft, axis=-1)[:, ::hop]
    return scipy.fft.rfft(frames * _hann(n_fft), axis=-1).astype(np.complex64, copy=False)


def _istft(spec: np.ndarray, frames: int) -> np.ndarray:
    """Inverse of ``_stft`` by weighted overlap-add; returns [frames, channels] float32."""
    n_fft, hop = ORACLE_N_FFT, ORACLE_HOP
    window = _hann(n_fft)
    blocks = scipy.fft.irfft(spec, n=n_fft, axis=-1).astype(np.float32, copy=False) * window
    channels, n_frames, _ = blocks.shape
    per_hop = n_fft // hop  # n_fft is a whole number of hops: overlap-add hop-sized pieces
    pieces = blocks.reshape(channels, n_frames, per_hop, hop)
    signal = np.zeros((channels, n_frames + per_hop - 1, hop), dtype=np.float32)
    norm = np.zeros((n_frames + per_hop - 1, hop), dtype=np.float32)
    squared = (window**2).reshape(per_hop, hop)
    for k in range(per_hop):
        signal[:, k : k + n_frames] += pieces[:, :, k]
        norm[k : k + n_frames] += squared[k]
    signal = (signal / np.where(norm > 1e-8, norm, 1.0)).reshape(channels, -1)
    signal = signal[:, n_fft // 2 : n_fft // 2 + frames]
    return fit_length(np.ascontiguousarray(signal.T), frames)


def ideal_ratio_mask(target: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Power-ratio mask ``|T|² / (|T|² + |O|²)`` per bin; 0.5 where both are silent."""
    pt, po = np.abs(target) ** 2, np.abs(other) ** 2
    total = pt + po
    mask = np.full(total.shape, 0.5, dtype=np.float32)
    np.divide(pt, total, out=mask, where=total > 0)
    return mask


def oracle_separate(
    mix: np.ndarray, music: np.ndarray, speech: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(music, speech) estimates of ``mix`` by ideal ratio masks from the true stems.

    Per channel: Hann STFT (4096 / hop 1024, Spleeter's frame), speech mask
    ``|S|² / (|S|² + |M|²)`` and music mask ``1 - speech mask`` (a Wiener-like power
    ratio), applied to the *mix* STFT, inverse STFT, trimmed to the mix length. Pure
    numpy, deterministic. All arrays are float32 ``[frames, channels]``.
    """
    frames = len(mix)
    mask = ideal_ratio_mask(_stft(speech.T), _stft(music.T))
    spec = _stft(mix.T)
    speech_out = _istft(spec * mask, frames)
    music_out = _istft(spec * (1.0 - mask), frames)
    return music_out, speech_out

"""Separation quality: SI-SDR and SDR of separated stems against the true stems.

Definitions (``s`` = reference, ``ŝ`` = estimate, both flattened over channels, so a
stereo clip is one vector of ``2 * frames`` samples):

* SDR (plain energy ratio, no allowed distortion)::

      SDR = 10 log10( ||s||² / ||s - ŝ||² )

* SI-SDR (scale-invariant SDR, Le Roux, Wisdom, Erdogan & Hershey, "SDR - half-baked
  or well done?", ICASSP 2019)::

      α      = <ŝ, s> / ||s||²        (optimal scaling of the reference)
      e_tgt  = α s
      e_res  = ŝ - α s
      SI-SDR = 10 log10( ||e_tgt||² / ||e_res||² )

No mean removal is done (our clips are DC-free renders). A silent reference makes
both measures undefined: they are NaN. A perfect estimate gives ``+inf``, which is
capped at :data:`MAX_DB` so that summaries stay finite.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

MAX_DB = 150.0
_TINY = 1e-20

METRIC_COLUMNS = ("music_si_sdr", "music_sdr", "speech_si_sdr", "speech_sdr")


def _as_pair(estimate: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    est = np.asarray(estimate, dtype=np.float64)
    ref = np.asarray(reference, dtype=np.float64)
    if est.shape != ref.shape:
        raise ValueError(f"estimate shape {est.shape} != reference shape {ref.shape}")
    return est.ravel(), ref.ravel()


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """<a, b> by numpy's pairwise sum, not BLAS: the same bits whatever the thread count
    (a multi-threaded ``ddot`` sums in another order, so the last digits would depend on
    the machine, the engine and its worker settings)."""
    return float(np.multiply(a, b).sum())


def _ratio_db(signal_energy: float, error_energy: float) -> float:
    if error_energy <= _TINY:
        return MAX_DB
    return float(min(MAX_DB, 10.0 * np.log10(max(signal_energy, _TINY) / error_energy)))


def si_sdr(estimate: np.ndarray, reference: np.ndarray) -> float:
    """Scale-invariant SDR in dB (Le Roux et al. 2019); NaN for a silent reference."""
    est, ref = _as_pair(estimate, reference)
    ref_energy = _dot(ref, ref)
    if ref_energy <= _TINY:
        return float("nan")
    target = (_dot(est, ref) / ref_energy) * ref
    residual = est - target
    return _ratio_db(_dot(target, target), _dot(residual, residual))


def sdr(estimate: np.ndarray, reference: np.ndarray) -> float:
    """Plain SDR in dB: ``10 log10(||s||² / ||s - ŝ||²)``; NaN for a silent reference."""
    est, ref = _as_pair(estimate, reference)
    ref_energy = _dot(ref, ref)
    if ref_energy <= _TINY:
        return float("nan")
    error = est - ref
    return _ratio_db(ref_energy, _dot(error, error))


def clip_quality(
    music_estimate: np.ndarray,
    music_reference: np.ndarray,
    speech_estimate: np.ndarray,
    speech_reference: np.ndarray,
) -> dict[str, float]:
    """The four per-clip measures (music over the full mix, speech over the SER window)."""
    return {
        "music_si_sdr": si_sdr(music_estimate, music_reference),
        "music_sdr": sdr(music_estimate, music_reference),
        "speech_si_sdr": si_sdr(speech_estimate, speech_reference),
        "speech_sdr": sdr(speech_estimate, speech_reference),
    }


def summarise(per_clip: pd.DataFrame) -> pd.DataFrame:
    """Mean, median and count of each measure per fold and overall (``fold`` = "all").

    NaN values (silent references) are left out of the statistics.
    """
    columns = [c for c in METRIC_COLUMNS if c in per_clip.columns]
    groups: Iterable[tuple[str, pd.DataFrame]] = [
        (f"fold{int(fold)}", frame) for fold, frame in per_clip.groupby("fold", sort=True)
    ]
    rows = []
    for name, frame in [*groups, ("all", per_clip)]:
        row: dict[str, object] = {"fold": name, "clips": len(frame)}
        for column in columns:
            row[f"{column}_mean"] = float(frame[column].mean())
            row[f"{column}_median"] = float(frame[column].median())
        rows.append(row)
    return pd.DataFrame(rows)


def card_section(summary: pd.DataFrame, backend: str) -> str:
    """A Markdown table of :func:`summarise`'s output for the dataset card."""
    header = (
        f"### Separation quality ({backend})\n\n"
        "SI-SDR (Le Roux et al. 2019) and SDR in dB against the true normalised stems; "
        "music over the full mix, speech over the SER window; mean (median).\n\n"
        "| fold | clips | music SI-SDR | music SDR | speech SI-SDR | speech SDR |\n"
        "|---|---|---|---|---|---|\n"
    )
    lines = []
    for row in summary.to_dict("records"):
        cells = [
            f"{row.get(f'{m}_mean', float('nan')):.2f} ({row.get(f'{m}_median', float('nan')):.2f})"
            for m in METRIC_COLUMNS
        ]
        lines.append(f"| {row['fold']} | {row['clips']} | " + " | ".join(cells) + " |")
    return header + "\n".join(lines) + "\n"

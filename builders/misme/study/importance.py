"""Feature importance analysis (thesis Chapter 5): feature types, rankings, shared features,
statistics per type.

Types follow the thesis's tables: openSMILE's feature types of emobase2010 / IS10 (mfcc,
logMelFreqBand, lspFreq, F0, jitter, loudness, voicing, shimmer; eGeMAPS names fall into the
nearest) with a coarse group each (MFCC, spectral, F0, voice quality, energy); Essentia's
(tonal, erbbands, melbands, gfcc, mfcc, barkbands, spectral, rhythm, silence, hfc, pitch,
zerocrossingrate, dissonance, dynamic_complexity, average_loudness) with its namespace as
the group (low-level, rhythm, tonal).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SPEECH_TYPES = (  # (name fragment, type, group); first match wins
    ("mfcc", "mfcc", "MFCC"),
    ("logMelFreqBand", "logMelFreqBand", "spectral"),
    ("lspFreq", "lspFreq", "spectral"),
    ("F0", "F0", "F0"),
    ("jitter", "jitter", "voice quality"),
    ("shimmer", "shimmer", "voice quality"),
    ("voic", "voicing", "voice quality"),
    ("HNR", "voicing", "voice quality"),
    ("loudness", "loudness", "energy"),
    ("energy", "loudness", "energy"),
    ("spectral", "lspFreq", "spectral"),
    ("slope", "lspFreq", "spectral"),
    ("alpha", "lspFreq", "spectral"),
    ("hammarberg", "lspFreq", "spectral"),
    ("F1", "lspFreq", "spectral"),
    ("F2", "lspFreq", "spectral"),
    ("F3", "lspFreq", "spectral"),
)
ESSENTIA_LOWLEVEL = (  # (name prefix after "lowlevel.", type)
    ("erbbands", "erbbands"),
    ("melbands", "melbands"),
    ("gfcc", "gfcc"),
    ("mfcc", "mfcc"),
    ("barkbands", "barkbands"),
    ("spectral", "spectral"),
    ("silence", "silence"),
    ("hfc", "hfc"),
    ("pitch", "pitch"),
    ("zerocrossingrate", "zerocrossingrate"),
    ("dissonance", "dissonance"),
    ("dynamic_complexity", "dynamic_complexity"),
    ("average_loudness", "average_loudness"),
)
SHARED_N = (20, 50, 100, 250)


def feature_type(name: str, domain: str) -> tuple[str, str]:
    """(type, group) of a feature column (``set:column`` in a combination of sets)."""
    name = name.rpartition(":")[2]
    if domain == "ser":
        for fragment, kind, group in SPEECH_TYPES:
            if fragment in name:
                return kind, group
        return "other", "other"
    namespace, _, rest = name.partition(".")
    if namespace in ("rhythm", "tonal"):
        return namespace, namespace
    for prefix, kind in ESSENTIA_LOWLEVEL:
        if rest.startswith(prefix):
            return kind, "low-level"
    return "other", "low-level" if namespace == "lowlevel" else namespace or "other"


def ranking(importance: np.ndarray, names: list[str]) -> list[str]:
    """Feature names from most to least important (ties by name)."""
    order = sorted(range(len(names)), key=lambda i: (-importance[i], names[i]))
    return [names[i] for i in order]


def shared_counts(rankings: dict[str, list[str]], sizes=SHARED_N) -> pd.DataFrame:
    """Features shared between the top-N of each pair of audio types, and of all three
    (Tables 5.1, 5.4, 5.6). ``rankings``: audio type -> ranking."""
    kinds = list(rankings)
    rows = []
    pairs = [(a, b) for i, a in enumerate(kinds) for b in kinds[i + 1 :]]
    for a, b in pairs:
        rows.append(
            {"between": f"{a} - {b}"}
            | {f"top {n}": len(set(rankings[a][:n]) & set(rankings[b][:n])) for n in sizes}
        )
    if len(kinds) == 3:
        rows.append(
            {"between": "all three"}
            | {
                f"top {n}": len(set.intersection(*(set(rankings[k][:n]) for k in kinds)))
                for n in sizes
            }
        )
    return pd.DataFrame(rows)


def type_statistics(importance: np.ndarray, names: list[str], domain: str, top: int = 250):
    """Per feature type (Tables 5.2, 5.5, 5.7): count, mean importance over all features and
    over those in the top ``top``, how many are in the top ``top`` and top 50, and the type's
    share of the top ``top``'s summed importance. Importances in units of 1e-2, as the thesis."""
    frame = pd.DataFrame({"name": names, "importance": np.asarray(importance) * 100})
    kinds = [feature_type(n, domain) for n in names]
    frame["type"], frame["group"] = [k[0] for k in kinds], [k[1] for k in kinds]
    order = ranking(np.asarray(importance), names)
    rank = {name: i for i, name in enumerate(order)}
    frame["rank"] = frame["name"].map(rank)
    in_top = frame[frame["rank"] < top]
    total = in_top["importance"].sum()
    rows = []
    for kind, members in frame.groupby("type", sort=False):
        chosen = members[members["rank"] < top]
        rows.append(
            {
                "type": kind,
                "group": members["group"].iloc[0],
                "features": len(members),
                "mean_all": members["importance"].mean(),
                "n_top": len(chosen),
                "share_top": len(chosen) / min(top, len(frame)),
                "mean_top": chosen["importance"].mean() if len(chosen) else float("nan"),
                "contribution": chosen["importance"].sum() / total if total else float("nan"),
                "n_top50": int((members["rank"] < 50).sum()),
            }
        )
    return pd.DataFrame(rows).sort_values("features", ascending=False, kind="stable")

"""Where the clips come from: the corpus roots, their audio files by key, and the probe.

Source ids are stable strings: ``deam-4``, ``soundtracks-set1-053``,
``emopia-Q1_0vLPYiPN7qY_0`` (the file's own clip name). Audio is found by stem in any of the
source formats (``builders.common.audio_formats``) at any depth below the corpus root. Probing
(:func:`builders.excerpts.probe_sources`) gives each used file's sha256, length, rate and
channels, or the reason it cannot be used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from builders.corpora.deam import find_deam_audio
from builders.corpora.emopia import find_emopia_audio
from builders.corpora.listing import checked_root
from builders.corpora.soundtracks import find_soundtracks_audio
from builders.excerpts import SOURCE_COLUMNS, probe_sources

LABELS = {"deam": "DEAM", "soundtracks": "Soundtracks", "emopia": "EMOPIA"}
Skip = tuple[str, str, str]  # (corpus, item, reason)


@dataclass(frozen=True)
class SourceRoots:
    """The corpus roots a user gave (None for a corpus left out)."""

    deam: Path | None = None
    soundtracks: Path | None = None
    emopia: Path | None = None

    def given(self) -> dict[str, Path]:
        """``{corpus: absolute root}`` of the corpora given, each checked to be a folder."""
        roots = {"deam": self.deam, "soundtracks": self.soundtracks, "emopia": self.emopia}
        return {
            corpus: checked_root(root, LABELS[corpus])
            for corpus, root in roots.items()
            if root is not None
        }


@dataclass
class AudioFiles:
    """The audio of one corpus by source id, and the files that were no usable name."""

    corpus: str
    paths: dict[str, str] = field(default_factory=dict)  # source id -> path relative to the root
    skipped: list[Skip] = field(default_factory=list)


def find_audio(corpus: str, root: Path) -> AudioFiles:
    """Every audio file of ``corpus`` below ``root`` by source id."""
    if corpus == "emopia":
        found = find_emopia_audio(root)
        paths = {
            f"emopia-{name}": path
            for name, path in zip(found.files["clip_name"], found.files["path"])
        }
        skips = found.skipped
    else:
        finder = find_deam_audio if corpus == "deam" else find_soundtracks_audio
        by_key, skips = finder(root)
        paths = {f"{corpus}-{key}": path for key, path in by_key.items()}
    return AudioFiles(corpus, paths, [(corpus, item, reason) for item, reason in skips])


def probe(
    files: Mapping[str, tuple[str, str]],
    roots: Mapping[str, Path],
    *,
    workers: int = 1,
    progress: bool = True,
) -> tuple[pd.DataFrame, list[Skip]]:
    """Probe the files ``{source_id: (corpus, relative path)}``; (sources frame, unusable files).

    The frame has :data:`SOURCE_COLUMNS`, one row per usable file, sorted by source id.
    """
    ids = sorted(files)
    paths = [str(Path(roots[files[i][0]]) / files[i][1]) for i in ids]
    results = probe_sources(paths, workers=workers, progress=progress) if ids else []
    rows, skipped = [], []
    for source_id, result in zip(ids, results, strict=True):
        corpus, path = files[source_id]
        if isinstance(result, str):
            skipped.append((corpus, path, result))
        else:
            rows.append({"source_id": source_id, "corpus": corpus, "path": path, **result})
    frame = pd.DataFrame(rows, columns=list(SOURCE_COLUMNS))
    for column in ("size_bytes", "frames", "sample_rate", "channels"):
        frame[column] = frame[column].astype("int64")
    frame["duration_s"] = frame["duration_s"].astype("float64")
    return frame.sort_values("source_id", kind="stable").reset_index(drop=True), skipped

"""Session fixtures of the instrumental-MER tests.

- ``demo_run``: the demo step end to end (sources, both modes, features, baselines), the
  one expensive fixture; other tests read its builds (copy before changing anything).
- ``thesis_audio``: cheap noise files laid out with the real names for every clip of the
  thesis's tracklists (1 kHz mono WAV, long enough for every slice), for mode (a).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from builders.corpora.emopia import read_emopia_labels
from builders.corpora.mer_tracklists import read_thesis_tracklists
from builders.demo.instrumental_demo import instrumental_demo_step
from builders.demo.instrumental_sources import source_paths
from builders.instrumental_mer.inventory import SourceRoots
from builders.instrumental_mer.plan import Screening, plan_dataset
from builders.instrumental_mer.render import render_dataset

from ..corpora.conftest import reference_data  # noqa: F401 (the shared fixture: skips when absent)

NOISE_RATE = 1000
# A smaller demo than `make demo`'s (10 DEAM songs, 10 Soundtracks excerpts, 5 EMOPIA videos):
# about 30 clips per build, so that the features of the session's one demo run stay cheap.
TEST_SIZE = {"n_deam": 10, "n_set1": 6, "n_set2": 4, "n_videos": 5}


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """``instrumental_demo_step`` on 2 workers, once per session."""
    root = tmp_path_factory.mktemp("instrumental-demo")
    result = instrumental_demo_step(root, workers=2, size=TEST_SIZE)
    return {**result, "root": root, "sources": source_paths(root / "instrumental-sources")}


def demo_roots(sources: dict[str, Path]) -> SourceRoots:
    return SourceRoots(sources["deam"], sources["soundtracks"], sources["emopia"])


def demo_screening(sources: dict[str, Path]) -> Screening:
    from builders.corpora.spotify import SpotifyReader
    from builders.corpora.spotify_tables import read_review_list

    return Screening(SpotifyReader(sources["spotify_cache"]), read_review_list(sources["screen"]))


def compile_build(sources: dict[str, Path], out: Path, workers: int, **options) -> Path:
    """Mode (b) of the demo sources, planned and rendered into ``out``."""
    options.setdefault("screening", demo_screening(sources))
    plan_dataset(roots=demo_roots(sources), out=out, workers=workers, progress=False, **options)
    render_dataset(out, workers=workers, progress=False)
    return out


def _noise(rng: np.random.Generator, seconds: float) -> np.ndarray:
    return (rng.standard_normal(int(round(seconds * NOISE_RATE))) * 0.1).astype("float32")


@pytest.fixture(scope="session")
def thesis_audio(
    reference_data: Path,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Path]:
    """DEAM/Soundtracks/EMOPIA roots with a noise file for every tracklist clip (real names).

    EMOPIA files are named as in EMOPIA 1.0's label.csv (so 19 thesis Q4 clips are found as
    Q3 files); the Soundtracks root has the real ``mean_ratings_set2.csv`` (its links).
    """
    dest = tmp_path_factory.mktemp("thesis-audio")
    tracklists = reference_data / "instrumental-mer-thesis"
    table = read_thesis_tracklists(tracklists)
    rng = np.random.default_rng(0)
    deam = table[table["corpus"] == "deam"]
    (dest / "DEAM" / "MEMD_audio").mkdir(parents=True)
    for song, part in deam.groupby("song_id"):
        sf.write(
            dest / "DEAM" / "MEMD_audio" / f"{song}.wav",
            _noise(rng, max(45.0, part["end_s"].max())),
            NOISE_RATE,
            subtype="PCM_16",
        )
    for song in table.loc[table["corpus"] == "soundtracks", "song_id"]:
        set_name, number = song.split("-")
        folder = dest / "Soundtracks" / set_name.capitalize()
        folder.mkdir(parents=True, exist_ok=True)
        sf.write(folder / f"{number}.wav", _noise(rng, 16.0), NOISE_RATE, subtype="PCM_16")
    shutil.copy(reference_data / "soundtracks" / "mean_ratings_set2.csv", dest / "Soundtracks")
    (dest / "EMOPIA" / "audio").mkdir(parents=True)
    wanted = set(table.loc[table["corpus"] == "emopia", "song_id"])
    labels = read_emopia_labels(reference_data / "emopia" / "label.csv")
    for clip in labels[labels["youtube_id"].isin(wanted)].itertuples():
        sf.write(
            dest / "EMOPIA" / "audio" / f"{clip.clip_name}.wav",
            _noise(rng, 14.0),
            NOISE_RATE,
            subtype="PCM_16",
        )
    return {
        "deam": dest / "DEAM",
        "soundtracks": dest / "Soundtracks",
        "emopia": dest / "EMOPIA",
        "tracklists": tracklists,
    }

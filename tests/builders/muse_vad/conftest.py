"""Session fixtures of the MuSe-style VAD tests: small demo sources and two builds of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from builders.demo.muse_sources import (
    INVENTED,
    NRC_DOCUMENTED,
    source_paths,
    write_muse_demo_sources,
)
from builders.muse_vad.plan import plan_dataset
from builders.muse_vad.render import render_dataset

from ..corpora.conftest import reference_data_root

# 8 artists x 2 tracks of 30-34 s (2 frames each) + the 6 tracks made to be left out or golden
SMALL = {"n_artists": 8, "tracks_per_artist": 2, "duration_range": (30.0, 34.0)}


@pytest.fixture(scope="session")
def muse_sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Recorded caches, lexicon and audio of the small demo (read-only: copy before changing)."""
    dest = tmp_path_factory.mktemp("muse-sources") / "src"
    write_muse_demo_sources(dest, 0, workers=2, **SMALL)
    return source_paths(dest)


def write_warriner_lexicon(path: Path) -> Path:
    """The demo lexicon's words in the Warriner format, on its 1-9 scale (1 + 8 x NRC-VAD)."""
    words = {**NRC_DOCUMENTED, **INVENTED}
    path.write_text(
        ",Word,V.Mean.Sum,V.SD.Sum,A.Mean.Sum,A.SD.Sum,D.Mean.Sum,D.SD.Sum\n"
        + "".join(
            f"{i},{w},{1 + 8 * v:.6f},1,{1 + 8 * a:.6f},1,{1 + 8 * d:.6f},1\n"
            for i, (w, (v, a, d)) in enumerate(sorted(words.items()), start=1)
        )
    )
    return path


def tags_mode(sources: dict[str, Path], **extra) -> dict:
    """plan_dataset's tags-mode inputs for ``sources``."""
    return {
        "lastfm_cache": sources["lastfm_cache"],
        "lexicon": sources["lexicon"],
        "spotify_cache": sources["spotify_cache"],
        "audio": sources["audio"],
        "progress": False,
        **extra,
    }


def build(sources: dict[str, Path], out: Path, workers: int) -> Path:
    plan_dataset(out=out, workers=workers, **tags_mode(sources))
    render_dataset(out, workers=workers, progress=False)
    return out


@pytest.fixture(scope="session")
def built(muse_sources, tmp_path_factory) -> Path:
    """A tags-mode build of the small demo with one worker."""
    return build(muse_sources, tmp_path_factory.mktemp("muse-build-1") / "out", 1)


@pytest.fixture(scope="session")
def built_twice(muse_sources, tmp_path_factory) -> Path:
    """The same build with two workers."""
    return build(muse_sources, tmp_path_factory.mktemp("muse-build-2") / "out", 2)


@pytest.fixture(scope="session")
def muse_reference() -> Path:
    path = reference_data_root() / "muse" / "muse_v3_header_and_20_rows.csv"
    if not path.is_file():
        pytest.skip(f"reference MuSe rows not available at {path} (set MISME_REFERENCE_DATA)")
    return path

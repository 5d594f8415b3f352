"""Small real builds of the three datasets from their demo sources, for the Hub tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from builders.demo.instrumental_sources import source_paths as instrumental_paths
from builders.demo.instrumental_sources import write_instrumental_demo_sources
from builders.demo.muse_sources import source_paths as muse_paths
from builders.demo.muse_sources import write_muse_demo_sources

MUSE_SIZE = {"n_artists": 8, "tracks_per_artist": 2, "duration_range": (30.0, 34.0)}
INSTRUMENTAL_SIZE = {"n_deam": 10, "n_set1": 6, "n_set2": 4, "n_videos": 5}  # the smallest allowed
REPO = Path(__file__).resolve().parents[3]


def misme_build(sources: Path, out: Path, seed: int | None = None) -> Path:
    """MiSME planned and rendered from the small demo sources (``RAVDESS``, ``DEAM``,
    ``Soundtracks``) with K = 2 mixes per speech clip (it has 2 music clips per fold)."""
    from builders.misme.plan import plan_dataset
    from builders.misme.recipe import DEFAULT_RECIPE
    from builders.misme.render import render_dataset

    recipe = out.parent / "recipe-k2.toml"
    recipe.write_text(
        DEFAULT_RECIPE.read_text().replace("mixes_per_speech = 5", "mixes_per_speech = 2")
    )
    plan_dataset(
        recipe_path=recipe,
        ravdess=sources / "RAVDESS",
        deam=sources / "DEAM",
        soundtracks=sources / "Soundtracks",
        out=out,
        seed=seed,
        progress=False,
    )
    render_dataset(out, progress=False)
    return out


def instrumental_sources(dest: Path) -> dict[str, Path]:
    write_instrumental_demo_sources(dest, 0, progress=False, **INSTRUMENTAL_SIZE)
    return instrumental_paths(dest)


def instrumental_build(paths: dict[str, Path], out: Path) -> Path:
    """Instrumental-MER mode (a): the demo's tracklists with its audio."""
    from builders.instrumental_mer.inventory import SourceRoots
    from builders.instrumental_mer.plan import plan_dataset
    from builders.instrumental_mer.render import render_dataset

    roots = SourceRoots(paths["deam"], paths["soundtracks"], paths["emopia"])
    plan_dataset(roots=roots, out=out, tracklists=paths["tracklists"], progress=False)
    render_dataset(out, progress=False)
    return out


def muse_sources(dest: Path) -> dict[str, Path]:
    write_muse_demo_sources(dest, 0, **MUSE_SIZE)
    return muse_paths(dest)


def muse_build(paths: dict[str, Path], out: Path, seed: int | None = None) -> Path:
    """MuSe-style VAD in tags mode from the demo's caches, lexicon and audio."""
    from builders.muse_vad.plan import plan_dataset
    from builders.muse_vad.render import render_dataset

    plan_dataset(
        out=out,
        lastfm_cache=paths["lastfm_cache"],
        lexicon=paths["lexicon"],
        spotify_cache=paths["spotify_cache"],
        audio=paths["audio"],
        seed=seed,
        progress=False,
    )
    render_dataset(out, progress=False)
    return out


def run_python(code: str, hf_home: Path) -> object:
    """``code`` run by a fresh interpreter whose Hugging Face home is ``hf_home`` (datasets'
    default cache below it); returns the JSON its last stdout line holds."""
    env = {**os.environ, "HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    env.pop("HF_DATASETS_CACHE", None)
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])

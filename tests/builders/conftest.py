"""Shared fixtures for the builders' tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from builders.demo.sources import write_demo_sources

SMALL_DEMO = {
    "seed": 0,
    "clips_per_actor": 2,  # 24 actors x 2 = 48 speech clips, every emotion 6 times
    "n_deam": 8,
    "n_soundtracks": 4,
    "deam_duration_range": (10.0, 20.0),
    "soundtracks_duration_s": 12.0,
}


@pytest.fixture(scope="session")
def demo_sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo corpus written once per session: ``<root>/RAVDESS``, ``DEAM``, ``Soundtracks``.

    Treat it as read-only; copy it (``shutil.copytree``) before changing anything.
    """
    root = tmp_path_factory.mktemp("demo-sources") / "src"
    write_demo_sources(root, **SMALL_DEMO)
    return root


@pytest.fixture(scope="session")
def ray_cluster():
    """One local Ray cluster for the whole session, sized as the engine sizes its own for 2
    workers (3 CPUs: one kept free), a small object store; the engine reuses a connection
    that already exists and leaves it open."""
    import ray

    from builders.engine.ray_backend import local_worker_priority, object_store_bytes

    local_worker_priority()  # else its workers starve beside the other xdist worker's tests
    ray.init(
        num_cpus=3,
        object_store_memory=object_store_bytes(),
        include_dashboard=False,
        log_to_driver=False,
        logging_level="ERROR",
    )
    yield ray
    ray.shutdown()

"""`misme-build release BUILD OUT`: a recipe-only release (no audio) that another group renders
from its own copies of the sources into the identical corpus (issue 25)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from builders import cli
from builders.hf.digest import read_digests
from builders.hf.release import GUIDE, LOCK_DIGEST, SOURCE_CHECKSUMS
from tests.builders.hf.hub_builds import misme_build

AUDIO_SUFFIXES = {".flac", ".wav", ".mp3", ".parquet"}


@pytest.fixture(scope="module")
def built(demo_sources, tmp_path_factory) -> Path:
    return misme_build(demo_sources, tmp_path_factory.mktemp("release") / "build")


@pytest.mark.slow
def test_a_release_renders_elsewhere_into_the_identical_corpus(
    built, demo_sources, tmp_path, capsys
):
    release = tmp_path / "release"
    assert cli.main(["release", str(built), str(release)]) == 0
    names = sorted(p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file())
    for name in (
        "README.md",
        "LICENSE.md",
        "croissant.json",
        "digest.txt",
        GUIDE,
        LOCK_DIGEST,
        SOURCE_CHECKSUMS,
        "manifests/recipe.toml",
        "manifests/mixes.parquet",
    ):
        assert name in names
    # no audio, shards, features or solutions, and not the building machine's paths
    assert not [
        n for n in names if not n.startswith("manifests/") and Path(n).suffix in AUDIO_SUFFIXES
    ]
    assert not (release / "data").exists() and not (release / "build-state.json").exists()
    digest = read_digests(built)["dataset"]
    assert digest in (release / GUIDE).read_text()

    # another group: its own copy of the sources at another path, the release copied
    sources = tmp_path / "their-sources"
    shutil.copytree(demo_sources, sources)
    checks = subprocess.run(
        ["sha256sum", "-c", "--quiet", str(release / SOURCE_CHECKSUMS)],
        cwd=_corpus_links(tmp_path / "links", sources),
        capture_output=True,
        text=True,
    )
    assert checks.returncode == 0, checks.stdout + checks.stderr
    theirs = tmp_path / "their-build"
    shutil.copytree(release, theirs)
    roots = [
        "--root",
        f"ravdess={sources / 'RAVDESS'}",
        "--root",
        f"deam={sources / 'DEAM'}",
        "--root",
        f"soundtracks={sources / 'Soundtracks'}",
    ]
    assert cli.main(["misme", "render", str(theirs), *roots]) == 0
    capsys.readouterr()
    assert cli.main(["verify", str(theirs), "--digest", digest]) == 0
    assert "identical" in capsys.readouterr().out
    assert (theirs / "README.md").read_bytes() == (built / "README.md").read_bytes()
    assert (theirs / "croissant.json").read_bytes() == (built / "croissant.json").read_bytes()
    assert cli.main(["verify", str(theirs), "--digest", "0" * 64]) == 1  # the check can fail


def _corpus_links(folder: Path, sources: Path) -> Path:
    folder.mkdir()
    for corpus, name in (("ravdess", "RAVDESS"), ("deam", "DEAM"), ("soundtracks", "Soundtracks")):
        (folder / corpus).symlink_to(sources / name)
    return folder


def test_release_refuses_a_folder_in_use_and_an_unfinished_build(tmp_path, capsys):
    unplanned = tmp_path / "nothing"
    unplanned.mkdir()
    assert cli.main(["release", str(unplanned), str(tmp_path / "out")]) == 2
    assert "not a build folder" in capsys.readouterr().err
    planned = tmp_path / "planned"
    (planned / "manifests").mkdir(parents=True)
    (planned / "manifests" / "recipe.toml").write_text('name = "misme"\nversion = "1"\n')
    assert cli.main(["release", str(planned), str(tmp_path / "out")]) == 2
    assert "not a finished build" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_release_refuses_a_folder_in_use_and_a_digest_that_is_not_the_shards(
    built, tmp_path, capsys
):
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep.txt").write_text("mine")
    assert cli.main(["release", str(built), str(used)]) == 2
    assert "not an empty folder" in capsys.readouterr().err
    assert sorted(p.name for p in used.iterdir()) == ["keep.txt"]

    edited = tmp_path / "edited"
    shutil.copytree(built, edited)
    (edited / "digest.txt").write_text("0" * 64 + "\n")
    assert cli.main(["release", str(edited), str(tmp_path / "out")]) == 2
    assert "is not the digest of its shards" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()

"""Issue 28, defects 2 and 3 on instrumental-MER: its plan takes the build lock (refused, or
waits with --wait, while a render of the same folder runs), and a plan with another seed into
a rendered build is refused without --force and with it leaves nothing of the old build.
Defect 1: builds whose seeds deal the clips into other folds are different datasets."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from builders.cli import main
from builders.common.lock import build_lock
from builders.demo.instrumental_sources import source_paths, write_instrumental_demo_sources
from builders.hf.digest import read_digests
from builders.instrumental_mer.render import render_dataset
from tests.builders.instrumental_mer.conftest import TEST_SIZE
from tests.builders.lock_support import assert_waits_for_the_render


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("MISME_NO_PROGRESS", "1")


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict[str, Path]:
    dest = tmp_path_factory.mktemp("instrumental-replan") / "src"
    write_instrumental_demo_sources(dest, 0, progress=False, **TEST_SIZE)
    return source_paths(dest)


def plan_args(sources: dict[str, Path], out: Path, seed: int) -> list[str]:
    roots = [
        f"--{name}={sources[name]}" for name in ("tracklists", "deam", "soundtracks", "emopia")
    ]
    return ["instrumental-mer", "plan", *roots, f"--out={out}", f"--seed={seed}"]


@pytest.fixture(scope="module")
def rendered(sources, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("instrumental-rendered") / "out"
    assert main(plan_args(sources, out, 1)) == 0
    render_dataset(out, progress=False)
    return out


def test_a_plan_during_a_render_of_the_same_folder_is_refused_or_waits(sources, tmp_path, capsys):
    out = tmp_path / "out"
    args = plan_args(sources, out, 1)
    with build_lock(out, "render"):
        capsys.readouterr()
        assert main(args) == 2
        assert "another render" in capsys.readouterr().err
        assert not (out / "manifests").exists()
    assert_waits_for_the_render(out, lambda: main([*args, "--wait"]))
    assert (out / "manifests" / "recipe.toml").is_file()


def test_a_plan_with_another_seed_into_a_rendered_build_needs_force(
    rendered, sources, tmp_path, capsys
):
    out = tmp_path / "out"
    shutil.copytree(rendered, out)
    before = (out / "manifests" / "clips.parquet").read_bytes()
    capsys.readouterr()
    assert main(plan_args(sources, out, 2)) == 2
    assert "--force" in capsys.readouterr().err
    assert (out / "manifests" / "clips.parquet").read_bytes() == before
    assert main(["verify", str(out)]) == 0
    assert main([*plan_args(sources, out, 2), "--force"]) == 0
    left = ("digest.txt", "README.md", "data", "solutions", "audio")
    assert not [name for name in left if (out / name).exists()]
    render_dataset(out, progress=False)
    assert main(["verify", str(out)]) == 0


def folds(out: Path) -> dict[str, int]:
    table = pq.read_table(out / "manifests" / "clips.parquet", columns=["clip_id", "fold"])
    return dict(zip(table["clip_id"].to_pylist(), table["fold"].to_pylist(), strict=True))


def test_another_fold_assignment_is_another_dataset_with_the_same_audio(
    rendered, sources, tmp_path, capsys
):
    """Issue 28, defect 1: `verify --against` said "identical" (the digest was audio only)."""
    out = tmp_path / "seed2"
    assert main(plan_args(sources, out, 2)) == 0
    render_dataset(out, progress=False)
    one, two = folds(rendered), folds(out)
    moved = sorted(clip for clip in one if one[clip] != two[clip])
    assert one.keys() == two.keys() and moved  # the same clips, dealt otherwise
    first, second = read_digests(rendered), read_digests(out)
    assert first["audio"] == second["audio"] and first["dataset"] != second["dataset"]
    capsys.readouterr()
    assert main(["verify", str(rendered), "--against", str(out)]) == 1
    printed = capsys.readouterr().out
    assert "DIFFERENT" in printed and "the audio is the same (audio digests equal)" in printed
    assert f"config clips: {len(moved)} of {len(one)} rows differ (in fold, split)" in printed
    assert f"clips/{moved[0]}: split fold{one[moved[0]]} != fold{two[moved[0]]}" in printed

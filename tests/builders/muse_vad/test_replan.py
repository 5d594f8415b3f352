"""Issue 28, defects 2 and 3 on MuSe-VAD: its plan is refused (or waits with --wait) while a
render of the same folder holds the build lock, and a plan with another seed into a rendered
build is refused without --force."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from builders.cli import main
from builders.common.lock import build_lock
from tests.builders.lock_support import assert_waits_for_the_render


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("MISME_NO_PROGRESS", "1")


def plan_args(sources: dict[str, Path], out: Path, seed: int) -> list[str]:
    inputs = [
        f"--{name.replace('_', '-')}={sources[name]}"
        for name in ("lastfm_cache", "lexicon", "spotify_cache", "audio")
    ]
    return ["muse-vad", "plan", *inputs, f"--out={out}", f"--seed={seed}"]


def test_a_plan_during_a_render_of_the_same_folder_is_refused_or_waits(
    muse_sources, tmp_path, capsys
):
    out = tmp_path / "out"
    args = plan_args(muse_sources, out, 1)
    with build_lock(out, "render"):
        capsys.readouterr()
        assert main(args) == 2
        assert "another render" in capsys.readouterr().err
    assert_waits_for_the_render(out, lambda: main([*args, "--wait"]))
    assert (out / "manifests" / "recipe.toml").is_file()


def test_a_plan_with_another_seed_into_a_rendered_build_needs_force(
    built, muse_sources, tmp_path, capsys
):
    out = tmp_path / "out"
    shutil.copytree(built, out)
    capsys.readouterr()
    assert main(plan_args(muse_sources, out, 7)) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["verify", str(out)]) == 0
    assert main([*plan_args(muse_sources, out, 7), "--force"]) == 0
    assert not [n for n in ("digest.txt", "README.md", "data", "solutions") if (out / n).exists()]

"""Issue 28, defects 2 and 3 on MiSME: a plan with another seed into a rendered build is
refused without --force and with it leaves nothing of the old build; verify and
export-challenge refuse shards that were not made from the manifests; a plan waits for (or
is refused by) a render of the same folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from builders.cli import main
from builders.common.lock import build_lock
from builders.errors import UserError
from builders.misme.recipe import DEFAULT_RECIPE
from builders.misme.render import render_dataset
from builders.misme.secret import secret_variant
from leaderboard.challenge.export_challenge import export_challenge
from leaderboard.errors import LeaderboardError
from tests.builders.lock_support import assert_waits_for_the_render


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("MISME_NO_PROGRESS", "1")


def plan_args(demo_sources: Path, recipe: Path, out: Path, seed: int) -> list[str]:
    sources = [f"--{c.lower()}={demo_sources / c}" for c in ("RAVDESS", "DEAM", "Soundtracks")]
    cache = f"--cache-dir={recipe.parent / 'probe-cache'}"  # probed once for the module
    return [
        "misme",
        "plan",
        *sources,
        f"--out={out}",
        f"--recipe={recipe}",
        f"--seed={seed}",
        cache,
    ]


@pytest.fixture(scope="module")
def small(demo_sources, tmp_path_factory) -> dict:
    """The small demo corpus with one mix per speech clip (48 mixes): builds of seeds 1 and 2."""
    base = tmp_path_factory.mktemp("replan")
    recipe = base / "recipe.toml"
    recipe.write_text(
        DEFAULT_RECIPE.read_text().replace("mixes_per_speech = 5", "mixes_per_speech = 1")
    )
    builds = {}
    for seed in (1, 2):
        out = base / f"seed{seed}"
        assert main(plan_args(demo_sources, recipe, out, seed)) == 0
        render_dataset(out, progress=False)
        builds[seed] = out
    return {"recipe": recipe, **builds}


def test_a_plan_with_another_seed_into_a_rendered_build_is_refused_without_force(
    small, demo_sources, tmp_path, capsys
):
    out = tmp_path / "out"
    shutil.copytree(small[1], out)
    before = (out / "manifests" / "mixes.parquet").read_bytes()
    capsys.readouterr()
    assert main(plan_args(demo_sources, small["recipe"], out, 2)) == 2
    err = capsys.readouterr().err
    assert "--force" in err and "digest.txt" in err and "data" in err
    assert (out / "manifests" / "mixes.parquet").read_bytes() == before  # old plan kept
    assert main(["verify", str(out), "--against", str(small[1])]) == 0
    # the same plan again is no change: the finished build is kept as it is
    assert main(plan_args(demo_sources, small["recipe"], out, 1)) == 0
    assert main(["verify", str(out), "--against", str(small[1])]) == 0


def test_with_force_nothing_of_the_old_build_remains_and_a_render_makes_the_new_one(
    small, demo_sources, tmp_path
):
    out = tmp_path / "out"
    shutil.copytree(small[1], out)
    (out / "features").mkdir()
    assert main([*plan_args(demo_sources, small["recipe"], out, 2), "--force"]) == 0
    left = ("digest.txt", "README.md", "data", "solutions", "features", "audio")
    assert not [name for name in left if (out / name).exists()]
    assert main(["verify", str(out)]) == 2  # no shards: not a build that verifies as anything
    render_dataset(out, progress=False)
    assert main(["verify", str(out), "--against", str(small[2])]) == 0
    assert (out / "digest.txt").read_text() == (small[2] / "digest.txt").read_text()
    assert (out / "solutions" / "misme-ser.parquet").read_bytes() == (
        small[2] / "solutions" / "misme-ser.parquet"
    ).read_bytes()


def test_verify_and_export_refuse_a_build_whose_manifests_were_replaced_by_hand(
    small, tmp_path, capsys
):
    out = tmp_path / "out"
    shutil.copytree(small[1], out)
    shutil.rmtree(out / "manifests")
    shutil.copytree(small[2] / "manifests", out / "manifests")
    capsys.readouterr()
    assert main(["verify", str(out), "--against", str(small[1])]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "were not made from" in err and "render" in err
    with pytest.raises(LeaderboardError, match="not made from its manifests"):
        export_challenge(out, tmp_path / "challenge", (6,))
    render_dataset(out, progress=False)  # the render makes the manifests' build
    assert main(["verify", str(out), "--against", str(small[2])]) == 0
    assert export_challenge(out, tmp_path / "challenge", (6,))


def test_verify_names_planned_clips_missing_from_the_shards_of_an_unstamped_build(
    small, demo_sources, tmp_path, capsys
):
    out = tmp_path / "out"
    shutil.copytree(small[1], out)
    (out / "data" / ".plan.json").unlink()  # a build exported before the stamp existed
    shutil.rmtree(out / "manifests")
    assert main(plan_args(demo_sources, small["recipe"], tmp_path / "other", 2)) == 0
    shutil.copytree(tmp_path / "other" / "manifests", out / "manifests")
    capsys.readouterr()
    assert main(["verify", str(out)]) == 2
    err = capsys.readouterr().err
    assert "planned mixed clips are not in its shards" in err


def test_a_plan_during_a_render_of_the_same_folder_is_refused_or_waits(
    small, demo_sources, tmp_path, capsys
):
    out = tmp_path / "out"
    shutil.copytree(small[1], out)
    args = plan_args(demo_sources, small["recipe"], out, 1)
    with build_lock(out, "render"):
        capsys.readouterr()
        assert main(args) == 2
        assert "another render" in capsys.readouterr().err
    assert_waits_for_the_render(out, lambda: main([*args, "--wait"]))


def test_a_secret_variant_waits_for_no_render_of_its_build(small, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(small[1], out)
    with build_lock(out, "render"), pytest.raises(UserError, match="another render"):
        secret_variant(out, tmp_path / "secret", secret_seed=3, test_folds=[6])
    assert not (tmp_path / "secret").exists()
    assert secret_variant(out, tmp_path / "secret", secret_seed=3, test_folds=[6])["secret_mixes"]

"""`misme-build demo` end to end on the small test corpus: every step, the challenge, a re-run."""

import shutil
import sqlite3

import pytest

from builders.demo.run import run_demo
from builders.misme.recipe import DEFAULT_RECIPE

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_run(demo_sources, tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    shutil.copytree(demo_sources, root / "sources")
    recipe = root / "recipe-k2.toml"  # the small corpus has 2 music clips per fold
    recipe.write_text(DEFAULT_RECIPE.read_text().replace("mixes_per_speech = 5", "mixes_per_speech = 2"))
    config = run_demo(root, workers=2, recipe_path=recipe)
    return root, config, recipe


def test_the_demo_builds_every_step(demo_run):
    root, config, _ = demo_run
    build = root / "build"
    for config_name in ("speech", "music", "mixed", "bss-oracle"):
        assert sorted(p.name.split("-")[0] for p in (build / "data" / config_name).glob("*.parquet")) == [
            f"fold{k}" for k in range(1, 7)]
    assert (build / "features" / "speech-is10" / "mixed-window.parquet").is_file()
    assert (build / "features" / "music-essentia" / "mixed.parquet").is_file()
    for task in ("misme-ser", "misme-mer"):
        assert (root / "submissions" / task / "D-rf.csv").is_file()
    assert (root / "submissions" / "reproduction.md").read_text().count("|") > 10
    assert config == root / "challenge.toml"


def test_every_baseline_is_a_scored_submission_of_its_own_team(demo_run):
    root, _, _ = demo_run
    files = sorted((root / "submissions").glob("misme-*/*.csv"))
    files = [p for p in files if p.parent.name in ("misme-ser", "misme-mer")]
    with sqlite3.connect(root / "leaderboard.db") as db:
        statuses = [row[0] for row in db.execute("select status from submissions")]
        teams = db.execute("select count(*) from teams").fetchone()[0]
    assert len(statuses) == len(files) and set(statuses) == {"scored"}
    assert teams == len({p.stem for p in files})


def test_a_rerun_reuses_the_build_and_keeps_the_digest(demo_run):
    root, _, recipe = demo_run
    digest = (root / "build" / "digest.txt").read_text()
    clips = {p: p.stat().st_mtime_ns for p in (root / "build" / "audio" / "mixed").glob("*.flac")}
    run_demo(root, workers=1, recipe_path=recipe)
    assert (root / "build" / "digest.txt").read_text() == digest
    assert all(p.stat().st_mtime_ns == t for p, t in clips.items()), "re-run must not re-render clips"


def test_wrong_out_or_seed_is_a_one_line_error_before_any_work(tmp_path, capsys):
    from builders.cli import main

    (tmp_path / "file.txt").write_text("x")
    assert main(["demo", "--out", str(tmp_path / "file.txt")]) == 2
    assert "cannot create the demo folder" in capsys.readouterr().err
    assert main(["demo", "--out", str(tmp_path / "demo"), "--seed", "-1"]) == 2
    assert "--seed" in capsys.readouterr().err
    assert not (tmp_path / "demo").exists()

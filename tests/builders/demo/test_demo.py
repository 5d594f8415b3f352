"""`misme-build demo` end to end on small test corpora: every step of the three datasets, the
five-task challenge, the step time table, a re-run."""

import shutil
import sqlite3
import time

import pytest

from builders.demo.run import run_demo
from builders.hf.digest import read_digests
from builders.misme.recipe import DEFAULT_RECIPE

pytestmark = pytest.mark.slow
INSTRUMENTAL_SIZE = {"n_deam": 10, "n_set1": 6, "n_set2": 4, "n_videos": 5}
MUSE_SIZE = {
    "n_artists": 8,
    "tracks_per_artist": 2,
    "duration_range": (16.0, 28.0),
}  # one frame per track
TASKS = ("misme-ser", "misme-mer", "mer-quadrant", "mer-va", "muse-vad")


@pytest.fixture(scope="module")
def demo_run(demo_sources, tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    shutil.copytree(demo_sources, root / "sources")
    recipe = root / "recipe-k2.toml"  # the small corpus has 2 music clips per fold
    recipe.write_text(
        DEFAULT_RECIPE.read_text().replace("mixes_per_speech = 5", "mixes_per_speech = 2")
    )
    config = run_demo(
        root,
        workers=2,
        recipe_path=recipe,
        instrumental_size=INSTRUMENTAL_SIZE,
        muse_size=MUSE_SIZE,
    )
    return root, config, recipe


def test_the_demo_builds_every_step(demo_run):
    root, config, _ = demo_run
    build = root / "build"
    for config_name in ("speech", "music", "mixed", "bss-oracle"):
        assert sorted(
            p.name.split("-")[0] for p in (build / "data" / config_name).glob("*.parquet")
        ) == [f"fold{k}" for k in range(1, 7)]
    assert (build / "features" / "speech-is10" / "mixed-window.parquet").is_file()
    assert (build / "features" / "music-essentia" / "mixed.parquet").is_file()
    for task in ("misme-ser", "misme-mer"):
        assert (root / "submissions" / task / "D-rf.csv").is_file()
    assert (root / "submissions" / "reproduction.md").read_text().count("|") > 10
    assert config == root / "challenge.toml"


def test_every_baseline_is_a_scored_submission_of_its_own_team(demo_run):
    root, config, _ = demo_run
    misme = [
        p for p in sorted((root / "submissions").glob("misme-*/*.csv")) if p.parent.name in TASKS
    ]
    others = [
        p
        for folder in ("instrumental-submissions", "muse-submissions")
        for p in sorted((root / folder).glob("*/*.csv"))
        if p.parent.name in TASKS
    ]
    with sqlite3.connect(root / "leaderboard.db") as db:
        rows = db.execute(
            "select s.task, s.status, t.name from submissions s join teams t on t.id = s.team_id"
        ).fetchall()
        teams = db.execute("select count(*) from teams").fetchone()[0]
    assert len(rows) == len(misme) + len(others) and {status for _, status, _ in rows} == {"scored"}
    assert {task for task, _, _ in rows} == set(TASKS)
    assert (
        teams == len({p.stem for p in misme}) + 4
    )  # RF and Dummy for each of the other two datasets
    assert {"RF (instrumental MER)", "Dummy (MuSe VAD)"} <= {name for _, _, name in rows}
    assert all(f'name = "{task}"' in config.read_text() for task in TASKS)


def test_a_rerun_reuses_the_builds_keeps_the_digests_and_prints_the_step_times(demo_run, capsys):
    root, _, recipe = demo_run
    builds = [root / "build", root / "instrumental-build", root / "muse-build"]
    digests = {b: (b / "digest.txt").read_text() for b in builds}
    clips = {p: p.stat().st_mtime_ns for p in (root / "build" / "audio" / "mixed").glob("*.json")}
    assert len(clips) > 10  # the mixes' resume records: a re-rendered mix writes its record again
    started = time.perf_counter()
    run_demo(
        root,
        workers=1,
        recipe_path=recipe,
        instrumental_size=INSTRUMENTAL_SIZE,
        muse_size=MUSE_SIZE,
    )
    elapsed = time.perf_counter() - started
    assert {b: (b / "digest.txt").read_text() for b in digests} == digests
    assert all(p.stat().st_mtime_ns == t for p, t in clips.items()), (
        "re-run must not re-render clips"
    )
    out = capsys.readouterr().out
    # the digest a user is told to quote is the build's, of the default recipe's meter
    printed = read_digests(root / "build")
    assert f"MiSME digests:   dataset {printed['dataset']}, audio {printed['audio']}  (" in out
    assert 'meter = "bs1770"' in (root / "build" / "manifests" / "recipe.toml").read_text()
    table = out[out.index("Time per step:") :].splitlines()
    assert len(table) == 1 + 2 + 10 + 1 and table[-1].split()[0] == "total"
    steps = [
        (line.rsplit(None, 2)[0].strip(), float(line.split()[-2]), float(line.split()[-1]))
        for line in table[3:-1]
    ]
    beside = [title for title, _, _ in steps if title.endswith(" *")]
    assert beside == ["instrumental MER *", "MuSe-style VAD *"]
    wall, cpu = float(table[-1].split()[-2]), float(table[-1].split()[-1])
    assert cpu == pytest.approx(sum(c for _, _, c in steps), abs=0.2) and cpu > 0
    # the total is the run's wall time (steps 6-7 overlap the others): at least the steps of
    # this process, at most the time the call took
    assert sum(s for t, s, _ in steps if t not in beside) - 0.2 <= wall <= elapsed + 0.1


def test_wrong_out_or_seed_is_a_one_line_error_before_any_work(tmp_path, capsys):
    from builders.cli import main

    (tmp_path / "file.txt").write_text("x")
    assert main(["demo", "--out", str(tmp_path / "file.txt")]) == 2
    assert "cannot create the demo folder" in capsys.readouterr().err
    assert main(["demo", "--out", str(tmp_path / "demo"), "--seed", "-1"]) == 2
    assert "--seed" in capsys.readouterr().err
    assert not (tmp_path / "demo").exists()

"""Issue 15 on the MiSME build: a digest that cannot lie, one run per folder, no orphans,
plan applies render's rules, --strict is strict, SIGTERM leaves nothing half-written."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from builders.cli import main
from builders.common.lock import build_lock
from builders.errors import UserError
from builders.misme.recipe import DEFAULT_RECIPE
from builders.misme.render import render_dataset
from tests.builders.misme.render_support import make_build
from tests.clips import flip_byte, unpublish

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("MISME_NO_PROGRESS", "1")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out, roots = make_build(tmp_path_factory.mktemp("reliability"))
    return out, roots, render_dataset(out, progress=False).digest


@pytest.fixture(scope="module")
def planned_demo(demo_sources, tmp_path_factory):
    """The small demo corpus planned with K = 2 (96 mixes): long enough to be killed mid-render."""
    base = tmp_path_factory.mktemp("demo-plan")
    recipe = base / "recipe.toml"
    recipe.write_text(
        DEFAULT_RECIPE.read_text().replace("mixes_per_speech = 5", "mixes_per_speech = 2")
    )
    out = base / "out"
    assert (
        main(
            [
                "misme",
                "plan",
                "--ravdess",
                str(demo_sources / "RAVDESS"),
                "--deam",
                str(demo_sources / "DEAM"),
                "--soundtracks",
                str(demo_sources / "Soundtracks"),
                "--out",
                str(out),
                "--recipe",
                str(recipe),
            ]
        )
        == 0
    )
    return out


def test_a_damaged_cache_is_rendered_again_so_the_digest_stays_true(rendered, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(rendered[0], out)
    unpublish(out)  # the clip files of a render that was interrupted before its export
    clips = sorted((out / "audio" / "mixed").glob("*.flac"))
    shutil.copy(clips[1], clips[0])  # a valid clip with another clip's audio
    music = sorted((out / "audio" / "music").glob("*.flac"))[0]
    music.write_bytes(music.read_bytes()[: len(music.read_bytes()) // 2])  # truncated
    summary = render_dataset(out, roots=rendered[1], progress=False)
    assert summary.rendered == 2 and summary.digest == rendered[2]
    assert main(["verify", str(out), "--against", str(rendered[0])]) == 0
    flip_byte(out / "audio" / "music" / music.name)  # now inside the shard that published it
    summary = render_dataset(out, roots=rendered[1], progress=False)
    assert summary.rendered == 1 and summary.digest == rendered[2]
    assert main(["verify", str(out), "--against", str(rendered[0])]) == 0


def test_a_second_run_on_the_same_folder_is_refused_at_once(rendered, tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(rendered[0], out)
    with build_lock(out, "render"):
        started = time.monotonic()
        assert main(["misme", "render", str(out)]) == 2
        assert time.monotonic() - started < 30
        err = capsys.readouterr().err
        assert f"another render of {out} (pid {os.getpid()} on " in err and "is running" in err
        with pytest.raises(UserError, match="another render"):
            render_dataset(out, roots=rendered[1], progress=False)
    assert (
        render_dataset(out, roots=rendered[1], progress=False).digest == rendered[2]
    )  # free again


def test_two_concurrent_renders_one_runs_the_other_is_refused(planned_demo, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(planned_demo, out)
    command = [sys.executable, "-m", "builders.cli", "misme", "render", str(out), "--workers", "2"]
    env = dict(os.environ, MISME_NO_PROGRESS="1")
    first = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    _wait_for(
        lambda: (out / ".misme-build.lock").is_file() and (out / ".misme-build.lock").read_text()
    )
    second = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 2 and "another render" in second.stderr
    assert first.wait(timeout=600) == 0, first.stderr.read()
    reference = tmp_path / "reference"
    shutil.copytree(planned_demo, reference)
    render_dataset(reference, progress=False)
    assert main(["verify", str(out), "--against", str(reference)]) == 0


def test_kill_9_of_a_two_worker_render_leaves_no_worker_and_resumes(planned_demo, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(planned_demo, out)
    command = [sys.executable, "-m", "builders.cli", "misme", "render", str(out), "--workers", "2"]
    env = dict(os.environ, MISME_NO_PROGRESS="1")
    parent = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _wait_for(
        lambda: (
            len(list((out / "audio" / "mixed").glob("*.json"))) >= 4
            if (out / "audio" / "mixed").is_dir()
            else False
        )
    )
    workers = _children(parent.pid)
    assert len(workers) >= 2
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    _wait_for(lambda: not any(_alive(pid) for pid in workers), timeout=20)
    summary = render_dataset(out, workers=2, progress=False)
    assert summary.resumed >= 4
    reference = tmp_path / "reference"
    shutil.copytree(planned_demo, reference)
    render_dataset(reference, progress=False)
    assert main(["verify", str(out), "--against", str(reference)]) == 0


def test_sigterm_exits_143_with_one_line_and_no_temporary_file(planned_demo, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(planned_demo, out)
    command = [sys.executable, "-m", "builders.cli", "misme", "render", str(out), "--workers", "2"]
    env = dict(os.environ, MISME_NO_PROGRESS="1")
    process = subprocess.Popen(
        [sys.executable, "-c", "from builders.cli import main; main()", *command[3:]],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    _wait_for(
        lambda: (out / "audio" / "mixed").is_dir() and any((out / "audio" / "mixed").glob("*.json"))
    )
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=120) == 143
    err = process.stderr.read().strip().splitlines()
    assert len(err) == 1 and "interrupted (SIGTERM)" in err[0] and "resume" in err[0]
    assert not list(out.rglob(".*.tmp-*")) and not (out / "digest.txt").exists()


def test_plan_skips_a_file_render_would_refuse_and_strict_is_strict(demo_sources, tmp_path, capsys):
    src = tmp_path / "src"
    shutil.copytree(demo_sources, src)
    ratings = (
        (src / "Soundtracks" / "mean_ratings_set1.csv")
        .read_text(encoding="utf-8-sig")
        .splitlines()[1:]
    )
    present = {p.stem for p in (src / "Soundtracks" / "Set1").iterdir()}
    number = next(line.split(",")[0] for line in ratings if line.split(",")[0] not in present)
    six_channels = (
        src / "Soundtracks" / "Set1" / f"{number}.wav"
    )  # a rated excerpt that had no audio
    sf.write(six_channels, np.full((44100 * 12, 6), 0.1, dtype=np.float32), 44100)
    recipe = tmp_path / "recipe.toml"
    recipe.write_text(
        DEFAULT_RECIPE.read_text().replace("mixes_per_speech = 5", "mixes_per_speech = 2")
    )
    args = [
        "misme",
        "plan",
        "--ravdess",
        str(src / "RAVDESS"),
        "--deam",
        str(src / "DEAM"),
        "--soundtracks",
        str(src / "Soundtracks"),
        "--recipe",
        str(recipe),
    ]
    assert main([*args, "--out", str(tmp_path / "out")]) == 0
    skipped = json.loads((tmp_path / "out" / "manifests" / "audit.json").read_text())["skipped"]
    six = [s for s in skipped if s["item"] == f"soundtracks-set1-{number}"]
    assert six and "unsupported channel count 6" in six[0]["reason"]
    assert (
        f"soundtracks-set1-{number}"
        not in pq.read_table(tmp_path / "out" / "manifests" / "sources.parquet")
        .column("source_id")
        .to_pylist()
    )
    bad = next((src / "RAVDESS").rglob("*.wav"))
    bad.rename(
        bad.with_name("03-01-09-01-01-01-" + bad.stem[-2:] + ".wav")
    )  # emotion 09 does not exist
    capsys.readouterr()
    assert main([*args, "--out", str(tmp_path / "strict"), "--strict"]) == 2
    err = capsys.readouterr().err
    assert "unusable (--strict)" in err and "invalid emotion code 09" in err


def _wait_for(condition, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.1)


def _children(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if f"\nPPid:\t{pid}\n" in text:
            found.append(int(status.parent.name))
    return found


def _alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        return "State:\tZ" not in status.read_text()
    except OSError:
        return False

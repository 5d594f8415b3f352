"""End-to-end behaviour of the `misme-score` command line."""

from __future__ import annotations

import json
import os
import signal
import stat
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.benchmark.conftest import MER_GOOD, SER_GOOD, SER_SOLUTION


def test_validate_ok(tmp_path, ser_solution, run_cli):
    path = tmp_path / "p.csv"
    path.write_text(SER_GOOD)
    code, out, err = run_cli("validate", path, "--solution", ser_solution, "--task", "misme-ser")
    assert code == 0 and "valid misme-ser submission (6 ids)" in out and err == ""


def test_score_writes_json_and_markdown(tmp_path, ser_solution, run_cli):
    path = tmp_path / "p.csv"
    path.write_text(SER_GOOD)
    code, out, _ = run_cli(
        "score",
        path,
        "--solution",
        ser_solution,
        "--task",
        "misme-ser",
        "--json",
        tmp_path / "r.json",
        "--markdown",
        tmp_path / "r.md",
    )
    assert code == 0
    data = json.loads((tmp_path / "r.json").read_text())
    # truth 1,3,5,3,8,4 vs predicted 1,3,4,3,8,4: 5 of 6 right
    assert data["primary"] == data["pooled"]["accuracy"] == 5 / 6
    assert data["extras"]["confusion_matrix"][4][3] == 1  # one angry predicted as sad
    markdown = (tmp_path / "r.md").read_text()
    assert "## Confusion matrix" in markdown and "| angry |" in markdown
    assert "accuracy = 0.8333" in out and "Per-class precision and recall" in out


def test_compare_regression(tmp_path, mer_solution, run_cli):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(MER_GOOD)
    frame = pd.read_csv(tmp_path / "a.csv", dtype={"id": str})
    frame[["valence", "arousal"]] += np.array(
        [[0.5, -0.3], [1, 0.2], [0, 0.7], [-0.4, 0.1], [0.9, 0.9], [0.2, -1]]
    )
    frame.to_csv(b, index=False)
    code, out, err = run_cli(
        "compare",
        a,
        b,
        "--solution",
        mer_solution,
        "--task",
        "misme-mer",
        "--bootstrap",
        50,
        "--json",
        tmp_path / "c.json",
    )
    assert code == 0, err
    data = json.loads((tmp_path / "c.json").read_text())
    names = [t["name"] for t in data["tests"]]
    assert names == ["valence", "arousal", "mean over targets"]
    assert all(0 <= t["pvalue"] <= t["pvalue_holm"] <= 1 for t in data["tests"])
    assert data["bootstrap"]["a_minus_b"][0] <= data["bootstrap"]["a_minus_b"][1]
    assert "diebold-mariano" in out
    assert out.splitlines()[2].startswith("misme-mer: A vs B on 6 ids; pooled rmse A = ")


def test_compare_classification_includes_mcnemar(tmp_path, ser_solution, run_cli):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(SER_GOOD)
    b.write_text(SER_GOOD.replace("a,happy", "a,calm").replace("b,sad", "b,angry"))
    code, out, err = run_cli(
        "compare",
        a,
        b,
        "--solution",
        ser_solution,
        "--task",
        "misme-ser",
        "--bootstrap",
        0,
        "--json",
        tmp_path / "c.json",
    )
    assert code == 0, err
    tests = {t["test"]: t for t in json.loads((tmp_path / "c.json").read_text())["tests"]}
    # truth of b is angry: A (sad) is wrong there, B right; B (calm) is wrong on a, A right
    assert tests["mcnemar"]["only_a_correct"] == 1 and tests["mcnemar"]["only_b_correct"] == 1
    assert "mcnemar" in out


def test_compare_lists_problems_of_both_files(tmp_path, mer_solution, run_cli):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(MER_GOOD.replace("7.25", "x"))
    b.write_text(MER_GOOD.replace("9.0", "inf"))
    code, out, err = run_cli("compare", a, b, "--solution", mer_solution, "--task", "misme-mer")
    assert code == 2 and out == ""
    assert "a.csv" in err and "b.csv" in err and "not a number" in err and "infinite" in err


def test_user_mistakes_exit_2_without_traceback(tmp_path, mer_solution, run_cli):
    path = tmp_path / "p.csv"
    path.write_text(MER_GOOD)
    bad_solution = tmp_path / "s.csv"
    bad_solution.write_text("id,fold,valence,arousal\na,1,5,5\na,1,5,5\n")
    for args in (
        ("score", path, "--solution", mer_solution, "--task", "nope"),
        ("score", tmp_path / "missing.csv", "--solution", mer_solution, "--task", "misme-mer"),
        ("score", path, "--solution", tmp_path / "missing.parquet", "--task", "misme-mer"),
        ("score", path, "--solution", bad_solution, "--task", "misme-mer"),
        (
            "score",
            path,
            "--solution",
            mer_solution,
            "--task",
            "misme-mer",
            "--json",
            tmp_path / "no-dir" / "r.json",
        ),
    ):
        code, out, err = run_cli(*args)
        assert code == 2, args
        assert "Traceback" not in err and err.startswith("misme-score: error:"), err


def test_tasks_lists_registry(run_cli):
    code, out, _ = run_cli("tasks")
    assert code == 0
    for name in (
        "misme-ser",
        "misme-ser-speech",
        "misme-mer",
        "misme-mer-music",
        "mer-quadrant",
        "mer-va",
        "muse-vad",
    ):
        assert name in out


def test_no_command_exits_2(run_cli):
    assert run_cli()[0] == 2


@pytest.mark.parametrize(
    "option",
    [
        ("--max-bytes", "0"),
        ("--h", "0"),
        ("--power", "0"),
        ("--power", "nan"),
        ("--bootstrap", "-1"),
        ("--bootstrap", "10000000000"),
        ("--seed", "-1"),
    ],
)
def test_senseless_options_exit_2(option, tmp_path, mer_solution, run_cli):
    path = tmp_path / "p.csv"
    path.write_text(MER_GOOD)
    code, out, err = run_cli(
        "compare", path, path, "--solution", mer_solution, "--task", "misme-mer", *option
    )
    assert code == 2 and out == "" and f"{option[0]} must be" in err, err


def test_report_through_a_symlink_keeps_the_link(tmp_path, mer_solution, run_cli):
    path = tmp_path / "p.csv"
    path.write_text(MER_GOOD)
    target, link = tmp_path / "real.json", tmp_path / "link.json"
    target.write_text("old")
    link.symlink_to(target)
    code, _, err = run_cli(
        "score", path, "--solution", mer_solution, "--task", "misme-mer", "--json", link
    )
    assert code == 0, err
    assert link.is_symlink() and json.loads(target.read_text())["task"] == "misme-mer"


def test_report_to_a_pipe_is_written_through(tmp_path, mer_solution, run_cli):
    """``--json /dev/stdout`` and the like: write into the pipe, never replace it by a file."""
    path = tmp_path / "p.csv"
    path.write_text(MER_GOOD)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    code, _, err = run_cli(
        "score", path, "--solution", mer_solution, "--task", "misme-mer", "--json", fifo
    )
    reader.join(timeout=60)
    if reader.is_alive():  # nothing ever opened the pipe for writing: unblock the reader
        with open(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK), "w"):
            pass
        reader.join(timeout=60)
    assert code == 0, err
    assert stat.S_ISFIFO(os.stat(fifo).st_mode), "the pipe was replaced by a regular file"
    assert json.loads(received[0])["task"] == "misme-mer"


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_ends_misme_score_with_one_line_and_nothing_half_written(
    tmp_path, mer_solution, signum, code
):
    """The JSON report is written, then the process blocks opening a FIFO for the Markdown
    one (no reader): the signal arrives there, at a known point of the work."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    path = tmp_path / "p.csv"
    path.write_text(MER_GOOD)
    fifo = tmp_path / "report.md"
    os.mkfifo(fifo)
    report = tmp_path / "r.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "benchmark.cli",
            "score",
            str(path),
            "--solution",
            str(mer_solution),
            "--task",
            "misme-mer",
            "--json",
            str(report),
            "--markdown",
            str(fifo),
        ],
        cwd=Path(__file__).parents[2],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 180
    while not report.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert report.exists(), process.communicate()
    process.send_signal(signum)
    out, err = process.communicate(timeout=180)
    assert process.returncode == code, err
    assert err.count("\n") == 1 and "misme-score: interrupted" in err and "Traceback" not in err
    assert out == ""  # the terminal report comes after the files, so it never started
    assert json.loads(report.read_text())["task"] == "misme-mer"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["p.csv", "r.json", "report.md", mer_solution.name]
    )


def test_a_failed_report_write_leaves_no_temporary_file(tmp_path):
    from benchmark.cli import write_output

    target = tmp_path / "r.json"
    with pytest.raises(UnicodeEncodeError):
        write_output(target, "a lone surrogate \udcff cannot be UTF-8")
    assert list(tmp_path.iterdir()) == []


def _grouped_ser_solution(folder) -> Path:
    path = folder / "ser-groups.csv"
    frame = SER_SOLUTION.assign(
        actor=["01", "01", "02", "02", "03", "03"],
        gender=["male", "male", "female", "female", "male", "male"],
    )
    frame.to_csv(path, index=False)
    return path


def test_score_reports_a_grouped_bootstrap_interval_and_per_group_scores(tmp_path, run_cli):
    predictions = tmp_path / "p.csv"
    predictions.write_text(SER_GOOD.replace("a,happy", "a,calm"))
    solution = _grouped_ser_solution(tmp_path)
    code, out, err = run_cli(
        "score",
        predictions,
        "--solution",
        solution,
        "--task",
        "misme-ser",
        "--bootstrap",
        200,
        "--seed",
        3,
        "--json",
        tmp_path / "r.json",
    )
    assert code == 0, err
    data = json.loads((tmp_path / "r.json").read_text())
    interval = data["bootstrap"]
    assert (interval["grouped_by"], interval["n_groups"], interval["n_resamples"]) == (
        "actor",
        3,
        200,
    )
    assert interval["low"] <= data["primary"] <= interval["high"]
    assert "resampling 3 actor groups" in out
    genders = data["per_group"]["gender"]
    assert (
        genders["female"]["n"] == 2 and genders["female"]["accuracy"] == 0.5
    )  # b wrong in SER_GOOD
    assert genders["male"]["n"] == 4 and genders["male"]["accuracy"] == 0.75
    assert "gender = male" in out
    again = run_cli(
        "score",
        predictions,
        "--solution",
        solution,
        "--task",
        "misme-ser",
        "--bootstrap",
        200,
        "--seed",
        3,
        "--json",
        tmp_path / "r2.json",
    )
    assert again[0] == 0
    assert json.loads((tmp_path / "r2.json").read_text())["bootstrap"] == interval


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_score_and_compare_write_their_charts(tmp_path, mer_solution, run_cli, suffix):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(MER_GOOD)
    b.write_text(MER_GOOD.replace("007,5.0,4.0", "007,1.0,8.0"))
    code, _, err = run_cli(
        "score",
        a,
        "--solution",
        mer_solution,
        "--task",
        "misme-mer",
        "--plot",
        tmp_path / f"score{suffix}",
    )
    assert code == 0, err
    code, _, err = run_cli(
        "compare",
        a,
        b,
        "--solution",
        mer_solution,
        "--task",
        "misme-mer",
        "--bootstrap",
        50,
        "--plot",
        tmp_path / f"compare{suffix}",
    )
    assert code == 0, err
    for name in ("score", "compare"):
        head = (tmp_path / f"{name}{suffix}").read_bytes()[:200]
        assert head.startswith(b"\x89PNG") if suffix == ".png" else b"<svg" in head


def test_plot_needs_png_or_svg(tmp_path, mer_solution, run_cli):
    a = tmp_path / "a.csv"
    a.write_text(MER_GOOD)
    code, out, err = run_cli(
        "score",
        a,
        "--solution",
        mer_solution,
        "--task",
        "misme-mer",
        "--plot",
        tmp_path / "chart.pdf",
    )
    assert code == 2 and out == ""
    assert "must end in .png or .svg" in err and err.count("\n") == 1
    assert not (tmp_path / "chart.pdf").exists()


@pytest.mark.parametrize("command", ["validate", "score"])
def test_submission_problems_go_to_stderr_not_stdout(tmp_path, ser_solution, run_cli, command):
    path = tmp_path / "p.csv"
    path.write_text("id,emotion\n007,neutral\na,joyful\n")
    code, out, err = run_cli(command, path, "--solution", ser_solution, "--task", "misme-ser")
    assert code == 2 and out == ""
    assert "problems found; nothing was scored" in err and "'joyful'" in err

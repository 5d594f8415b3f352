"""`misme-build instrumental-mer`: both modes from the command line; mistakes: one line, exit 2."""

from __future__ import annotations

import pytest

from builders.cli import main


def test_mode_a_build_from_the_command_line_then_verify(demo_run, tmp_path, capsys):
    sources, out = demo_run["sources"], tmp_path / "build"
    code = main(
        [
            "instrumental-mer",
            "build",
            "--tracklists",
            str(sources["tracklists"]),
            "--deam",
            str(sources["deam"]),
            "--soundtracks",
            str(sources["soundtracks"]),
            "--emopia",
            str(sources["emopia"]),
            "--out",
            str(out),
            "--workers",
            "2",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0 and "mode tracklists:" in printed and "dataset digest:" in printed
    reference = demo_run["root"] / "instrumental-build-tracklists" / "digest.txt"
    assert (out / "digest.txt").read_text() == reference.read_text()
    assert main(["verify", str(out), "--check-sources"]) == 0


def test_mode_b_plan_then_render(demo_run, tmp_path, capsys):
    sources, out = demo_run["sources"], tmp_path / "build"
    assert (
        main(
            [
                "instrumental-mer",
                "plan",
                "--deam",
                str(sources["deam"]),
                "--soundtracks",
                str(sources["soundtracks"]),
                "--emopia",
                str(sources["emopia"]),
                "--spotify-cache",
                str(sources["spotify_cache"]),
                "--screen",
                str(sources["screen"]),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert "DEAM screening:" in capsys.readouterr().out and not (out / "data").exists()
    assert main(["instrumental-mer", "render", str(out)]) == 0
    assert (out / "digest.txt").read_text() == (demo_run["build"] / "digest.txt").read_text()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--tracklists", "{tracklists}", "--screen", "{screen}"], "belong to compiling (mode b)"),
        (["--instrumentalness", "{screen}"], "give --spotify-cache too"),
        (["--deam", "{missing}"], "DEAM root does not exist"),
        (["--screen", "{missing}"], "review list not found"),
    ],
)
def test_mistakes_are_one_line_errors(demo_run, tmp_path, capsys, extra, message):
    values = {
        "tracklists": demo_run["sources"]["tracklists"],
        "screen": demo_run["sources"]["screen"],
        "missing": tmp_path / "nowhere",
    }
    arguments = [part.format(**values) for part in extra]
    if "--deam" not in arguments:
        arguments += ["--deam", str(demo_run["sources"]["deam"])]
    assert main(["instrumental-mer", "plan", *arguments, "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and message in error and "Traceback" not in error

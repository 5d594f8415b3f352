"""Bad input gives one clear line and exit status 2, never a traceback, and no plan."""

from __future__ import annotations

import json
import shutil

import pytest

from builders.cli import main
from builders.corpora.muse import MUSE_COLUMNS
from builders.corpora.recorded import spotify_id_for
from tests.console import message_lines


def _plan(capsys, *args: str) -> str:
    assert main(["muse-vad", "plan", *args]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(message_lines(err)) == 1, err
    assert message_lines(err)[0].startswith("misme-build: error: ")
    return message_lines(err)[0]


def _tags(sources, out, **replace) -> list[str]:
    paths = {"--lastfm-cache": sources["lastfm_cache"], "--lexicon": sources["lexicon"], **replace}
    return [*(str(x) for pair in paths.items() for x in pair), "--out", str(out)]


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    monkeypatch.delenv("LASTFM_API_KEY", raising=False)
    monkeypatch.delenv("SPOTIPY_CLIENT_ID", raising=False)


def test_a_malformed_cache_line_is_named(muse_sources, tmp_path, capsys):
    cache = tmp_path / "calls.jsonl"
    lines = muse_sources["lastfm_cache"].read_text().splitlines(keepends=True)
    cache.write_text(
        "".join(lines[:3]) + '{"method": "track.getTopTags", "params": {}\n' + "".join(lines[3:])
    )
    err = _plan(capsys, *_tags(muse_sources, tmp_path / "out", **{"--lastfm-cache": cache}))
    assert f"{cache}, line 4: corrupt call cache line: not JSON" in err
    assert not (tmp_path / "out" / "manifests").exists()


def test_a_lexicon_with_a_bad_header_is_named(muse_sources, tmp_path, capsys):
    lexicon = tmp_path / "lexicon.txt"
    lexicon.write_text("Word,Valence\ncool,0.885\n")
    err = _plan(capsys, *_tags(muse_sources, tmp_path / "out", **{"--lexicon": lexicon}))
    assert f"{lexicon}: line 1: header 'Word,Valence' is not" in err


def test_a_lexicon_with_a_non_numeric_value_is_named(muse_sources, tmp_path, capsys):
    lexicon = tmp_path / "lexicon.txt"
    lexicon.write_text(muse_sources["lexicon"].read_text().replace("0.885", "high"))
    err = _plan(capsys, *_tags(muse_sources, tmp_path / "out", **{"--lexicon": lexicon}))
    assert f"{lexicon}: line 4: valence 'high' is not a number" in err


def test_a_muse_csv_with_a_missing_column_is_named(tmp_path, capsys):
    path = tmp_path / "muse.csv"
    columns = [c for c in MUSE_COLUMNS if c != "seeds"]
    path.write_text(",".join(columns) + "\n" + ",".join(["x"] * len(columns)) + "\n")
    err = _plan(capsys, "--muse-csv", str(path), "--out", str(tmp_path / "out"))
    assert f"{path}: missing column 'seeds'" in err


@pytest.mark.parametrize(
    "case, expected",
    [
        ("no-input", "give --lastfm-cache and --lexicon (tags mode) or --muse-csv"),
        ("no-lexicon", "the tags mode needs --lexicon"),
        ("both-modes", "give either --lastfm-cache with --lexicon (tags mode) or --muse-csv"),
        ("missing-cache", "Last.fm call cache not found"),
        ("missing-audio", "audio folder not found"),
        ("bad-frame", "`frames.frame_s`"),
        ("wrong-format", "is not a CSV header with Word,V.Mean.Sum"),
    ],
)
def test_wrong_options_are_explained(muse_sources, tmp_path, capsys, case, expected):
    out = ["--out", str(tmp_path / "out")]
    tags = _tags(muse_sources, tmp_path / "out")
    args = {
        "no-input": out,
        "no-lexicon": ["--lastfm-cache", str(muse_sources["lastfm_cache"]), *out],
        "both-modes": [*tags, "--muse-csv", str(tmp_path / "x.csv")],
        "missing-cache": _tags(
            muse_sources, tmp_path / "out", **{"--lastfm-cache": tmp_path / "none.jsonl"}
        ),
        "missing-audio": [*tags, "--audio", str(tmp_path / "no-audio")],
        "bad-frame": [*tags, "--frame-s", "-1"],
        "wrong-format": [*tags, "--lexicon-format", "warriner"],
    }[case]
    assert expected in _plan(capsys, *args)


def test_a_recipe_with_an_unknown_key_is_refused_naming_it(muse_sources, tmp_path, capsys):
    recipe = tmp_path / "recipe.toml"
    recipe.write_text('name = "muse-vad"\n[frames]\nframe_s = 15.0\nhop_s = 7.5\n')
    err = _plan(capsys, *_tags(muse_sources, tmp_path / "out"), "--recipe", str(recipe))
    assert "unknown key(s) frames.hop_s; allowed: frames.frame_s" in err


def test_render_of_a_missing_plan_and_a_moved_source_are_explained(built, tmp_path, capsys):
    assert main(["muse-vad", "render", str(tmp_path / "nothing")]) == 2
    assert "recipe.toml not found" in capsys.readouterr().err
    out = tmp_path / "out"
    shutil.copytree(built, out, ignore=shutil.ignore_patterns("audio"))
    (out / "build-state.json").write_text('{"roots": {"audio": "%s"}}' % (tmp_path / "gone"))
    assert main(["muse-vad", "render", str(out)]) == 2
    assert "source root for 'audio' not found" in capsys.readouterr().err


def test_an_undecodable_audio_file_is_left_out_or_fatal_with_strict(muse_sources, tmp_path, capsys):
    audio = tmp_path / "audio"
    shutil.copytree(muse_sources["audio"], audio)
    broken = next(audio.rglob(f"{spotify_id_for('Ada Quill', 'Simple Cue')}.*"))
    broken.write_bytes(b"not audio at all" * 64)
    linked = ["--spotify-cache", str(muse_sources["spotify_cache"]), "--audio", str(audio)]
    assert main(["muse-vad", "plan", *_tags(muse_sources, tmp_path / "out"), *linked]) == 0
    capsys.readouterr()
    audit = json.loads((tmp_path / "out" / "manifests" / "audit.json").read_text())
    reason = next(d["reason"] for d in audit["dropped"] if broken.stem in d["reason"])
    assert reason.startswith(f"audio file {broken.relative_to(audio)}: cannot decode: ")
    err = _plan(capsys, *_tags(muse_sources, tmp_path / "strict"), *linked, "--strict")
    assert f"audio file {broken.relative_to(audio)} is unusable (--strict)" in err


def _golden_tags_edited(sources, cache, edit) -> None:
    """A copy of the Last.fm cache whose golden track's top tags are ``edit(response)``."""
    lines = []
    for line in sources["lastfm_cache"].read_text().splitlines(keepends=True):
        record = json.loads(line)
        if record["params"] == {"artist": "Ada Quill", "track": "Simple Cue"}:
            record["response"] = edit(record["response"])
            line = json.dumps(record) + "\n"
        lines.append(line)
    cache.write_text("".join(lines))


@pytest.mark.parametrize("count", [1e308, -4, 2.5, "1e3", 10**7, True])
def test_a_tag_count_that_is_not_a_sane_whole_number_is_named_with_its_cache_line(
    muse_sources, tmp_path, capsys, count
):
    cache = tmp_path / "calls.jsonl"

    def huge(response):
        for tag in response["toptags"]["tag"]:
            tag["count"] = count
        return response

    _golden_tags_edited(muse_sources, cache, huge)
    err = _plan(capsys, *_tags(muse_sources, tmp_path / "out", **{"--lastfm-cache": cache}))
    line = next(
        n
        for n, text in enumerate(cache.read_text().splitlines(), start=1)
        if "Simple Cue" in text and "getTopTags" in text
    )
    assert f"{cache}: Last.fm track.getTopTags" in err and f"(cache line {line})" in err
    assert f"count {count!r} is not a whole number from 0 to 1,000,000" in err
    assert not (tmp_path / "out" / "manifests").exists()


@pytest.mark.parametrize("frame_s", ["0.001", "0.5", "86400"])
def test_a_frame_length_outside_its_bounds_is_refused(muse_sources, tmp_path, capsys, frame_s):
    """--frame-s 0.001 planned 1.3 M frames: frames are 1 s to 10 min long."""
    err = _plan(capsys, *_tags(muse_sources, tmp_path / "out"), "--frame-s", frame_s)
    assert "`frames.frame_s`" in err and "1" in err and "600" in err, err
    assert not (tmp_path / "out" / "manifests").exists()


def test_a_recipe_file_with_a_tiny_frame_is_refused(muse_sources, tmp_path, capsys):
    recipe = tmp_path / "recipe.toml"
    recipe.write_text('name = "muse-vad"\n[frames]\nframe_s = 0.01\n')
    err = _plan(capsys, *_tags(muse_sources, tmp_path / "out"), "--recipe", str(recipe))
    assert "`frames.frame_s`" in err

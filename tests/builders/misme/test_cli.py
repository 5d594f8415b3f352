"""`misme-build misme plan` end to end on the demo sources: determinism and bad input."""

import filecmp
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from builders.cli import main
from builders.common.manifest import read_manifest_frame as read_manifest
from builders.misme.mix_plan import plan_mixes
from builders.misme.recipe import DEFAULT_RECIPE, load_recipe
from tests.console import message_lines

MANIFESTS = ("sources.parquet", "mixes.parquet", "audit.json", "recipe.toml")


@pytest.fixture(scope="module")
def small_recipe(tmp_path_factory):
    """The v1 recipe with K=2: the test corpus has only 2 music clips per fold."""
    path = tmp_path_factory.mktemp("recipe") / "recipe.toml"
    path.write_text(
        DEFAULT_RECIPE.read_text().replace("mixes_per_speech = 5", "mixes_per_speech = 2")
    )
    return path


@pytest.fixture(scope="module")
def plan(small_recipe, tmp_path_factory):
    shared_cache = tmp_path_factory.mktemp("probe-cache")

    def run(src, out, *extra, own_cache=False):
        cache = [] if own_cache else ["--cache-dir", str(shared_cache)]
        return main(
            [
                "misme",
                "plan",
                "--ravdess",
                str(src / "RAVDESS"),
                "--deam",
                str(src / "DEAM"),
                "--soundtracks",
                str(src / "Soundtracks"),
                "--out",
                str(out),
                "--recipe",
                str(small_recipe),
                *cache,
                *extra,
            ]
        )

    return run


@pytest.fixture(scope="module")
def planned(demo_sources, tmp_path_factory, plan):
    out = tmp_path_factory.mktemp("plan1")
    assert plan(demo_sources, out, "--workers", "1") == 0
    return out


def test_manifests_are_written_with_the_documented_columns(planned):
    for name in MANIFESTS:
        assert (planned / "manifests" / name).is_file()
    mixes = pd.read_parquet(planned / "manifests" / "mixes.parquet")
    for column in (
        "mix_id",
        "fold",
        "speech_id",
        "music_id",
        "n_placements",
        "window_index",
        "window_start_s",
        "speech_offset_s",
        "emotion",
        "valence",
        "arousal",
    ):
        assert column in mixes.columns
    sources = pd.read_parquet(planned / "manifests" / "sources.parquet")
    for column in (
        "source_id",
        "corpus",
        "path",
        "sha256",
        "duration_s",
        "sample_rate",
        "channels",
        "actor",
        "gender",
        "emotion",
        "intensity",
        "statement",
        "repetition",
        "valence",
        "arousal",
        "loudness_lufs",
        "gain_db",
        "fold",
    ):
        assert column in sources.columns
    assert not sources["path"].str.startswith("/").any(), (
        "paths must be relative to the corpus root"
    )
    assert set(sources["corpus"]) == {"ravdess", "deam", "soundtracks"}


def test_same_sources_give_byte_identical_manifests(planned, demo_sources, tmp_path, plan):
    copy = tmp_path / "elsewhere" / "sources"
    shutil.copytree(demo_sources, copy)
    assert plan(copy, tmp_path / "plan2", "--workers", "2", own_cache=True) == 0
    for name in MANIFESTS:
        assert filecmp.cmp(
            planned / "manifests" / name, tmp_path / "plan2" / "manifests" / name, shallow=False
        ), name


def test_a_different_seed_gives_different_folds(planned, small_recipe):
    inventory = read_manifest(planned / "manifests" / "sources.parquet")
    recipe, _ = load_recipe(small_recipe)
    same = plan_mixes(inventory.drop(columns=["fold", "quadrant"]), recipe)
    other = plan_mixes(inventory.drop(columns=["fold", "quadrant"]), recipe.with_value("seed", 7))
    assert (same.sources["fold"].to_numpy() == inventory["fold"].to_numpy()).all()
    assert not (other.sources["fold"].to_numpy() == inventory["fold"].to_numpy()).all()


def _run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "builders.cli", *map(str, args)], capture_output=True, text=True
    )


def test_missing_root_is_a_one_line_error(tmp_path, demo_sources):
    result = _run_cli(
        "misme",
        "plan",
        "--ravdess",
        tmp_path / "nope",
        "--deam",
        demo_sources / "DEAM",
        "--out",
        tmp_path / "out",
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "nope" in result.stderr
    assert not (tmp_path / "out").exists(), "a failed plan must not leave an output folder behind"


def test_empty_folder_is_a_one_line_error(tmp_path, demo_sources):
    (tmp_path / "empty").mkdir()
    result = _run_cli(
        "misme",
        "plan",
        "--ravdess",
        tmp_path / "empty",
        "--deam",
        demo_sources / "DEAM",
        "--out",
        tmp_path / "out",
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "manifests").exists()


def test_corrupt_audio_and_bad_names_are_listed_skips(tmp_path, demo_sources, plan, small_recipe):
    src = tmp_path / "src"
    shutil.copytree(demo_sources, src)
    victim = sorted((src / "RAVDESS").rglob("03-01-*.wav"))[0]
    victim.write_bytes(b"RIFF" + b"\x00" * 100)
    (victim.parent / "03-01-09-01-01-01-01.wav").write_bytes(b"bad emotion code")
    assert plan(src, tmp_path / "out") == 0
    audit = pd.read_json(tmp_path / "out" / "manifests" / "audit.json", typ="series")
    skipped = {entry["item"] for entry in audit["skipped"]}
    assert any(victim.stem in item for item in skipped)
    assert any("03-01-09" in item for item in skipped)
    result = _run_cli(
        "misme",
        "plan",
        "--ravdess",
        src / "RAVDESS",
        "--deam",
        src / "DEAM",
        "--soundtracks",
        src / "Soundtracks",
        "--out",
        tmp_path / "strict",
        "--strict",
        "--recipe",
        small_recipe,
        "--cache-dir",
        tmp_path / "out" / ".cache",
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert not (tmp_path / "strict" / "manifests").exists()


def test_annotation_csv_without_a_needed_column_is_an_error(tmp_path, demo_sources):
    src = tmp_path / "src"
    shutil.copytree(demo_sources, src)
    csv = next((src / "DEAM").rglob("static_annotations_averaged_songs_1_2000.csv"))
    text = csv.read_text().replace("arousal_mean", "arousal_average")
    csv.write_text(text)
    result = _run_cli(
        "misme",
        "plan",
        "--ravdess",
        src / "RAVDESS",
        "--deam",
        src / "DEAM",
        "--out",
        tmp_path / "o",
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "arousal_mean" in result.stderr
    assert not (tmp_path / "o" / "manifests").exists()


def test_replanning_the_same_corpus_keeps_what_later_steps_added(planned, demo_sources, plan):
    mixes_path = planned / "manifests" / "mixes.parquet"
    extra = planned / "manifests" / "separation-oracle.json"
    extra.write_text("{}")
    rendered = pd.read_parquet(mixes_path)
    rendered["audio_sha256"] = "0" * 64
    rendered.to_parquet(mixes_path)
    assert plan(demo_sources, planned) == 0
    assert extra.is_file()
    assert "audio_sha256" in pd.read_parquet(mixes_path).columns
    extra.unlink()


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (("window_s = 4.5", "window_s = nan"), "mixing.window_s"),
        (("window_s = 4.5", "window_s = inf"), "mixing.window_s"),
        (("mixes_per_speech = 2", "mixes_per_spech = 2"), "mixing.mixes_per_spech"),
        (("seed = 20200830", "seed = 20200830\nsede = 1"), "sede"),
        (("activity_floor_db = -35.0", "activity_floor_db = 10.0"), "activity_floor_db"),
    ],
)
def test_recipe_mistakes_are_one_line_errors(
    tmp_path, demo_sources, small_recipe, capsys, change, named
):
    recipe = tmp_path / "recipe.toml"
    text = small_recipe.read_text()
    assert change[0] in text
    recipe.write_text(text.replace(*change))
    code = main(
        [
            "misme",
            "plan",
            "--ravdess",
            str(demo_sources / "RAVDESS"),
            "--deam",
            str(demo_sources / "DEAM"),
            "--out",
            str(tmp_path / "out"),
            "--recipe",
            str(recipe),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and named in err and len(message_lines(err)) == 1
    assert not (tmp_path / "out" / "manifests").exists()


def test_a_build_recipe_toml_is_accepted_as_a_recipe(planned):
    recipe, _ = load_recipe(planned / "manifests" / "recipe.toml")
    assert recipe.mixing.mixes_per_speech == 2

"""A recipe v2 build of espeak-ng speech takes and music: every speech and music clip of the
dataset at -23.0 +- 0.1 LUFS by pyloudnorm and by ffmpeg's ebur128, none clipped or scaled."""

from __future__ import annotations

import re
import shutil

import pyarrow.parquet as pq
import pytest

from builders import cli
from builders.misme.plan import plan_dataset
from builders.misme.recipe import DEFAULT_RECIPE, RECIPE_V1
from builders.misme.render import render_dataset
from tests.builders.real_audio import (
    DELIVERIES,
    SENTENCES,
    ebur128_lufs,
    pyloudnorm_lufs,
    speech_take,
    write_take,
)


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("MISME_NO_PROGRESS", "1")


def espeak_sources(demo_sources, folder):
    """The small demo corpus with every RAVDESS take spoken by espeak-ng (quick to slow, loud
    to quiet), 48 kHz 16-bit mono between 0.6-1 s of room noise."""
    shutil.copytree(demo_sources, folder)
    takes = sorted((folder / "RAVDESS").rglob("*.wav"))
    for index, path in enumerate(takes):
        delivery = DELIVERIES[index % len(DELIVERIES)]
        write_take(path, speech_take(SENTENCES[index % 2], delivery, seed=index))
    return folder


@pytest.mark.slow
def test_v2_build_puts_speech_and_music_at_target(demo_sources, tmp_path):
    src = espeak_sources(demo_sources, tmp_path / "src")
    recipe = tmp_path / "recipe-k2.toml"
    recipe.write_text(
        DEFAULT_RECIPE.read_text().replace("mixes_per_speech = 5", "mixes_per_speech = 2")
    )
    out = tmp_path / "out"
    plan_dataset(
        ravdess=src / "RAVDESS",
        deam=src / "DEAM",
        soundtracks=src / "Soundtracks",
        out=out,
        recipe_path=recipe,
        progress=False,
    )
    assert 'meter = "bs1770"' in (out / "manifests" / "recipe.toml").read_text()
    render_dataset(out, progress=False)
    sources = pq.read_table(out / "manifests" / "sources.parquet").to_pandas()
    assert (sources["corpus"] == "ravdess").sum() == len(list((src / "RAVDESS").rglob("*.wav")))
    assert (sources["render_gain_db"] == 0).all()  # nothing scaled down to avoid clipping
    clips = tmp_path / "clips"
    clips.mkdir()
    for config in ("speech", "music"):
        for shard in sorted((out / "data" / config).glob("*.parquet")):
            for row in pq.read_table(shard, columns=["id", "audio"]).to_pylist():
                path = clips / f"{row['id']}.flac"
                path.write_bytes(row["audio"]["bytes"])
                assert pyloudnorm_lufs(path) == pytest.approx(-23.0, abs=0.1), row["id"]
                assert ebur128_lufs(path) == pytest.approx(-23.0, abs=0.1), row["id"]
    assert len(list(clips.iterdir())) == len(sources)


@pytest.mark.slow
def test_a_v1_build_keeps_v1s_meter_and_verifies(demo_sources, tmp_path, capsys):
    recipe = tmp_path / "recipe-v1-k2.toml"
    recipe.write_text(RECIPE_V1.read_text().replace("mixes_per_speech = 5", "mixes_per_speech = 2"))
    out = tmp_path / "out"
    corpora = [f"--{name.lower()}={demo_sources / name}" for name in ("RAVDESS", "DEAM")]
    arguments = ["misme", "build", *corpora, f"--out={out}", f"--recipe={recipe}"]
    assert cli.main([*arguments, f"--soundtracks={demo_sources / 'Soundtracks'}"]) == 0
    as_used = (out / "manifests" / "recipe.toml").read_text()
    assert "meter" not in as_used and "ffmpeg-normalize" in as_used and "scipy" not in as_used
    digest = re.search(r"[0-9a-f]{64}", (out / "digest.txt").read_text())[0]  # the dataset's
    capsys.readouterr()
    assert cli.main(["verify", str(out), "--digest", digest]) == 0

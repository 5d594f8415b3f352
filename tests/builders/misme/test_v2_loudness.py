"""A recipe v2 build of espeak-ng speech takes and music in the formats real corpora come in
(speech as Opus and Ogg Vorbis, DEAM as M4A and AAC, Soundtracks as WebM): every speech and
music clip of the dataset at -23.0 +- 0.1 LUFS by pyloudnorm and by ffmpeg's ebur128, every
source kept, none clipped or scaled. And a v1 build keeps v1's meter and verifies."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from builders import cli
from builders.common.audio import read_audio
from builders.misme.plan import plan_dataset
from builders.misme.recipe import DEFAULT_RECIPE, RECIPE_V1
from builders.misme.render import render_dataset
from tests.builders.encoded import encode
from tests.builders.real_audio import (
    DELIVERIES,
    SENTENCES,
    TAKE_RATE,
    ebur128_lufs,
    pyloudnorm_lufs,
    speech_take,
)

# corpus -> the new formats its files are written in, in turn
NEW_FORMATS = {"RAVDESS": (".opus", ".ogg"), "DEAM": (".m4a", ".aac"), "Soundtracks": (".webm",)}


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("MISME_NO_PROGRESS", "1")


def espeak_sources(demo_sources: Path, folder: Path) -> Path:
    """The small demo corpus with every RAVDESS take spoken by espeak-ng (quick to slow, loud
    to quiet; 48 kHz mono between 0.6-1 s of room noise) and every file re-encoded in turn
    in its corpus's :data:`NEW_FORMATS`; the WAV and MP3 files are gone."""
    shutil.copytree(demo_sources, folder)
    for corpus, suffixes in NEW_FORMATS.items():
        for index, path in enumerate(sorted((folder / corpus).rglob("*.[wm][ap][v3]"))):
            if corpus == "RAVDESS":
                delivery = DELIVERIES[index % len(DELIVERIES)]
                data = speech_take(SENTENCES[index % 2], delivery, seed=index)[:, None]
                rate = TAKE_RATE
            else:
                data, rate = read_audio(path)
            encode(path.with_suffix(suffixes[index % len(suffixes)]), data, rate)
            path.unlink()
    return folder


def plan_v2(src: Path, out: Path) -> None:
    recipe = out.parent / "recipe-k2.toml"
    recipe.write_text(
        DEFAULT_RECIPE.read_text().replace("mixes_per_speech = 5", "mixes_per_speech = 2")
    )
    plan_dataset(
        ravdess=src / "RAVDESS",
        deam=src / "DEAM",
        soundtracks=src / "Soundtracks",
        out=out,
        recipe_path=recipe,
        progress=False,
    )


@pytest.mark.slow
def test_v2_build_from_new_formats_puts_speech_and_music_at_target(demo_sources, tmp_path):
    src = espeak_sources(demo_sources, tmp_path / "src")
    files = {
        corpus: sorted(p.name for p in (src / corpus).rglob("*") if p.suffix in suffixes)
        for corpus, suffixes in NEW_FORMATS.items()
    }
    out = tmp_path / "out"
    plan_v2(src, out)
    assert 'meter = "bs1770"' in (out / "manifests" / "recipe.toml").read_text()
    render_dataset(out, progress=False)
    sources = pq.read_table(out / "manifests" / "sources.parquet").to_pandas()
    audit = json.loads((out / "manifests" / "audit.json").read_text())
    assert audit["excluded"] == []
    # the demo's annotations name a few songs without audio, as DEAM's and Soundtracks' do;
    # no audio file is skipped
    skipped = {(skip["item"], "have no audio file" in skip["reason"]) for skip in audit["skipped"]}
    assert skipped == {("annotations", True), ("mean_ratings_set1.csv", True)}, audit["skipped"]
    for corpus, names in files.items():  # every source file is a clip of the dataset
        kept = sources.loc[sources["corpus"] == corpus.lower(), "path"]
        assert sorted(Path(p).name for p in kept) == names
    assert {Path(p).suffix for p in sources["path"]} == {".opus", ".ogg", ".m4a", ".aac", ".webm"}
    assert (sources["render_gain_db"] == 0).all()  # nothing scaled down to avoid clipping
    measured = measure_clips(out, tmp_path / "clips")
    assert sorted(measured) == sorted(sources["source_id"])
    for clip, (peak, by_pyloudnorm, by_ebur128) in measured.items():
        assert peak < 1.0, clip  # no sample at full scale
        assert by_pyloudnorm == pytest.approx(-23.0, abs=0.1), clip
        assert by_ebur128 == pytest.approx(-23.0, abs=0.1), clip


def measure_clips(out: Path, folder: Path) -> dict[str, tuple[float, float, float]]:
    """Each speech and music clip of the build: (peak |x|, pyloudnorm LUFS, ebur128 LUFS)."""
    folder.mkdir()
    measured = {}
    for config in ("speech", "music"):
        for shard in sorted((out / "data" / config).glob("*.parquet")):
            for row in pq.read_table(shard, columns=["id", "audio"]).to_pylist():
                path = folder / f"{row['id']}.flac"
                path.write_bytes(row["audio"]["bytes"])
                peak = float(np.abs(sf.read(path, dtype="float64")[0]).max())
                measured[row["id"]] = (peak, pyloudnorm_lufs(path), ebur128_lufs(path))
    return measured


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

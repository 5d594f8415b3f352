"""Render and export: the Hugging Face dataset, solutions, determinism, resume, failures."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import datasets
import pandas as pd
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from builders.cli import main
from builders.errors import UserError
from builders.hf.digest import read_digests
from builders.instrumental_mer.render import render_dataset
from tests.clips import clip_ref

from .conftest import compile_build

MANIFESTS = ("clips.parquet", "sources.parquet", "screening.parquet", "audit.json", "recipe.toml")


@pytest.fixture(scope="module")
def one_worker_build(demo_run, tmp_path_factory):
    """Mode (b) on 1 worker, from a copy of the sources in another folder."""
    root = tmp_path_factory.mktemp("w1")
    shutil.copytree(demo_run["sources"]["deam"].parent, root / "elsewhere")
    sources = {name: root / "elsewhere" / path.name for name, path in demo_run["sources"].items()}
    return compile_build(sources, root / "build", workers=1)


def test_manifests_and_digest_depend_neither_on_workers_nor_on_where_sources_are(
    demo_run, one_worker_build
):
    two = demo_run["build"]  # built with 2 workers
    for name in MANIFESTS:
        assert (one_worker_build / "manifests" / name).read_bytes() == (
            two / "manifests" / name
        ).read_bytes(), name
    assert (one_worker_build / "digest.txt").read_text() == (two / "digest.txt").read_text()
    assert main(["verify", str(one_worker_build), "--against", str(two)]) == 0


def test_clips_parquet_columns_and_rendered_audio(demo_run):
    build = demo_run["build"]
    clips = pd.read_parquet(build / "manifests" / "clips.parquet")
    for column in (
        "clip_id",
        "corpus",
        "song_id",
        "artist",
        "title",
        "source_path",
        "start_s",
        "duration_s",
        "valence",
        "arousal",
        "quadrant",
        "fold",
        "audio_sha256",
    ):
        assert column in clips.columns
    sources = pd.read_parquet(build / "manifests" / "sources.parquet")
    assert {
        "source_id",
        "corpus",
        "path",
        "sha256",
        "frames",
        "sample_rate",
        "channels",
        "duration_s",
    } <= set(sources.columns)
    row = clips.iloc[0]
    info = sf.info(clip_ref(build / "audio" / "clips" / f"{row['clip_id']}.flac").open())
    assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
    assert info.frames == round(row["duration_s"] * 16000)


def test_the_dataset_loads_with_the_datasets_library(demo_run, tmp_path):
    build = demo_run["build"]
    clips = pd.read_parquet(build / "manifests" / "clips.parquet")
    ds = datasets.load_dataset(str(build), "clips", cache_dir=str(tmp_path / "hf"))
    assert sorted(ds) == [f"fold{k}" for k in range(1, 7)]
    assert sum(len(ds[split]) for split in ds) == len(clips)
    first = ds["fold1"].cast_column("audio", datasets.Audio(decode=False))[
        0
    ]  # decode with soundfile
    audio, rate = sf.read(io.BytesIO(first["audio"]["bytes"]))
    assert rate == 16000 and audio.ndim == 1 and first["fold"] == 1
    assert round(first["duration_s"] * rate) == len(audio)
    cv = datasets.load_dataset(str(build), "clips-cv2", cache_dir=str(tmp_path / "hf"))
    assert len(cv["test"]) == int((clips["fold"] == 2).sum())
    assert len(cv["train"]) + len(cv["test"]) == len(clips)


def _score(prediction: Path, solution: Path, task: str, report: Path) -> dict:
    script = Path(sys.executable).with_name("misme-score")
    subprocess.run(
        [
            str(script),
            "score",
            str(prediction),
            "--solution",
            str(solution),
            "--task",
            task,
            "--json",
            str(report),
        ],
        check=True,
        capture_output=True,
    )
    return json.loads(report.read_text())


def test_perfect_predictions_from_the_solutions_score_perfectly(demo_run, tmp_path):
    solutions = demo_run["build"] / "solutions"
    quadrant = pd.read_parquet(solutions / "mer-quadrant.parquet")
    va = pd.read_parquet(solutions / "mer-va.parquet")
    assert len(quadrant) > len(va) > 0  # EMOPIA has no valence/arousal
    quadrant[["id", "quadrant"]].to_csv(tmp_path / "q.csv", index=False)
    va[["id", "valence", "arousal"]].to_csv(tmp_path / "va.csv", index=False, float_format="%.17g")
    report = _score(
        tmp_path / "q.csv", solutions / "mer-quadrant.parquet", "mer-quadrant", tmp_path / "q.json"
    )
    assert report["pooled"]["accuracy"] == 1.0
    report = _score(
        tmp_path / "va.csv", solutions / "mer-va.parquet", "mer-va", tmp_path / "va.json"
    )
    assert report["pooled"]["rmse_valence"] == 0.0 and report["pooled"]["rmse_arousal"] == 0.0


def test_card_has_the_counts_table_recipe_versions_and_digest(demo_run):
    build = demo_run["build"]
    card = (build / "README.md").read_text()
    digest = read_digests(build)["dataset"]
    assert f"`{digest}`" in card
    assert "## Clips per corpus, quadrant and fold" in card and "| all | **all** |" in card
    assert 'name = "instrumental-mer"' in card and "## Tool versions" in card
    assert "config_name: clips-cv6" in card


def test_a_rerender_resumes_every_clip_and_keeps_the_digest(one_worker_build):
    digest = read_digests(one_worker_build)["dataset"]
    shards = sorted((one_worker_build / "data" / "clips").glob("*.parquet"))
    inodes = [p.stat().st_ino for p in shards]
    summary = render_dataset(one_worker_build, workers=2, progress=False)
    assert summary.rendered == 0 and summary.resumed == summary.count
    # every part hard-linked from the published config: no audio byte written again
    assert [p.stat().st_ino for p in shards] == inodes
    assert summary.digest == digest
    assert main(["verify", str(one_worker_build), "--check-sources", "--digest", digest]) == 0


def test_a_failed_render_leaves_no_dataset_and_resumes_once_mended(demo_run, tmp_path):
    sources = {k: v for k, v in demo_run["sources"].items()}
    copy = tmp_path / "EMOPIA"
    shutil.copytree(sources["emopia"], copy)
    sources["emopia"] = copy
    out = tmp_path / "build"
    from builders.instrumental_mer.plan import plan_dataset

    from .conftest import demo_roots, demo_screening

    plan = plan_dataset(
        roots=demo_roots(sources), out=out, screening=demo_screening(sources), progress=False
    )
    victim = plan.clips[plan.clips["corpus"] == "emopia"].iloc[-1]
    source = copy / victim["source_path"]
    source.rename(source.with_suffix(".moved"))
    with pytest.raises(UserError, match="source file missing"):
        render_dataset(out, workers=1, progress=False)
    assert not (out / "digest.txt").exists()
    # only parts staged (the clips rendered before the failure), no config published
    assert [p.name for p in (out / "data").iterdir()] == [".staged"]
    assert "audio_sha256" not in pq.read_schema(out / "manifests" / "clips.parquet").names
    source.with_suffix(".moved").rename(source)
    summary = render_dataset(out, workers=1, progress=False)
    assert summary.resumed > 0 and summary.rendered > 0
    assert summary.digests.text == (demo_run["build"] / "digest.txt").read_text()


def test_a_replan_with_the_same_inputs_keeps_the_rendered_manifests(one_worker_build, demo_run):
    from builders.instrumental_mer.plan import plan_dataset

    from .conftest import demo_roots, demo_screening

    before = (one_worker_build / "manifests" / "clips.parquet").read_bytes()
    plan_dataset(
        roots=demo_roots(demo_run["sources"]),
        out=one_worker_build,
        screening=demo_screening(demo_run["sources"]),
        progress=False,
    )
    assert (one_worker_build / "manifests" / "clips.parquet").read_bytes() == before
    assert "audio_sha256" in pq.read_schema(one_worker_build / "manifests" / "clips.parquet").names


def _rows(build: Path, cache: Path) -> dict[str, list[dict]]:
    ds = datasets.load_dataset(str(build), "clips", cache_dir=str(cache))
    return {
        split: ds[split].cast_column("audio", datasets.Audio(decode=False)).to_list()
        for split in ds
    }


def test_each_fold_s_clips_are_cut_into_parts_in_id_order(demo_run, tmp_path, monkeypatch):
    from builders import excerpts

    monkeypatch.setattr(excerpts, "MAX_EXCERPTS", 2)  # two clips per batch, i.e. per part
    out = tmp_path / "build"
    shutil.copytree(
        demo_run["build"], out, ignore=shutil.ignore_patterns("audio", "data", "digest.txt")
    )
    summary = render_dataset(out, workers=2, progress=False)
    assert summary.rendered == summary.count
    for fold in range(1, 7):
        parts = sorted((out / "data" / "clips").glob(f"fold{fold}-*.parquet"))
        total = len(parts)
        assert total > 1 and [p.name for p in parts] == [
            f"fold{fold}-{n:05d}-of-{total:05d}.parquet" for n in range(total)
        ]
        ids = [i for p in parts for i in pq.read_table(p, columns=["id"]).column("id").to_pylist()]
        assert ids == sorted(ids) and all(pq.read_metadata(p).num_rows <= 2 for p in parts)
    assert not (out / "data" / ".staged").exists() and not list((out / "audio").rglob("*.flac"))
    assert summary.digests.text == (demo_run["build"] / "digest.txt").read_text()
    for name in ("clips.parquet", "sources.parquet"):
        assert (out / "manifests" / name).read_bytes() == (
            demo_run["build"] / "manifests" / name
        ).read_bytes()
    assert _rows(out, tmp_path / "hf") == _rows(demo_run["build"], tmp_path / "hf")
    again = render_dataset(out, workers=1, progress=False)  # every part kept: hard-linked
    assert again.rendered == 0 and again.digest == summary.digest

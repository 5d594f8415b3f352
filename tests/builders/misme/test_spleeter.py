"""The Spleeter backend end to end, with a tiny 2-stem model trained by `spleeter train`.

Needs .venv-spleeter (`make spleeter-env`): without it these tests are skipped, unless
MISME_REQUIRE_SPLEETER=1 (CI), where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import datasets
import numpy as np
import pyarrow.parquet as pq
import pytest

from builders.cli import main
from builders.common import audio as audio_io
from builders.engine import Engine
from builders.errors import UserError
from builders.misme import separation
from builders.misme import spleeter_client as spleeter
from builders.misme.render import render_dataset
from tests.builders.misme.render_support import W, make_build
from tests.builders.misme.spleeter_model import REPO, spleeter_python, train_tiny_model
from tests.clips import clip_bytes, clip_ids, clip_pcm

pytestmark = [pytest.mark.spleeter, pytest.mark.slow]


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("MISME_NO_PROGRESS", "1")


@pytest.fixture(scope="session")
def spleeter_env():
    python = spleeter_python()
    if python is None:
        message = "Spleeter environment .venv-spleeter absent: run `make spleeter-env`"
        if os.environ.get("MISME_REQUIRE_SPLEETER") == "1":
            pytest.fail(message + " (MISME_REQUIRE_SPLEETER=1)")
        pytest.skip(message)
    return python


@pytest.fixture(scope="session")
def tiny_model(spleeter_env, tmp_path_factory):
    """``<models>/2stems``: checkpoint + params.json + .probe, trained for 2 steps."""
    return train_tiny_model(tmp_path_factory.mktemp("spleeter-models"))


@pytest.fixture(scope="module")
def rendered(spleeter_env, tmp_path_factory):
    out, _ = make_build(tmp_path_factory.mktemp("spleeter-render"))
    render_dataset(out, progress=False)
    return out


@pytest.fixture(scope="module")
def separated(rendered, tiny_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("spleeter-bss") / "out"
    shutil.copytree(rendered, out)
    # --model-dir may name the 2stems folder's parent, like MODEL_PATH
    assert (
        main(
            [
                "misme",
                "separate",
                str(out),
                "--backend",
                "spleeter",
                "--model-dir",
                str(tiny_model.parent),
            ]
        )
        == 0
    )
    return out


def test_tiny_model_is_an_offline_spleeter_model(tiny_model):
    assert (tiny_model / ".probe").exists() and (tiny_model / "checkpoint").exists()
    assert json.loads((tiny_model / "params.json").read_text())["instrument_list"] == [
        "vocals",
        "accompaniment",
    ]
    assert spleeter.resolve_model_dir(tiny_model.parent) == tiny_model


def test_bss_loads_with_the_ids_and_folds_of_mixed(separated):
    mixed = datasets.load_dataset(str(separated), "mixed")
    bss = datasets.load_dataset(str(separated), "bss")
    assert list(bss) == list(mixed) == [f"fold{k}" for k in range(1, 7)]
    for split in mixed:
        assert len(bss[split]) == len(mixed[split]) == 2
        assert bss[split]["id"] == mixed[split]["id"]
        assert bss[split]["fold"] == mixed[split]["fold"] == [int(split[4:])] * 2
        assert bss[split]["emotion"] == mixed[split]["emotion"]


def test_clips_shapes_rate_and_checksums(separated):
    manifest = {
        r["mix_id"]: r
        for r in pq.read_table(separated / "manifests" / "separation-spleeter.parquet").to_pylist()
    }
    mixes = pq.read_table(separated / "manifests" / "mixes.parquet").to_pylist()
    assert sorted(manifest) == sorted(m["mix_id"] for m in mixes)
    for row in mixes:
        music_pcm, rate = clip_pcm(separated / "audio" / "bss-music" / f"{row['mix_id']}.flac")
        speech_pcm, rate2 = clip_pcm(separated / "audio" / "bss-speech" / f"{row['mix_id']}.flac")
        assert rate == rate2 == 44100
        assert music_pcm.shape == (row["music_frames"], 2) and speech_pcm.shape == (W, 2)
        assert np.abs(music_pcm).max() > 0  # the model output something
        assert audio_io.pcm_sha256(music_pcm) == manifest[row["mix_id"]]["audio_sha256"]
        assert audio_io.pcm_sha256(speech_pcm) == manifest[row["mix_id"]]["audio_window_sha256"]
        assert manifest[row["mix_id"]]["fold"] == row["fold"]
        assert np.isfinite(manifest[row["mix_id"]]["music_si_sdr"])
    assert main(["verify", str(separated)]) == 0


@pytest.fixture(scope="module")
def worker(tiny_model, tmp_path_factory):
    """One worker process (TensorFlow + model loaded once) shared by the protocol tests."""
    started = spleeter.SpleeterWorker(
        spleeter_python(), tiny_model, tmp_path_factory.mktemp("worker")
    )
    yield started
    started.close()
    assert started.process.returncode == 0


def test_speech_clip_is_the_window_of_the_full_separation(separated, worker, tmp_path):
    """Separation runs on the full mix, then the vocals are cropped to the SER window."""
    row = next(
        r
        for r in pq.read_table(separated / "manifests" / "mixes.parquet").to_pylist()
        if r["window_index"] > 0
    )
    vocals, accompaniment = tmp_path / "v.npy", tmp_path / "a.npy"
    mix = tmp_path / "mix.flac"  # the worker reads files; the build's mix is in its shard
    mix.write_bytes(clip_bytes(separated / "audio" / "mixed" / f"{row['mix_id']}.flac"))
    worker.separate(mix, vocals, accompaniment)
    full = np.load(vocals)
    start = row["window_start_frame"]
    expected = audio_io.quantise(audio_io.peak_normalise(full[start : start + W])[0])
    clip, _ = clip_pcm(separated / "audio" / "bss-speech" / f"{row['mix_id']}.flac")
    assert np.abs(clip.astype(int) - expected.astype(int)).max() <= 1


def test_identity_covers_model_files_and_spleeter_version(separated, tiny_model, tmp_path):
    document = json.loads((separated / "manifests" / "separation-spleeter.json").read_text())
    identity = document["identity"]
    assert identity["spleeter_version"] == "2.4.2"
    files = identity["model_files"]
    assert (
        "checkpoint" in files
        and "params.json" in files
        and any(n.endswith(".index") for n in files)
    )
    assert files["checkpoint"] == audio_io.file_sha256(tiny_model / "checkpoint")
    assert "config_name: bss" in (separated / "README.md").read_text()
    # another model (one changed file) is another identity, hence another digest and no cache reuse
    other = tmp_path / "2stems"
    shutil.copytree(tiny_model, other, copy_function=os.link)
    params = json.loads((other / "params.json").read_text())
    (other / "params.json").unlink()  # hard link: replace, do not edit in place
    (other / "params.json").write_text(json.dumps({**params, "learning_rate": 2e-4}))
    python = spleeter.spleeter_python()
    first = separation.identity_digest(separation._identity("spleeter", tiny_model, python))
    assert first == document["identity_digest"]
    assert separation.identity_digest(separation._identity("spleeter", other, python)) != first


def test_worker_matches_spleeter_separator(tiny_model, tmp_path):
    """The worker's persistent session computes what Spleeter's own Separator computes."""
    script = f"""
import json, numpy as np, os, sys
sys.path.insert(0, {str(REPO / "builders" / "misme")!r})
import spleeter_worker as w
from spleeter.separator import Separator
rng = np.random.default_rng(0)
x = (0.1 * rng.standard_normal((44100 * 3, 2))).astype(np.float32)
ours = w.start(os.environ["MODEL_PATH"], "2stems").separate(x)
theirs = Separator({str(tiny_model / "params.json")!r}, multiprocess=False).separate(x)
print(json.dumps({{"diffs": {{k: float(np.abs(ours[k] - theirs[k]).max()) for k in theirs}},
                  "shapes": {{k: list(v.shape) for k, v in ours.items()}}}}))
"""
    env = dict(
        os.environ,
        MODEL_PATH=str(tiny_model.parent),
        TF_CPP_MIN_LOG_LEVEL="3",
        CUDA_VISIBLE_DEVICES="",
    )
    result = subprocess.run(
        [str(spleeter_python()), "-c", script],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    diffs, shapes = answer["diffs"], answer["shapes"]
    assert set(diffs) == {"vocals", "accompaniment"}
    assert max(diffs.values()) < 1e-5
    assert shapes == {"vocals": [132300, 2], "accompaniment": [132300, 2]}


def test_worker_survives_a_bad_job(worker, tmp_path):
    import soundfile as sf

    assert worker.info["ready"] and worker.info["instruments"] == ["vocals", "accompaniment"]
    assert worker.info["sample_rate"] == 44100
    with pytest.raises(UserError, match="Spleeter failed on"):
        worker.separate(tmp_path / "missing.flac", tmp_path / "v.wav", tmp_path / "a.wav")
    sf.write(tmp_path / "in.wav", np.zeros((44100, 1), np.float32), 44100)
    answer = worker.separate(tmp_path / "in.wav", tmp_path / "v.wav", tmp_path / "a.wav")
    assert answer["ok"] and answer["frames"] == 44100
    stems, rate = sf.read(tmp_path / "a.wav", always_2d=True)
    assert stems.shape == (44100, 2) and rate == 44100


def test_corrupt_mix_leaves_no_variant(rendered, tiny_model, tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(rendered, out)
    victim = out / "audio" / "mixed" / f"{clip_ids(out, 'mixed')[5]}.flac"
    victim.write_bytes(b"not a flac")  # a file wins over the clip's published copy
    code = main(
        [
            "misme",
            "separate",
            str(out),
            "--backend",
            "spleeter",
            "--model-dir",
            str(tiny_model),
            "--no-quality",
        ]
    )
    assert code == 2
    assert victim.stem in capsys.readouterr().err
    assert not (out / "data" / "bss").exists()
    assert not (out / "manifests" / "separation-spleeter.json").exists()


@pytest.mark.parametrize("engine", [Engine("local", 2), Engine("ray", 2)], ids=["local-2", "ray-2"])
def test_two_workers_or_ray_give_the_same_clips(separated, tiny_model, tmp_path, request, engine):
    if engine.backend == "ray":
        request.getfixturevalue("ray_cluster")
    out = tmp_path / "out"
    shutil.copytree(separated, out)
    shutil.rmtree(out / "audio" / "bss-music")
    shutil.rmtree(out / "audio" / "bss-speech")
    summary = separation.separate_dataset(
        out, backend="spleeter", model_dir=tiny_model, engine=engine, progress=False, quality=False
    )
    assert summary.separated == 12
    for view in ("bss-music", "bss-speech"):
        ids = clip_ids(separated, view)
        assert len(ids) == 12 and clip_ids(out, view) == ids
        for clip_id in ids:
            a, _ = clip_pcm(separated / "audio" / view / f"{clip_id}.flac")
            b, _ = clip_pcm(out / "audio" / view / f"{clip_id}.flac")
            np.testing.assert_array_equal(a, b)

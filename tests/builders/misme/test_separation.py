"""BSS without Spleeter: SI-SDR/SDR, the oracle backend end to end, and the user errors.

The Spleeter backend itself is tested in test_spleeter.py (needs .venv-spleeter).
"""

from __future__ import annotations

import json
import shutil
import sys

import datasets
import numpy as np
import pyarrow.parquet as pq
import pytest

from builders.cli import main
from builders.common import audio as audio_io
from builders.errors import UserError
from builders.hf.digest import identity_checksums
from builders.misme import separation, separation_quality, spleeter_worker
from builders.misme.oracle import oracle_separate
from builders.misme.render import render_dataset
from builders.misme.separation_outputs import card_sections
from builders.misme.separation_quality import sdr, si_sdr
from builders.misme.spec import spec_for_build
from tests.builders.misme.render_support import W, make_build
from tests.clips import clip_bytes, clip_float, clip_pcm


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("MISME_NO_PROGRESS", "1")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """A rendered build (12 mixes, 6 folds), not yet separated; treat as read-only."""
    out, _ = make_build(tmp_path_factory.mktemp("sep-render"))
    render_dataset(out, progress=False)
    return out


@pytest.fixture(scope="module")
def oracle(rendered, tmp_path_factory):
    out = tmp_path_factory.mktemp("sep-oracle") / "out"
    shutil.copytree(rendered, out)
    assert main(["misme", "separate", str(out), "--backend", "oracle"]) == 0
    return out


# ---------------------------------------------------------------- metrics


def test_sdr_matches_a_known_noise_level():
    rng = np.random.default_rng(0)
    ref = rng.standard_normal((44100, 2))
    noise = rng.standard_normal((44100, 2))
    noise *= np.linalg.norm(ref) / np.linalg.norm(noise) / 10.0  # exactly 20 dB below
    assert sdr(ref + noise, ref) == pytest.approx(20.0, abs=1e-9)


def test_si_sdr_ignores_scale_but_sdr_does_not():
    rng = np.random.default_rng(1)
    ref = rng.standard_normal((1000, 2))
    est = ref + 0.1 * rng.standard_normal((1000, 2))
    assert si_sdr(0.25 * est, ref) == pytest.approx(si_sdr(est, ref), abs=1e-9)
    assert sdr(0.25 * est, ref) < sdr(est, ref) - 5.0


def test_si_sdr_formula_on_a_hand_example():
    ref = np.array([1.0, 0.0])
    est = np.array([1.0, 1.0])  # alpha = 1, target [1, 0], residual [0, 1] -> 0 dB
    assert si_sdr(est, ref) == pytest.approx(0.0, abs=1e-12)
    assert sdr(np.array([2.0, 0.0]), ref) == pytest.approx(0.0, abs=1e-12)


def test_metric_edge_cases():
    ref = np.ones((10, 2))
    assert si_sdr(ref, ref) == separation_quality.MAX_DB
    assert np.isnan(si_sdr(ref, np.zeros((10, 2))))
    assert np.isnan(sdr(ref, np.zeros((10, 2))))
    with pytest.raises(ValueError, match="shape"):
        si_sdr(np.ones(3), np.ones(4))


def test_summary_per_fold_and_overall():
    import pandas as pd

    frame = pd.DataFrame(
        {
            "fold": [1, 1, 2],
            "music_si_sdr": [10.0, 20.0, 30.0],
            "music_sdr": [1.0, 2.0, 3.0],
            "speech_si_sdr": [5.0, np.nan, 7.0],
            "speech_sdr": [0.0, 0.0, 0.0],
        }
    )
    summary = separation_quality.summarise(frame).set_index("fold")
    assert list(summary.index) == ["fold1", "fold2", "all"]
    assert summary.loc["fold1", "music_si_sdr_mean"] == 15.0
    assert summary.loc["all", "music_si_sdr_mean"] == 20.0
    assert summary.loc["all", "speech_si_sdr_mean"] == 6.0  # NaN left out
    assert "| all | 3 | 20.00 (20.00)" in separation_quality.card_section(
        summary.reset_index(), "oracle"
    )


# ---------------------------------------------------------------- oracle


def test_oracle_masks_are_a_partition_and_separate_well():
    rng = np.random.default_rng(2)
    t = np.arange(3 * 44100) / 44100
    music = np.stack([0.3 * np.sin(2 * np.pi * 220 * t)] * 2, axis=1).astype(np.float32)
    speech = (
        0.1 * rng.standard_normal((len(t), 2)) * (np.sin(2 * np.pi * 2 * t) > 0)[:, None]
    ).astype(np.float32)
    mix = music + speech
    music_est, speech_est = oracle_separate(mix, music, speech)
    assert music_est.shape == speech_est.shape == mix.shape
    np.testing.assert_allclose(
        music_est + speech_est, mix, atol=1e-4
    )  # masks sum to one, STFT is exact
    assert si_sdr(music_est, music) > 20.0
    assert si_sdr(speech_est, speech) > 10.0
    again = oracle_separate(mix, music, speech)
    assert np.array_equal(again[0], music_est) and np.array_equal(again[1], speech_est)


def test_oracle_build_is_good_and_swapped_stems_would_be_caught(oracle):
    quality = pq.read_table(oracle / "manifests" / "separation-oracle.parquet").to_pandas()
    assert len(quality) == 12
    assert quality["music_si_sdr"].min() > 10.0
    assert quality["speech_si_sdr"].median() > 10.0
    # the same clips scored against the wrong stems (a swapped-stem bug) score very low
    row = pq.read_table(oracle / "manifests" / "mixes.parquet").to_pylist()[0]
    music_clip, _ = clip_float(oracle / "audio" / "bss-oracle-music" / f"{row['mix_id']}.flac")
    true_music, true_speech = separation.true_stems(oracle, row)
    assert si_sdr(music_clip, true_music) > 10.0
    assert si_sdr(music_clip, true_speech) < -10.0


def test_oracle_config_loads_with_the_ids_and_folds_of_mixed(oracle):
    mixed = datasets.load_dataset(str(oracle), "mixed")
    bss = datasets.load_dataset(str(oracle), "bss-oracle")
    assert list(bss) == list(mixed) == [f"fold{k}" for k in range(1, 7)]
    for split in mixed:
        assert bss[split]["id"] == mixed[split]["id"]
        assert bss[split]["fold"] == mixed[split]["fold"]
        assert bss[split]["emotion"] == mixed[split]["emotion"]
        assert bss[split]["valence"] == mixed[split]["valence"]
    assert bss["fold1"]["audio_sha256"] != mixed["fold1"]["audio_sha256"]


def test_oracle_clips_follow_the_render_rule(oracle):
    manifest = {
        r["mix_id"]: r
        for r in pq.read_table(oracle / "manifests" / "separation-oracle.parquet").to_pylist()
    }
    mixes = pq.read_table(oracle / "manifests" / "mixes.parquet").to_pylist()
    for row in mixes:
        music_pcm, rate = clip_pcm(oracle / "audio" / "bss-oracle-music" / f"{row['mix_id']}.flac")
        speech_pcm, rate2 = clip_pcm(
            oracle / "audio" / "bss-oracle-speech" / f"{row['mix_id']}.flac"
        )
        assert rate == rate2 == 44100
        assert music_pcm.shape == (row["music_frames"], 2)
        assert speech_pcm.shape == (W, 2)
        assert audio_io.pcm_sha256(music_pcm) == manifest[row["mix_id"]]["audio_sha256"]
        assert audio_io.pcm_sha256(speech_pcm) == manifest[row["mix_id"]]["audio_window_sha256"]


def test_oracle_card_digest_and_verify(oracle):
    card = (oracle / "README.md").read_text()
    assert "config_name: bss-oracle" in card
    document = json.loads((oracle / "manifests" / "separation-oracle.json").read_text())
    assert document["identity"]["backend"] == "oracle" and len(document["digest"]) == 64
    assert main(["verify", str(oracle)]) == 0
    expected = {("separation-identity", "bss-oracle"): document["identity_digest"]}
    assert identity_checksums(oracle, spec_for_build(oracle)) == expected
    sections = "\n".join(card_sections(oracle))
    assert "## BSS variant `bss-oracle` (oracle)" in sections and "| all | 12 |" in sections


def test_oracle_is_reproducible_with_more_workers(oracle, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(oracle, out)
    shutil.rmtree(out / "audio" / "bss-oracle-music")
    shutil.rmtree(out / "audio" / "bss-oracle-speech")
    summary = separation.separate_dataset(out, backend="oracle", workers=2, progress=False)
    assert summary.separated == 12
    first = json.loads((oracle / "manifests" / "separation-oracle.json").read_text())["digest"]
    assert summary.digest == first
    resumed = separation.separate_dataset(out, backend="oracle", progress=False)
    assert (resumed.resumed, resumed.digest) == (12, first)


def test_a_failed_run_leaves_no_variant(rendered, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(rendered, out)
    third = sorted(
        m["mix_id"] for m in pq.read_table(out / "manifests" / "mixes.parquet").to_pylist()
    )[2]
    damaged = out / "audio" / "mixed" / f"{third}.flac"
    damaged.write_bytes(clip_bytes(damaged)[:60])  # a header and nothing after it
    with pytest.raises(UserError, match=f"cannot decode the rendered mix .*{third}"):
        separation.separate_dataset(out, backend="oracle", progress=False)
    assert not (out / "data" / "bss-oracle").exists()
    assert not (out / "manifests" / "separation-oracle.parquet").exists()
    assert (
        len(list((out / "audio" / "bss-oracle-music").glob("*.flac"))) == 2
    )  # the resumable cache


# ---------------------------------------------------------------- user errors (exit 2, nothing written)


def _separate(out, *extra):
    return main(["misme", "separate", str(out), *extra])


def test_spleeter_environment_absent(rendered, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MISME_SPLEETER_PYTHON", str(tmp_path / "no-such-python"))
    assert _separate(rendered, "--backend", "spleeter", "--model-dir", str(tmp_path)) == 2
    assert "make spleeter-env" in capsys.readouterr().err
    assert not (rendered / "data" / "bss").exists()


def test_missing_model_says_where_and_how(rendered, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(
        "MISME_SPLEETER_PYTHON", sys.executable
    )  # only its presence is checked first
    assert (
        _separate(rendered, "--backend", "spleeter", "--model-dir", str(tmp_path / "models")) == 2
    )
    err = capsys.readouterr().err
    assert (
        str((tmp_path / "models").resolve()) in err and "2stems.tar.gz" in err and ".probe" in err
    )
    assert err.count("\n") == 1  # one line, no traceback
    monkeypatch.setenv("MODEL_PATH", str(tmp_path / "elsewhere"))
    assert _separate(rendered, "--backend", "spleeter") == 2
    assert str(tmp_path / "elsewhere" / "2stems") in capsys.readouterr().err
    assert not (rendered / "data" / "bss").exists()


def test_model_without_probe_or_with_four_stems(rendered, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MISME_SPLEETER_PYTHON", sys.executable)
    model = tmp_path / "4stems"
    model.mkdir()
    (model / "checkpoint").write_text('model_checkpoint_path: "model"\n')
    assert _separate(rendered, "--backend", "spleeter", "--model-dir", str(model)) == 2
    assert ".probe" in capsys.readouterr().err
    (model / ".probe").write_text("OK")
    instruments = ["vocals", "drums", "bass", "other"]
    (model / "params.json").write_text(json.dumps({"instrument_list": instruments}))
    assert _separate(rendered, "--backend", "spleeter", "--model-dir", str(model)) == 2
    assert "4-stem model" in capsys.readouterr().err
    assert not (rendered / "data" / "bss").exists()


def test_unrendered_build_and_bad_workers(rendered, tmp_path, capsys):
    out = tmp_path / "out"
    (out / "manifests").mkdir(parents=True)
    shutil.copy(rendered / "manifests" / "sources.parquet", out / "manifests")
    assert _separate(out, "--backend", "oracle") == 2
    assert "manifest not found" in capsys.readouterr().err
    assert _separate(rendered, "--backend", "oracle", "--workers", "0") == 2


def test_worker_refuses_anything_but_two_stems():
    two = [f"conv2d_transpose{s}/kernel" for s in ["", *(f"_{i}" for i in range(1, 12))]]
    adam = [f"{n}/Adam" for n in two]
    assert spleeter_worker.unets_in(two + adam) == 2
    four = two + [f"conv2d_transpose_{i}/kernel" for i in range(12, 24)]
    assert spleeter_worker.unets_in(four) == 4
    params = {"model_dir": "m", "instrument_list": ["vocals", "accompaniment"]}
    spleeter_worker.check_two_stems(params, 2)
    with pytest.raises(spleeter_worker.ModelError, match="not a 2-stem"):
        spleeter_worker.check_two_stems(params, 4)
    with pytest.raises(spleeter_worker.ModelError, match="not a 2-stem"):
        spleeter_worker.check_two_stems(
            {**params, "instrument_list": ["vocals", "drums", "bass", "other"]}, 4
        )

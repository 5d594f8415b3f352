"""A fourth dataset made from the template builds end to end through the dataset protocol.

The toy package (this folder) is ``builders/template/`` filled in as
``docs/adding-a-dataset.md`` says; nothing outside it changes: the test registers it, then
plans, renders, verifies and loads it with ``datasets.load_dataset``.
"""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import datasets
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import soundfile as sf

from builders import cli, registry
from builders.common.audio import pcm_sha256
from tests.builders.toy_dataset.dataset import DATASET

MOODS = {"calm": (220.0, 0.2), "tense": (440.0, 0.8)}  # mood -> (tone Hz, energy)


@pytest.fixture
def toy() -> None:
    registry.register(DATASET)
    yield
    registry.unregister(DATASET.name)


def write_tones(folder: Path) -> Path:
    """Six labelled tones of 1 s (mono and stereo, 16 kHz) and a silent file the plan skips."""
    folder.mkdir(parents=True)
    rows = []
    for n in range(6):
        mood = "calm" if n % 2 else "tense"
        hz, energy = MOODS[mood]
        t = np.arange(16000) / 16000
        tone = 0.3 * np.sin(2 * np.pi * (hz + 10 * n) * t)
        data = tone if n < 3 else np.stack([tone, 0.5 * tone], axis=1)
        name = f"set{n // 3}/tone{n}.wav"
        (folder / name).parent.mkdir(exist_ok=True)
        sf.write(folder / name, data, 16000, subtype="PCM_16")
        rows.append({"file": name, "mood": mood, "energy": energy + n / 100})
    sf.write(folder / "silent.wav", np.zeros(16000), 16000, subtype="PCM_16")
    rows.append({"file": "silent.wav", "mood": "calm", "energy": 0.0})
    pd.DataFrame(rows).to_csv(folder / "labels.csv", index=False)
    return folder


def test_the_template_is_not_registered() -> None:
    assert "template" not in registry.names() and "toy" not in registry.names()


def test_a_toy_dataset_from_the_template_builds_end_to_end(tmp_path: Path, toy: None) -> None:
    tones = write_tones(tmp_path / "tones")
    out = tmp_path / f"toy-{uuid.uuid4().hex[:12]}"  # datasets caches local folders by basename

    assert cli.main(["toy", "plan", "--audio", str(tones), "--out", str(out)]) == 0
    clips = pd.read_parquet(out / "manifests" / "clips.parquet")
    assert clips["clip_id"].tolist() == [f"set{n // 3}-tone{n}" for n in range(6)]
    assert sorted(clips["fold"]) == [1, 1, 1, 2, 2, 2]
    assert clips.groupby("mood")["fold"].nunique().tolist() == [2, 2]  # stratified by mood

    assert cli.main(["toy", "render", str(out)]) == 0
    assert cli.main(["verify", str(out)]) == 0

    loaded = datasets.load_dataset(str(out), "clips", cache_dir=str(out) + "-hf-cache")
    assert sorted(loaded) == ["fold1", "fold2"]
    table = pa.concat_tables([loaded[split].with_format("arrow")[:] for split in sorted(loaded)])
    rows = table.to_pylist()
    assert sorted(r["id"] for r in rows) == clips["clip_id"].tolist()
    for row in rows:
        planned = clips.set_index("clip_id").loc[row["id"]]
        assert (row["mood"], row["energy"], row["fold"]) == (
            planned["mood"],
            planned["energy"],
            planned["fold"],
        )
        pcm, rate = sf.read(io.BytesIO(row["audio"]["bytes"]), dtype="int16", always_2d=True)
        assert (rate, pcm.shape) == (22050, (11025, 2))  # the toy recipe: 0.5 s, 22.05 kHz stereo
        assert pcm_sha256(pcm) == row["audio_sha256"]
    mood = pd.read_parquet(out / "solutions" / "toy-mood.parquet")
    assert mood.columns.tolist() == ["id", "fold", "mood"] and len(mood) == 6
    card = (out / "README.md").read_text()
    assert "Toy: mood-labelled tones" in card and "(undocumented)" not in card
    assert "| `toy-mood` | `clips` (`audio`) | mood | `solutions/toy-mood.parquet` |" in card


def test_build_is_plan_then_render_and_gives_the_same_digest(tmp_path: Path, toy: None) -> None:
    tones = write_tones(tmp_path / "tones")
    first, second = tmp_path / "first", tmp_path / "second"
    assert cli.main(["toy", "plan", "--audio", str(tones), "--out", str(first)]) == 0
    assert cli.main(["toy", "render", str(first), "--workers", "2"]) == 0
    assert cli.main(["toy", "build", "--audio", str(tones), "--out", str(second)]) == 0
    assert (first / "digest.txt").read_bytes() == (second / "digest.txt").read_bytes()
    assert cli.main(["verify", str(first), "--against", str(second)]) == 0
    assert cli.main(["toy", "plan", "--audio", str(tones), "--out", str(second), "--strict"]) == 2


def test_a_changed_plan_over_the_rendered_toy_needs_force(tmp_path: Path, toy: None, capsys):
    tones, out = write_tones(tmp_path / "tones"), tmp_path / "toy"
    assert cli.main(["toy", "build", "--audio", str(tones), "--out", str(out)]) == 0
    replan = ["toy", "plan", "--audio", str(tones), "--out", str(out), "--seed", "8"]
    assert cli.main(replan) == 2
    assert "--force" in capsys.readouterr().err
    assert cli.main([*replan, "--force"]) == 0
    assert not (out / "digest.txt").exists()  # the old outputs went with the old plan

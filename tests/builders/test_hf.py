"""write_variant_shards / finalize: the machinery reused for the `bss` configs."""

from __future__ import annotations

import io

import datasets
import numpy as np
import pyarrow as pa
import soundfile as sf

from builders import audio_io, hf
from builders.verify import verify_build


def make_clips(tmp_path, n: int, seconds: float = 0.5):
    rng = np.random.default_rng(3)
    ids, paths, windows, sums, window_sums = [], [], [], [], []
    for i in range(n):
        clip_id = f"clip-{i:03d}"
        pcm = audio_io.quantise(rng.uniform(-0.5, 0.5, (int(seconds * 44100), 2)).astype(np.float32))
        ids.append(clip_id)
        paths.append(tmp_path / "audio" / "bss-music" / f"{clip_id}.flac")
        windows.append(tmp_path / "audio" / "bss-speech" / f"{clip_id}.flac")
        sums.append(audio_io.write_clip(paths[-1], pcm))
        window_sums.append(audio_io.write_clip(windows[-1], pcm[:4410]))
    table = pa.table({"id": ids, "fold": [i % 6 + 1 for i in range(n)], "emotion": [i % 8 + 1 for i in range(n)],
                      "audio_sha256": sums, "audio_window_sha256": window_sums})
    return table, paths, windows


def test_bss_config_round_trips_through_load_dataset_and_verify(tmp_path):
    table, paths, windows = make_clips(tmp_path, 12)
    written = hf.write_variant_shards(tmp_path, "bss", table, paths, windows)
    assert [p.name for p in written] == [f"fold{k}-00000-of-00001.parquet" for k in range(1, 7)]
    digest = hf.finalize(tmp_path)
    assert "config_name: bss" in (tmp_path / "README.md").read_text()
    ds = datasets.load_dataset(str(tmp_path), "bss", cache_dir=str(tmp_path) + "-hf-cache")
    fold1 = ds["fold1"].with_format("arrow")[:]
    assert fold1.column("id").to_pylist() == ["clip-000", "clip-006"]
    audio = fold1.column("audio")[0].as_py()
    data, rate = sf.read(io.BytesIO(audio["bytes"]), dtype="int16", always_2d=True)
    assert rate == 44100 and audio_io.pcm_sha256(data) == fold1.column("audio_sha256")[0].as_py()
    assert audio["path"] == "clip-000.flac"
    result = verify_build(tmp_path, progress=False)
    assert result.problems == [] and result.digest == digest
    assert {v for v, _ in result.checksums} == {"bss-music", "bss-speech"} and len(result.checksums) == 24


def test_large_folds_are_cut_into_numbered_shards(tmp_path):
    table, paths, _ = make_clips(tmp_path, 12, seconds=0.3)
    size = paths[0].stat().st_size
    written = hf.write_variant_shards(tmp_path, "speech", table.drop_columns(["audio_window_sha256"]), paths,
                                      max_shard_bytes=int(size * 1.5))
    fold1 = sorted(p.name for p in written if p.name.startswith("fold1-"))
    assert fold1 == ["fold1-00000-of-00002.parquet", "fold1-00001-of-00002.parquet"]
    hf.finalize(tmp_path)
    ds = datasets.load_dataset(str(tmp_path), "speech", cache_dir=str(tmp_path) + "-hf-cache")
    assert sum(ds[s].num_rows for s in ds) == 12 and ds["fold1"].num_rows == 2


def test_shard_plan_never_leaves_a_row_out():
    assert hf._shard_plan([5, 5, 5], 7) == [(0, 1), (1, 2), (2, 3)]
    assert hf._shard_plan([5, 5, 5], 100) == [(0, 3)]
    assert hf._shard_plan([], 100) == [(0, 0)]
    assert hf._shard_plan([50, 1], 10) == [(0, 1), (1, 2)]

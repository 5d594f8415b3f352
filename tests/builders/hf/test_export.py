"""builders.hf on a toy dataset (no MiSME): shards, card, digest and verify come from the spec."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile as sf
import yaml

from builders.common import audio
from builders.common.audio import OutputSpec
from builders.common.clips import view_refs
from builders.errors import UserError
from builders.hf.card import finalize_dataset
from builders.hf.shards import (
    ROWS_PER_GROUP,
    VALUE_DTYPES,
    _datasets_schema,
    config_metadata,
    hf_schema,
    shard_ranges,
    write_config_shards,
)
from builders.hf.spec import ConfigSpec, DatasetSpec
from builders.hf.verify import verify_build

REPO = Path(__file__).resolve().parents[3]


def toy_spec(rate: int = 44100, channels: int = 2, n_folds: int = 6) -> DatasetSpec:
    return DatasetSpec(
        name="toy",
        title="Toy",
        summary="A toy dataset.",
        output=OutputSpec(rate, channels),
        n_folds=n_folds,
        configs=(ConfigSpec("pairs", "left", "right"), ConfigSpec("single", "solo")),
    )


def make_clips(tmp_path, spec: DatasetSpec, n: int, seconds: float = 0.5, views=("left", "right")):
    rng = np.random.default_rng(3)
    rate, channels = spec.output.sample_rate, spec.output.channels
    ids, paths, windows, sums, window_sums = [], [], [], [], []
    for i in range(n):
        clip_id = f"clip-{i:03d}"
        pcm = audio.quantise(
            rng.uniform(-0.5, 0.5, (int(seconds * rate), channels)).astype(np.float32)
        )
        ids.append(clip_id)
        paths.append(tmp_path / "audio" / views[0] / f"{clip_id}.flac")
        windows.append(tmp_path / "audio" / views[-1] / f"{clip_id}.flac")
        sums.append(audio.write_clip(paths[-1], pcm, spec.output))
        window_sums.append(audio.write_clip(windows[-1], pcm[: rate // 10], spec.output))
    table = pa.table(
        {
            "id": ids,
            "fold": [i % spec.n_folds + 1 for i in range(n)],
            "emotion": [i % 8 + 1 for i in range(n)],
            "audio_sha256": sums,
            "audio_window_sha256": window_sums,
        }
    )
    return table, paths, windows


def test_config_round_trips_through_load_dataset_and_verify(tmp_path):
    spec = toy_spec()
    table, paths, windows = make_clips(tmp_path, spec, 12)
    written = write_config_shards(tmp_path, spec, "pairs", table, paths, windows)
    assert [p.name for p in written] == [f"fold{k}-00000-of-00001.parquet" for k in range(1, 7)]
    digest = finalize_dataset(tmp_path, spec)
    card = (tmp_path / "README.md").read_text()
    header = yaml.safe_load(card.split("---")[1])
    assert [c["config_name"] for c in header["configs"]] == ["pairs"] + [
        f"pairs-cv{k}" for k in range(1, 7)
    ]
    assert (
        "44.1 kHz stereo 16-bit FLAC" in card
        and (tmp_path / "digest.txt").read_text() == digest.text
    )
    ds = datasets.load_dataset(str(tmp_path), "pairs", cache_dir=str(tmp_path) + "-hf-cache")
    fold1 = ds["fold1"].with_format("arrow")[:]
    assert fold1.column("id").to_pylist() == ["clip-000", "clip-006"]
    clip = fold1.column("audio")[0].as_py()
    data, rate = sf.read(io.BytesIO(clip["bytes"]), dtype="int16", always_2d=True)
    assert rate == 44100 and audio.pcm_sha256(data) == fold1.column("audio_sha256")[0].as_py()
    assert clip["path"] == "clip-000.flac"
    result = verify_build(tmp_path, spec, progress=False)
    assert result.problems == [] and result.digests == digest
    assert {v for v, _ in result.checksums} == {"left", "right"} and len(result.checksums) == 24


def test_the_spec_sets_rate_channels_and_folds(tmp_path):
    spec = toy_spec(rate=48000, channels=1, n_folds=5)
    table, paths, _ = make_clips(tmp_path, spec, 10, views=("solo",))
    write_config_shards(
        tmp_path, spec, "single", table.drop_columns(["audio_window_sha256"]), paths
    )
    finalize_dataset(tmp_path, spec)
    assert "48 kHz mono 16-bit FLAC; 5 folds" in (tmp_path / "README.md").read_text()
    ds = datasets.load_dataset(str(tmp_path), "single-cv5", cache_dir=str(tmp_path) + "-hf-cache")
    assert (ds["train"].num_rows, ds["test"].num_rows) == (8, 2)
    clip = ds["test"].with_format("arrow")[:1].column("audio")[0].as_py()
    data, rate = sf.read(io.BytesIO(clip["bytes"]), dtype="int16", always_2d=True)
    assert (rate, data.shape[1]) == (48000, 1)
    assert ds["test"].features["audio"].sampling_rate == 48000


def test_large_folds_are_cut_into_numbered_shards(tmp_path):
    spec = toy_spec()
    table, paths, _ = make_clips(tmp_path, spec, 12, seconds=0.3, views=("solo",))
    size = paths[0].stat().st_size
    written = write_config_shards(
        tmp_path,
        spec,
        "single",
        table.drop_columns(["audio_window_sha256"]),
        paths,
        max_shard_bytes=int(size * 1.5),
    )
    fold1 = sorted(p.name for p in written if p.name.startswith("fold1-"))
    assert fold1 == ["fold1-00000-of-00002.parquet", "fold1-00001-of-00002.parquet"]
    finalize_dataset(tmp_path, spec)
    ds = datasets.load_dataset(str(tmp_path), "single", cache_dir=str(tmp_path) + "-hf-cache")
    assert sum(ds[s].num_rows for s in ds) == 12 and ds["fold1"].num_rows == 2


def test_shard_ranges_never_leave_a_row_out():
    assert shard_ranges([5, 5, 5], 7) == [(0, 1), (1, 2), (2, 3)]
    assert shard_ranges([5, 5, 5], 100) == [(0, 3)]
    assert shard_ranges([], 100) == [(0, 0)]
    assert shard_ranges([50, 1], 10) == [(0, 1), (1, 2)]


def test_unsupported_output_specs_are_user_errors():
    with pytest.raises(UserError, match="sample rate 12345"):
        OutputSpec(12345, 2)
    with pytest.raises(UserError, match="channel count 6"):
        OutputSpec(44100, 6)
    with pytest.raises(UserError, match="'mp3'"):
        OutputSpec(44100, 2, "mp3")


PLAIN = pa.schema([(f"c{i}", kind) for i, kind in enumerate(VALUE_DTYPES)])


@pytest.mark.parametrize(
    "schema, audio",
    [
        (PLAIN, {}),
        (PLAIN, {"audio": 44100, "audio_window": 48000}),
        (
            pa.schema([("id", pa.string()), ("frames", pa.list_(pa.int64()))]),
            {"audio": 16000},
        ),  # through datasets
        (
            datasets.Features(
                {"id": datasets.Value("string"), "label": datasets.ClassLabel(names=["a", "b"])}
            ).arrow_schema,
            {"audio": 44100},
        ),  # features in the schema's own metadata: through datasets
    ],
)
def test_hf_schema_is_the_schema_datasets_gives(schema, audio):
    ours = hf_schema(schema, audio)
    assert ours.equals(_datasets_schema(schema, audio), check_metadata=True)
    assert ours.metadata == _datasets_schema(schema, audio).metadata


def test_a_configs_metadata_table_gives_its_shards_schema_again(tmp_path):
    spec = toy_spec()  # as the separation step re-exports a config from config_metadata
    table, paths, windows = make_clips(tmp_path, spec, 6, seconds=0.05)
    [first, *_] = write_config_shards(tmp_path, spec, "pairs", table, paths, windows)
    meta = config_metadata(tmp_path, "pairs").schema
    assert meta.metadata is not None and "audio" not in meta.names
    assert hf_schema(meta, {"audio": 44100, "audio_window": 44100}).equals(
        pq.read_schema(first), check_metadata=True
    )


def test_shard_rows_hold_each_clip_file_byte_for_byte_across_row_groups(tmp_path):
    spec = toy_spec(n_folds=1)
    table, paths, _ = make_clips(
        tmp_path, spec, 2 * ROWS_PER_GROUP + 3, seconds=0.01, views=("solo",)
    )
    rendered = [p.read_bytes() for p in paths]
    [shard] = write_config_shards(
        tmp_path, spec, "single", table.drop_columns(["audio_window_sha256"]), paths
    )
    assert pq.ParquetFile(shard).metadata.num_row_groups == 3
    stored = pq.read_table(shard, columns=["id", "audio"]).to_pylist()
    assert [r["audio"]["bytes"] for r in stored] == rendered
    assert [r["audio"]["path"] for r in stored] == [f"{r['id']}.flac" for r in stored]


def test_exported_clips_are_stored_once_and_read_back_from_their_shard_range(tmp_path):
    spec = toy_spec(n_folds=2)
    table, paths, windows = make_clips(tmp_path, spec, ROWS_PER_GROUP + 5, seconds=0.01)
    rendered = {p: p.read_bytes() for p in [*paths, *windows]}
    write_config_shards(tmp_path, spec, "pairs", table, paths, windows)
    assert not any(p.exists() for p in rendered)  # the shards hold the bytes now
    for view, clips in (("left", paths), ("right", windows)):
        refs = view_refs(tmp_path, view, ".flac")
        assert sorted(refs) == sorted(p.stem for p in clips)
        for path in clips:
            ref = refs[path.stem]
            assert not ref.is_file and ref.read_bytes() == rendered[path]
            assert ref.sha256 == hashlib.sha256(rendered[path]).hexdigest() == ref.digest()
            assert sf.read(ref.open(), dtype="int16")[0].shape[0] > 0


def test_a_re_export_reads_published_clips_and_a_damaged_one_is_a_user_error(tmp_path):
    spec = toy_spec(n_folds=2)
    table, paths, _ = make_clips(tmp_path, spec, 8, seconds=0.01, views=("solo",))
    table = table.drop_columns(["audio_window_sha256"])
    rendered = [p.read_bytes() for p in paths]
    write_config_shards(tmp_path, spec, "single", table, paths)
    paths[2].write_bytes(rendered[2])  # a re-rendered clip file wins over its published copy
    write_config_shards(tmp_path, spec, "single", table, paths)
    refs = view_refs(tmp_path, "solo", ".flac")
    assert [refs[p.stem].read_bytes() for p in paths] == rendered and not paths[2].exists()
    damaged = refs[paths[5].stem]
    with open(damaged.path, "r+b") as shard:
        shard.seek(damaged.offset + damaged.length // 2)
        byte = shard.read(1)
        shard.seek(-1, os.SEEK_CUR)
        shard.write(bytes([byte[0] ^ 1]))
    with pytest.raises(UserError, match="is damaged"):
        write_config_shards(tmp_path, spec, "single", table, paths)
    assert view_refs(tmp_path, "solo", ".flac")[paths[0].stem].read_bytes() == rendered[0]


def test_audio_bytes_are_stored_plain_and_the_other_columns_keep_their_dictionaries(tmp_path):
    spec = toy_spec()
    table, paths, windows = make_clips(tmp_path, spec, 6, seconds=0.05)
    [first, *_] = write_config_shards(tmp_path, spec, "pairs", table, paths, windows)
    group = pq.ParquetFile(first).metadata.row_group(0)
    chunks = {group.column(i).path_in_schema: group.column(i) for i in range(group.num_columns)}
    for name, chunk in chunks.items():
        plain = name in ("audio.bytes", "audio_window.bytes")
        assert chunk.has_dictionary_page is not plain and (chunk.statistics is None) is plain, name


def test_a_missing_clip_is_a_user_error_and_leaves_no_config(tmp_path):
    spec = toy_spec()
    table, paths, _ = make_clips(tmp_path, spec, 6, seconds=0.05, views=("solo",))
    paths[3].unlink()
    with pytest.raises(UserError, match="rendered clip missing"):
        write_config_shards(
            tmp_path, spec, "single", table.drop_columns(["audio_window_sha256"]), paths
        )
    assert not (tmp_path / "data" / "single").exists()


def test_writing_shards_and_the_card_does_not_import_datasets(tmp_path):
    spec = toy_spec()  # importing datasets costs about a second per export
    table, paths, windows = make_clips(tmp_path, spec, 6, seconds=0.05)
    pq.write_table(table, tmp_path / "table.parquet")
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "import pyarrow.parquet as pq\n"
        "from builders.common.audio import OutputSpec\n"
        "from builders.hf.card import finalize_dataset\n"
        "from builders.hf.shards import write_config_shards\n"
        "from builders.hf.spec import ConfigSpec, DatasetSpec\n"
        "out = Path(sys.argv[1])\n"
        "spec = DatasetSpec('toy', 'Toy', 'A toy.', OutputSpec(44100, 2), 6, (ConfigSpec('pairs', 'left', 'right'),))\n"
        "ids = pq.read_table(out / 'table.parquet').column('id').to_pylist()\n"
        "write_config_shards(out, spec, 'pairs', pq.read_table(out / 'table.parquet'),\n"
        "                    [out / 'audio' / 'left' / f'{i}.flac' for i in ids],\n"
        "                    [out / 'audio' / 'right' / f'{i}.flac' for i in ids])\n"
        "finalize_dataset(out, spec)\n"
        "print('datasets' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        cwd=REPO,
        check=True,
    )
    assert done.stdout.strip() == "False"
    assert len(list((tmp_path / "data" / "pairs").glob("fold*.parquet"))) == 6

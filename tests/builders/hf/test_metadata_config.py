"""Metadata-only configs (one row per item, no audio) next to audio configs of a toy spec."""

from __future__ import annotations

import datasets
import numpy as np
import pyarrow as pa
import pytest

from builders.common import audio
from builders.common.audio import OutputSpec
from builders.hf.card import finalize_dataset
from builders.hf.card_meta import yaml_configs
from builders.hf.digest import audio_digest, build_digests
from builders.hf.shards import write_config_shards, write_table_shards
from builders.hf.spec import ConfigSpec, DatasetSpec
from builders.hf.verify import verify_build

AUDIO = ConfigSpec("single", "solo")
TRACKS = ConfigSpec("items", metadata_only=True)


def spec_with(*configs: ConfigSpec) -> DatasetSpec:
    return DatasetSpec(
        name="toy",
        title="Toy",
        summary="A toy dataset.",
        output=OutputSpec(16000, 1),
        n_folds=3,
        configs=configs,
    )


def items_table() -> pa.Table:
    return pa.table(
        {
            "id": ["b", "a", "c", "d"],
            "fold": [1, 1, 2, 3],
            "label": [0.25, 0.5, 0.75, 1.0],
            "note": ["x", None, "z", "w"],
        }
    )


def solo_clips(out, spec: DatasetSpec, n: int) -> tuple[pa.Table, list]:
    rng = np.random.default_rng(5)
    ids = [f"clip-{i:03d}" for i in range(n)]
    paths = [out / "audio" / "solo" / f"{clip_id}.flac" for clip_id in ids]
    sums = [
        audio.write_clip(
            path, audio.quantise(rng.uniform(-0.5, 0.5, (3200, 1)).astype(np.float32)), spec.output
        )
        for path in paths
    ]
    return pa.table({"id": ids, "fold": [i % 3 + 1 for i in range(n)], "audio_sha256": sums}), paths


@pytest.fixture
def built(tmp_path):
    spec = spec_with(AUDIO, TRACKS)
    table, paths = solo_clips(tmp_path, spec, 6)
    write_config_shards(tmp_path, spec, "single", table, paths)
    write_table_shards(tmp_path, spec, "items", items_table())
    digest = finalize_dataset(tmp_path, spec)
    return tmp_path, spec, digest


def test_a_metadata_config_loads_and_is_declared_without_cv_configs(built):
    out, spec, _ = built
    names = [c["config_name"] for c in yaml_configs(out, spec)]
    assert names == ["single", "items", *[f"single-cv{k}" for k in range(1, 4)]]
    ds = datasets.load_dataset(str(out), "items", cache_dir=str(out) + "-hf-cache")
    assert sorted(ds) == ["fold1", "fold2", "fold3"]
    assert ds["fold1"]["id"] == ["a", "b"] and ds["fold1"]["label"] == [0.5, 0.25]
    assert ds["fold2"]["note"] == ["z"] and "audio" not in ds["fold1"].column_names


def test_the_audio_digest_ignores_a_metadata_config_and_the_dataset_digest_covers_it(built):
    out, spec, digest = built
    alone = spec_with(AUDIO)
    assert digest.audio == audio_digest(out, alone)  # the items table has no audio
    assert digest.dataset != build_digests(out, alone).dataset  # but it is what the dataset says
    result = verify_build(out, spec, progress=False)
    assert result.problems == [] and result.digests == digest
    assert {view for view, _ in result.checksums} == {"solo"}
    assert "| items | 2 | 1 | 1 | 4 |" in (out / "README.md").read_text()


def test_audio_and_metadata_writers_refuse_each_others_configs(built):
    out, spec, _ = built
    with pytest.raises(ValueError, match="metadata-only"):
        write_config_shards(out, spec, "items", items_table(), [])
    with pytest.raises(ValueError, match="has audio"):
        write_table_shards(out, spec, "single", items_table())
    with pytest.raises(ValueError, match="names no view"):
        ConfigSpec("items", "solo", metadata_only=True)
    with pytest.raises(ValueError, match="needs an audio view"):
        ConfigSpec("single")


PROTOCOL = ConfigSpec("protocol", metadata_only=True, splits=("train", "test"))


def test_a_config_with_its_own_splits_loads_with_them_and_only_the_dataset_digest_covers_it(
    tmp_path,
):
    spec = spec_with(AUDIO, PROTOCOL)
    table, paths = solo_clips(tmp_path, spec, 6)
    write_config_shards(tmp_path, spec, "single", table, paths)
    rows = items_table().append_column("split", pa.array(["train", "test", "train", "train"]))
    written = write_table_shards(tmp_path, spec, "protocol", rows)
    assert [p.name for p in written] == [
        "train-00000-of-00001.parquet",
        "test-00000-of-00001.parquet",
    ]
    digest = finalize_dataset(tmp_path, spec)
    assert digest.audio == audio_digest(tmp_path, spec_with(AUDIO))
    assert digest.dataset != build_digests(tmp_path, spec_with(AUDIO)).dataset
    declared = {c["config_name"]: c["data_files"] for c in yaml_configs(tmp_path, spec)}
    assert declared["protocol"] == [
        {"split": "train", "path": "data/protocol/train-*.parquet"},
        {"split": "test", "path": "data/protocol/test-*.parquet"},
    ]
    assert "protocol-cv1" not in declared and "single-cv3" in declared
    ds = datasets.load_dataset(str(tmp_path), "protocol", cache_dir=str(tmp_path) + "-hf-cache")
    assert ds["train"]["id"] == ["b", "c", "d"] and ds["test"]["id"] == ["a"]
    assert "split" not in ds["train"].column_names
    assert "- `protocol`: train 3, test 1" in (tmp_path / "README.md").read_text()


def test_own_splits_are_for_metadata_configs_and_rows_must_name_one(tmp_path):
    with pytest.raises(ValueError, match="only metadata-only configs name their splits"):
        ConfigSpec("single", "solo", splits=("train",))
    spec = spec_with(PROTOCOL)
    rows = items_table().append_column("split", pa.array(["train", "test", "dev", "train"]))
    with pytest.raises(ValueError, match="unknown split \\['dev'\\]"):
        write_table_shards(tmp_path, spec, "protocol", rows)

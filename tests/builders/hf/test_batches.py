"""The one render path's dataset-neutral pieces: part names, the checksum write-back."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from builders.hf.batches import (
    MANIFEST_PARQUET,
    fold_of,
    part_layout,
    part_names,
    runs,
    write_back,
)


def test_the_n_th_of_a_fold_s_batches_that_render_a_config_writes_its_part_n_of_n():
    names = part_names([(1, ["a"]), (1, ["a", "b"]), (2, ["b", "b"]), (1, ["b"])])
    assert names == [
        (("a", "fold1-00000-of-00002.parquet"),),
        (("a", "fold1-00001-of-00002.parquet"), ("b", "fold1-00000-of-00002.parquet")),
        (("b", "fold2-00000-of-00001.parquet"),),
        (("b", "fold1-00001-of-00002.parquet"),),
    ]
    assert part_layout(names, ["a", "b", "c"]) == {
        "a": ["fold1-00000-of-00002.parquet", "fold1-00001-of-00002.parquet"],
        "b": [
            "fold1-00000-of-00002.parquet",
            "fold1-00001-of-00002.parquet",
            "fold2-00000-of-00001.parquet",
        ],
        "c": [],
    }
    assert runs([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert (fold_of({"fold": 3}), fold_of({"fold": None}), fold_of({})) == (3, -1, -1)


def test_the_write_back_replaces_the_result_columns_in_the_given_parquet_settings(tmp_path):
    table = pa.table(
        {"clip_id": ["b", "a", "c"], "audio_sha256": ["old", "old", "old"], "x": [1, 2, 3]}
    )
    types = {"audio_sha256": pa.string(), "render_gain_db": pa.float64()}
    results = [
        {"id": "a", "audio_sha256": "sa", "render_gain_db": 0.0},
        {"id": "b", "audio_sha256": "sb", "render_gain_db": -1.5, "frames": 9},
    ]
    path = tmp_path / "m.parquet"
    written = write_back(path, table, "clip_id", results, types, MANIFEST_PARQUET)
    assert written.column_names == ["clip_id", "x", "audio_sha256", "render_gain_db"]
    assert written.to_pylist() == [
        {"clip_id": "b", "x": 1, "audio_sha256": "sb", "render_gain_db": -1.5},
        {"clip_id": "a", "x": 2, "audio_sha256": "sa", "render_gain_db": 0.0},
        {"clip_id": "c", "x": 3, "audio_sha256": None, "render_gain_db": None},
    ]
    assert pq.read_table(path).equals(written)
    column = pq.read_metadata(path).row_group(0).column(0)
    assert column.compression == "ZSTD" and "RLE_DICTIONARY" not in column.encodings
    write_back(path, table, "clip_id", results, types)  # pyarrow's defaults (MiSME's manifests)
    default = pq.read_metadata(path).row_group(0).column(0)
    assert default.compression == "SNAPPY" and "RLE_DICTIONARY" in default.encodings

"""builders.hf.parts on a toy dataset: parts written from bytes, published as one config folder."""

from __future__ import annotations

import datasets
import numpy as np
import pyarrow as pa
import pytest

from builders.common import audio
from builders.common.clips import staged_dir, view_refs
from builders.errors import UserError
from builders.hf.parts import part_name, publish_parts, write_part
from builders.hf.shards import config_metadata, write_config_shards
from tests.builders.hf.test_export import toy_spec


def encoded(spec, n: int, seed: int = 5) -> list[bytes]:
    rng = np.random.default_rng(seed)
    pcm = [
        audio.quantise(rng.uniform(-0.5, 0.5, (2205 + 100 * i, 2)).astype(np.float32))
        for i in range(n)
    ]
    return [audio.encode(x, spec.output) for x in pcm]


def single_table(ids: list[str], fold: int) -> pa.Table:
    return pa.table(
        {"id": ids, "fold": [fold] * len(ids), "audio_sha256": [f"sha-{i}" for i in ids]}
    )


def test_parts_written_from_bytes_are_the_shards_the_file_path_writes(tmp_path):
    spec = toy_spec(n_folds=2)
    clips = encoded(spec, 4)
    first, second = single_table(["a", "b"], 1), single_table(["c", "d"], 1)
    index = write_part(
        tmp_path / "p", spec, "single", part_name(1, 0, 2), first, {"audio": clips[:2]}
    )
    write_part(tmp_path / "p", spec, "single", part_name(1, 1, 2), second, {"audio": clips[2:]})
    assert (
        set(index["solo"]) == {"a", "b"} and index["solo"]["a"][0] == "fold1-00000-of-00002.parquet"
    )
    staged = {c.clip_id: c for c in view_refs(tmp_path / "p", "solo", ".flac").values()}
    assert [
        staged[i].read_bytes() for i in "abcd"
    ] == clips  # a staged part's clips are found before publishing
    whole = pa.concat_tables([first, second])
    shards = publish_parts(
        tmp_path / "p", spec, "single", whole, [part_name(1, 0, 2), part_name(1, 1, 2)]
    )
    assert [s.name for s in shards] == [
        "fold1-00000-of-00002.parquet",
        "fold1-00001-of-00002.parquet",
        "fold2-00000-of-00001.parquet",
    ]  # the fold without rows: an empty shard
    assert not staged_dir(tmp_path / "p", "single").exists()
    assert config_metadata(tmp_path / "p", "single").column("id").to_pylist() == list("abcd")
    refs = view_refs(tmp_path / "p", "solo", ".flac")
    assert [refs[i].read_bytes() for i in "abcd"] == clips and all(
        not r.is_file for r in refs.values()
    )
    loaded = datasets.load_dataset(
        "parquet", data_files=[str(s) for s in shards[:2]], split="train"
    )
    assert (
        loaded.cast_column("audio", datasets.Audio(decode=False))["audio"][2]["bytes"] == clips[2]
    )
    # the same rows through the clip-file path: the same shard bytes, the clips at the same offsets
    files = tmp_path / "f" / "audio" / "solo"
    files.mkdir(parents=True)
    for clip_id, data in zip("ab", clips[:2], strict=True):
        (files / f"{clip_id}.flac").write_bytes(data)
    via_files = write_config_shards(
        tmp_path / "f", spec, "single", first, [files / "a.flac", files / "b.flac"]
    )
    one_part = write_part(
        tmp_path / "g", spec, "single", part_name(1, 0, 1), first, {"audio": clips[:2]}
    )
    assert (
        via_files[0].read_bytes()
        == (staged_dir(tmp_path / "g", "single") / part_name(1, 0, 1)).read_bytes()
    )
    published = view_refs(tmp_path / "f", "solo", ".flac")
    assert all(
        one_part["solo"][i][1:] == [published[i].offset, published[i].length, published[i].sha256]
        for i in "ab"
    )


def test_publishing_an_incomplete_or_foreign_set_of_parts_is_a_user_error(tmp_path):
    spec = toy_spec(n_folds=1)
    clips = encoded(spec, 3)
    write_part(
        tmp_path,
        spec,
        "single",
        part_name(1, 0, 2),
        single_table(["a", "b"], 1),
        {"audio": clips[:2]},
    )
    names = [part_name(1, 0, 2), part_name(1, 1, 2)]
    with pytest.raises(
        UserError, match="fold1-00001-of-00002.parquet is missing or incomplete: re-run the render"
    ):
        publish_parts(tmp_path, spec, "single", single_table(["a", "b", "c"], 1), names)
    write_part(tmp_path, spec, "single", names[1], single_table(["x"], 1), {"audio": clips[2:]})
    with pytest.raises(UserError, match="do not match its manifest .*re-run the render"):
        publish_parts(tmp_path, spec, "single", single_table(["a", "b", "c"], 1), names)
    assert not (tmp_path / "data" / "single").exists()  # nothing published
    with pytest.raises(ValueError, match="more than one fold"):
        write_part(
            tmp_path,
            toy_spec(),
            "single",
            names[0],
            pa.table({"id": ["a", "b"], "fold": [1, 2], "audio_sha256": ["s", "t"]}),
            {"audio": clips[:2]},
        )

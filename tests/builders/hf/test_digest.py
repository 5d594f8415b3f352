"""Issue 28, defect 1: the dataset digest covers what a dataset says (every row of every config
and solution file), not only its audio; the audio digest stays the figure v1 published."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from builders.errors import UserError
from builders.hf.card import finalize_dataset
from builders.hf.digest import Digests, build_digests, parse_digests, read_digests
from builders.hf.shards import write_config_shards, write_table_shards
from builders.hf.solutions import write_solution
from builders.hf.verify import compare_tables, verify_build

from .test_metadata_config import AUDIO, TRACKS, items_table, solo_clips, spec_with


@pytest.fixture
def built(tmp_path):
    out, spec = tmp_path / "build", spec_with(AUDIO, TRACKS)
    table, paths = solo_clips(out, spec, 6)
    write_config_shards(out, spec, "single", table, paths)
    write_table_shards(out, spec, "items", items_table())
    rows = items_table().to_pylist()
    write_solution(out, "items-label", rows, "id", {"label": pa.float64()})
    return out, spec, finalize_dataset(out, spec)


def shard(out: Path, config: str, fold: int) -> Path:
    return next((out / "data" / config).glob(f"fold{fold}-*.parquet"))


def rows_of(path: Path) -> tuple[list[dict], pa.Schema]:
    table = pq.read_table(path)
    return table.to_pylist(), table.schema


def write_rows(path: Path, rows: list[dict], schema: pa.Schema, **options) -> None:
    pq.write_table(pa.Table.from_pylist(rows, schema), path, **options)


def test_digest_txt_names_both_digests_and_reads_back(built):
    out, _, digests = built
    text = (out / "digest.txt").read_text()
    assert text == f"dataset digest: {digests.dataset}\naudio digest: {digests.audio}\n"
    assert read_digests(out) == {"dataset": digests.dataset, "audio": digests.audio}
    assert digests.dataset != digests.audio
    card = (out / "README.md").read_text()
    assert f"`{digests.dataset}`" in card and f"Audio digest: `{digests.audio}`" in card


def test_a_digest_txt_from_before_dataset_digests_records_the_audio_digest():
    assert parse_digests("ab" * 32 + "\n") == {"audio": "ab" * 32}
    with pytest.raises(UserError, match="unexpected line"):
        parse_digests("dataset digest: 12\n")


def test_the_dataset_digest_ignores_row_order_shard_cut_and_parquet_encoding(built):
    out, spec, digests = built
    for path in sorted((out / "data" / "items").glob("*.parquet")):
        rows, schema = rows_of(path)
        narrow = schema.set(schema.get_field_index("fold"), pa.field("fold", pa.int32()))
        write_rows(
            path, rows[::-1], narrow, compression="gzip", use_dictionary=False, row_group_size=1
        )
    first = shard(out, "single", 1)
    rows, schema = rows_of(first)
    assert len(rows) == 2
    first.unlink()
    write_rows(out / "data" / "single" / "fold1-00000-of-00002.parquet", rows[:1], schema)
    write_rows(out / "data" / "single" / "fold1-00001-of-00002.parquet", rows[1:], schema)
    assert build_digests(out, spec) == digests
    assert verify_build(out, spec, progress=False).digests == digests


def edit_label(out: Path) -> None:
    rows, schema = rows_of(shard(out, "items", 2))
    rows[0]["label"] += 0.125
    write_rows(shard(out, "items", 2), rows, schema)


def move_to_another_fold(out: Path) -> None:
    """One clip of fold 1 in fold 2 instead (its audio and checksum unchanged)."""
    source, target = shard(out, "single", 1), shard(out, "single", 2)
    rows, schema = rows_of(source)
    moved, kept = rows[0], rows[1:]
    moved["fold"] = 2
    write_rows(source, kept, schema)
    write_rows(target, rows_of(target)[0] + [moved], schema)


def rename_an_id(out: Path) -> None:
    rows, schema = rows_of(shard(out, "items", 3))
    rows[0]["id"] = "d2"
    write_rows(shard(out, "items", 3), rows, schema)


def edit_a_solution(out: Path) -> None:
    path = out / "solutions" / "items-label.parquet"
    rows, schema = rows_of(path)
    rows[-1]["label"] = -1.0
    write_rows(path, rows, schema)


@pytest.mark.parametrize(
    ("change", "table", "shown"),
    [
        (edit_label, ("config", "items"), "label 0.75 != 0.875"),
        (move_to_another_fold, ("config", "single"), "split fold1 != fold2; fold 1 != 2"),
        (rename_an_id, ("config", "items"), "only in the first build"),
        (edit_a_solution, ("solution", "items-label"), "label 1.0 != -1.0"),
    ],
)
def test_a_changed_label_fold_id_or_solution_changes_the_dataset_digest_not_the_audio_one(
    built, tmp_path, change, table, shown
):
    out, spec, digests = built
    shutil.copytree(out, tmp_path / "original")
    original = verify_build(tmp_path / "original", spec, progress=False)
    change(out)
    changed = verify_build(out, spec, progress=False)
    assert changed.problems == []
    assert changed.digests.audio == digests.audio and changed.digests.dataset != digests.dataset
    assert build_digests(out, spec) == changed.digests
    summaries, rows = compare_tables(original, changed)
    assert len(summaries) == 1 and summaries[0].startswith(f"{table[0]} {table[1]}: ")
    assert any(shown in row for row in rows), rows


def test_an_id_changed_with_its_audio_changes_both_digests(built):
    out, spec, digests = built
    rows, schema = rows_of(shard(out, "single", 1))
    rows[0]["id"] = "clip-999"
    write_rows(shard(out, "single", 1), rows, schema)
    changed = build_digests(out, spec)
    assert changed.audio != digests.audio and changed.dataset != digests.dataset
    assert isinstance(changed, Digests)

"""export-challenge on a tiny built dataset in the builders' layout."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from leaderboard.challenge.config import load_config
from leaderboard.cli import main

EMOTIONS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")


def _audio(ids: list[str], tag: str) -> pa.StructArray:
    return pa.StructArray.from_arrays(
        [
            pa.array([f"{tag}-bytes-{i}".encode() for i in range(len(ids))], pa.binary()),
            pa.array([f"{i}.flac" for i in ids], pa.string()),
        ],
        names=["bytes", "path"],
    )


def _mixes(fold: int) -> list[dict]:
    rows = []
    for actor in (2 * fold - 1, 2 * fold):
        for emotion in (1, 5, 8):
            speech = f"ravdess-03-01-{emotion:02d}-01-01-01-{actor:02d}"
            for music in (fold * 10, fold * 10 + 1):
                rows.append(
                    {
                        "id": f"{speech}__deam-{music}",
                        "fold": fold,
                        "emotion": emotion,
                        "emotion_name": EMOTIONS[emotion - 1],
                        "actor": f"{actor:02d}",
                        "speech_id": speech,
                        "music_id": f"deam-{music}",
                        "valence": 3.0 + emotion / 4,
                        "arousal": 7.5 - emotion / 3,
                        "audio_sha256": "ab" * 32,
                    }
                )
    return sorted(rows, key=lambda r: r["id"])


def build_out(folder: Path) -> Path:
    for fold in (1, 6):
        rows = _mixes(fold)
        ids = [r["id"] for r in rows]
        table = pa.Table.from_pylist(rows).append_column("audio", _audio(ids, "mix"))
        table = table.append_column("audio_window", _audio(ids, "window"))
        table = table.replace_schema_metadata(
            {
                b"huggingface": (
                    b'{"info": {"features": {"id": {"dtype": "string", "_type": "Value"}, '
                    b'"emotion": {"dtype": "int64", "_type": "Value"}, "audio": {"_type": "Audio"}}}}'
                )
            }
        )
        (folder / "data" / "mixed").mkdir(parents=True, exist_ok=True)
        pq.write_table(table, folder / "data" / "mixed" / f"fold{fold}-00000-of-00001.parquet")
    everything = _mixes(1) + _mixes(6)
    (folder / "solutions").mkdir()
    pq.write_table(
        pa.Table.from_pylist(
            [{"id": r["id"], "fold": r["fold"], "emotion": r["emotion"]} for r in everything]
        ),
        folder / "solutions" / "misme-ser.parquet",
    )
    pq.write_table(
        pa.Table.from_pylist(
            [
                {"id": r["id"], "fold": r["fold"], "valence": r["valence"], "arousal": r["arousal"]}
                for r in everything
            ]
        ),
        folder / "solutions" / "misme-mer.parquet",
    )
    (folder / "manifests").mkdir()
    (folder / "manifests" / "sources.parquet").write_bytes(b"labels of everything")
    return folder


def test_export_hides_test_labels_and_ids(tmp_path: Path, capsys) -> None:
    build = build_out(tmp_path / "build")
    out = tmp_path / "challenge"
    assert main(["export-challenge", str(out), "--dataset", str(build), "--test-folds", "6"]) == 0
    participant, organizer = out / "participant", out / "organizer"
    # labelled folds: byte for byte
    name = "data/mixed/fold1-00000-of-00001.parquet"
    assert (participant / name).read_bytes() == (build / name).read_bytes()
    assert not (participant / "data/mixed/fold6-00000-of-00001.parquet").exists()
    assert not (participant / "manifests").exists() and not (participant / "solutions").exists()
    hidden_path = participant / "data/mixed-test/fold6-00000-of-00001.parquet"
    hidden = pq.read_table(hidden_path)
    assert hidden.column_names == ["id", "fold", "audio", "audio_window"]
    ids = hidden.column("id").to_pylist()
    assert ids == sorted(ids) and all(i.startswith("t-") for i in ids) and len(ids) == 12
    assert {
        p.removesuffix(".flac")
        for p in hidden.column("audio").combine_chunks().field("path").to_pylist()
    } == set(ids)
    raw = b"".join(
        p.read_bytes() for p in participant.rglob("*") if p.is_file() and "mixed-test" in str(p)
    )
    for leak in (b"ravdess-03-01", b"deam-6", b"angry", b"surprised", b"emotion"):
        assert leak not in raw
    # organizer: solution restricted to the hidden ids, targets intact through the id map
    solution = pq.read_table(organizer / "solutions/misme-ser.parquet").to_pandas()
    assert sorted(solution["id"]) == ids and set(solution["fold"]) == {6}
    assert set(solution["actor"]) == {"11", "12"}
    id_map = pq.read_table(organizer / "id-map.parquet").to_pandas().set_index("id")["original_id"]
    original = {r["id"]: r["emotion"] for r in _mixes(6)}
    assert all(original[id_map[row.id]] == row.emotion for row in solution.itertuples())
    card = (participant / "README.md").read_text()
    assert "config_name: mixed-test" in card and "path: data/mixed-test/fold6-*.parquet" in card
    config = load_config(organizer / "challenge.toml")
    assert [t.name for t in config.tasks] == ["misme-mer", "misme-ser"]
    assert "hidden clips" in capsys.readouterr().out


def test_export_hidden_shard_loads_with_datasets(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    build = build_out(tmp_path / "build")
    main(["export-challenge", str(tmp_path / "c"), "--dataset", str(build), "--test-folds", "6"])
    loaded = datasets.load_dataset(
        "parquet",
        data_files=str(tmp_path / "c/participant/data/mixed-test/fold6-00000-of-00001.parquet"),
        split="train",
    )
    assert loaded.column_names == ["id", "fold", "audio", "audio_window"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--test-folds", "4"], "test fold(s) [4] not found"),
        (["--dataset", "nowhere"], "is not a built dataset"),
    ],
)
def test_export_user_errors(tmp_path: Path, capsys, arguments, message) -> None:
    build = build_out(tmp_path / "build")
    argv = ["export-challenge", str(tmp_path / "c"), "--dataset", str(build), "--test-folds", "6"]
    for flag, value in zip(arguments[::2], arguments[1::2], strict=True):
        argv[argv.index(flag) + 1] = str(tmp_path / value) if flag == "--dataset" else value
    assert main(argv) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "c").exists()


def test_export_refuses_existing_output(tmp_path: Path, capsys) -> None:
    build = build_out(tmp_path / "build")
    (tmp_path / "c").mkdir()
    assert (
        main(
            ["export-challenge", str(tmp_path / "c"), "--dataset", str(build), "--test-folds", "6"]
        )
        == 2
    )
    assert "already exists" in capsys.readouterr().err


def test_export_into_an_unwritable_place_is_a_one_line_error(tmp_path: Path, capsys) -> None:
    build = build_out(tmp_path / "build")
    (tmp_path / "file.txt").write_text("x")
    assert (
        main(
            [
                "export-challenge",
                str(tmp_path / "file.txt" / "c"),
                "--dataset",
                str(build),
                "--test-folds",
                "6",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "cannot write" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("folds", "message"),
    [
        (["6", "6"], "names a fold twice"),
        (["1", "6"], "would hide every fold"),
    ],
)
def test_export_needs_distinct_test_folds_and_a_labelled_one(
    tmp_path: Path, capsys, folds, message
) -> None:
    build = build_out(tmp_path / "build")
    assert (
        main(
            [
                "export-challenge",
                str(tmp_path / "c"),
                "--dataset",
                str(build),
                "--test-folds",
                *folds,
            ]
        )
        == 2
    )
    assert message in capsys.readouterr().err
    assert not (tmp_path / "c").exists()


def test_export_of_a_standard_misme_build_warns_and_names_the_secret_variant(
    tmp_path: Path, capsys
) -> None:
    """Anyone who built the standard corpus can match its hidden clips by checksum."""
    build = build_out(tmp_path / "build")
    (build / "manifests" / "recipe.toml").write_text('name = "misme"\nversion = "1"\n')
    out = tmp_path / "challenge"
    assert main(["export-challenge", str(out), "--dataset", str(build), "--test-folds", "6"]) == 0
    captured = capsys.readouterr()
    assert "warning:" in captured.err and "checksum" in captured.err
    assert "misme-build misme secret-variant" in captured.err
    assert "secret-variant" not in captured.out  # stdout keeps the summary


def test_export_of_a_secret_variant_says_nothing_more(tmp_path: Path, capsys) -> None:
    build = build_out(tmp_path / "build")
    (build / "manifests" / "recipe.toml").write_text('name = "misme"\nversion = "1"\n')
    (build / "manifests" / "secret.json").write_text('{"keep_private": true}\n')
    out = tmp_path / "challenge"
    assert main(["export-challenge", str(out), "--dataset", str(build), "--test-folds", "6"]) == 0
    assert capsys.readouterr().err == ""


def test_export_refuses_shards_not_made_from_the_manifests(tmp_path: Path, capsys) -> None:
    """Issue 28, defect 2: the build's export stamped data/.plan.json with the sha256 of the
    plan's files; manifests re-planned (or replaced) since then make the shards stale."""
    build = build_out(tmp_path / "build")
    (build / "manifests").mkdir(exist_ok=True)
    recipe = build / "manifests" / "recipe.toml"
    recipe.write_text('seed = 1\n[build]\nlock_sha256 = "0123"\n')
    content = hashlib.sha256(json.dumps({"seed": 1}).encode()).hexdigest()  # without [build]
    stamp = {"manifests": {"recipe.toml": content}}
    (build / "data" / ".plan.json").write_text(json.dumps(stamp))
    assert main(["export-challenge", str(tmp_path / "a"), "--dataset", str(build)] + FOLD6) == 0
    assert not (tmp_path / "a" / "participant" / "data" / ".plan.json").exists()
    recipe.write_text("seed = 1\n")  # another environment, the same plan
    assert main(["export-challenge", str(tmp_path / "c"), "--dataset", str(build)] + FOLD6) == 0
    recipe.write_text("seed = 2\n")
    capsys.readouterr()
    assert main(["export-challenge", str(tmp_path / "b"), "--dataset", str(build)] + FOLD6) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not made from its manifests" in err
    assert "manifests/recipe.toml" in err and not (tmp_path / "b").exists()


FOLD6 = ["--test-folds", "6"]

"""The three datasets as Hub datasets (issue 25): cards the Hub understands, rows that load
without torchcodec, and builds in folders of the same name that never read as each other.

Real small builds of MiSME, instrumental-MER and MuSe-style VAD; ``datasets`` runs in a
fresh interpreter with its default cache below a temporary ``HF_HOME``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
from pathlib import Path

import datasets
import mlcroissant as mlc
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from huggingface_hub import DatasetCard, DatasetCardData

from builders.hf.digest import read_digests
from builders.hf.shards import shard_files
from tests.builders.hf.hub_builds import (
    instrumental_build,
    instrumental_sources,
    misme_build,
    muse_build,
    muse_sources,
    run_python,
)

pytestmark = pytest.mark.slow  # three real builds (about 45 s), then datasets in subprocesses
NAMES = ("misme", "instrumental-mer", "muse-vad")
CONFIGS = {
    "misme": ("speech", "music", "mixed"),
    "instrumental-mer": ("clips",),
    "muse-vad": ("frames", "tracks"),
}
TASK_OF = {"misme": "misme-ser", "instrumental-mer": "mer-quadrant", "muse-vad": "muse-vad"}


@pytest.fixture(scope="module")
def muse_paths(tmp_path_factory) -> dict[str, Path]:
    return muse_sources(tmp_path_factory.mktemp("muse-src") / "src")


@pytest.fixture(scope="module")
def builds(demo_sources, muse_paths, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hub-builds")
    return {
        "misme": misme_build(demo_sources, root / "misme"),
        "instrumental-mer": instrumental_build(instrumental_sources(root / "isrc"), root / "imer"),
        "muse-vad": muse_build(muse_paths, root / "muse"),
    }


def card_yaml(build: Path) -> dict:
    return yaml.safe_load((build / "README.md").read_text(encoding="utf-8").split("---\n")[1])


def shard_rows(build: Path, config: str, fold: int) -> int:
    return sum(
        pq.read_metadata(s).num_rows
        for s in shard_files(build, config)
        if s.name.startswith(f"fold{fold}-")
    )


@pytest.mark.parametrize("name", NAMES)
def test_the_card_is_a_hub_card(builds, name):
    build = builds[name]
    card = DatasetCard.load(build / "README.md")  # offline: no .validate(), which needs the Hub
    data = card.data
    assert isinstance(data, DatasetCardData)
    assert data.license == "other" and (build / data.license_link).is_file()
    assert data.license_name == f"{name}-sources"
    assert data.pretty_name and data.task_categories and data.size_categories and data.tags
    assert data.source_datasets
    configs = {c["config_name"]: c for c in data.configs}
    assert sum(bool(c.get("default")) for c in configs.values()) == 1
    infos = {i["config_name"]: i for i in data.dataset_info}
    assert set(infos) == set(configs)
    digest = read_digests(build)["dataset"]
    for config, info in infos.items():
        assert digest in info["description"]
        audio = [f for f in info["features"] if isinstance(f["dtype"], dict)]
        assert all(f["dtype"]["audio"]["decode"] is False for f in audio)
        if "-cv" not in config:
            assert [s["num_examples"] for s in info["splits"]] == [
                shard_rows(build, config, int(s["name"][4:])) for s in info["splits"]
            ]
    if name == "misme":
        assert configs["mixed"].get("default") and data.language == ["en"]


@pytest.mark.parametrize("name", NAMES)
def test_the_card_body_says_only_what_is_true_of_its_dataset(builds, name):
    text = (builds[name] / "README.md").read_text(encoding="utf-8")
    body = text.split("---\n", 2)[2]
    assert "(undocumented)" not in body  # every column of every config has its doc
    assert "```json" not in body  # audits are linked JSON files
    assert "[manifests/audit.json](manifests/audit.json)" in body
    assert 'soundfile.read(io.BytesIO(row["audio"]["bytes"]))' in body
    assert "@mastersthesis" in body and "@software{misme_toolkit" in body
    for other, task in TASK_OF.items():  # each card lists its own benchmark tasks only
        assert (f"| `{task}` |" in body) == (other == name)
    if name != "misme":
        assert "separat" not in body.lower() and "RAVDESS" not in body
    else:
        assert "CC BY-NC-SA 4.0" in body and "`mix_gain_db`" in body and "`overlap`" in body
    if name == "muse-vad":
        assert "NRC-VAD" in body  # the lexicon its labels came from


@pytest.mark.parametrize("name", NAMES)
def test_load_dataset_builder_reads_the_cards_features_offline(builds, name, tmp_path):
    build = builds[name]
    for config in [c["config_name"] for c in card_yaml(build)["configs"]][:3]:
        builder = datasets.load_dataset_builder(str(build), config, cache_dir=str(tmp_path))
        features = builder.info.features
        for column in ("audio", "audio_window"):
            if column in features:
                assert isinstance(features[column], datasets.Audio)
                assert features[column].decode is False
        assert builder.info.splits and all(s.num_examples > 0 for s in builder.info.splits.values())


LOAD_EVERY_CONFIG = """
import io, json, sys, datasets, soundfile, yaml
datasets.disable_progress_bars()
result = {}
for root in %r:
    configs = yaml.safe_load(open(root + "/README.md").read().split("---\\n")[1])["configs"]
    for c in configs:
        ds = datasets.load_dataset(root, c["config_name"])
        counts = {split: sum(1 for _ in ds[split]) for split in ds}
        row = ds[next(iter(ds))][0]
        rate = None
        if "audio" in row:
            array, sampling_rate = soundfile.read(io.BytesIO(row["audio"]["bytes"]))
            rate = [sampling_rate, len(array)]
        result[root + "|" + c["config_name"]] = {"counts": counts, "decoded": rate}
print(json.dumps(result))
"""


def test_every_split_of_every_config_loads_and_decodes_without_torchcodec(builds, tmp_path):
    roots = [str(builds[name]) for name in NAMES]
    result = run_python(LOAD_EVERY_CONFIG % (roots,), tmp_path / "hf-home")
    for name in NAMES:
        build, meta = builds[name], card_yaml(builds[name])
        for config in meta["configs"]:
            got = result[f"{build}|{config['config_name']}"]
            base = config["config_name"].split("-cv")[0]
            folds = range(1, 7)
            total = sum(shard_rows(build, base, k) for k in folds)
            assert sum(got["counts"].values()) == total > 0
            if "-cv" in config["config_name"]:
                k = int(config["config_name"].rsplit("-cv", 1)[1])
                assert got["counts"]["test"] == shard_rows(build, base, k)
            if base != "tracks":
                rate, n = got["decoded"]
                assert rate == (44100 if name == "misme" else 16000) and n > 0


SAME_NAME = """
import json, datasets
datasets.disable_progress_bars()
out = {}
for root in %r:
    ds = datasets.load_dataset(root, "frames")
    out[root] = {split: sorted(zip(ds[split]["id"], ds[split]["fold"])) for split in ds}
print(json.dumps(out))
"""


def shard_ids(build: Path) -> dict[str, list]:
    return {
        f"fold{k}": sorted(
            (r["id"], r["fold"])
            for s in shard_files(build, "frames")
            if s.name.startswith(f"fold{k}-")
            for r in pq.read_table(s, columns=["id", "fold"]).to_pylist()
        )
        for k in range(1, 7)
    }


def test_builds_in_folders_of_the_same_name_load_their_own_rows(muse_paths, tmp_path):
    a = muse_build(muse_paths, tmp_path / "x" / "a" / "build")
    b = muse_build(muse_paths, tmp_path / "x" / "b" / "build", seed=7)
    assert shard_ids(a) != shard_ids(b)  # another seed deals the folds differently
    loaded = run_python(SAME_NAME % ([str(a), str(b)],), tmp_path / "hf-home")
    assert json.loads(json.dumps(shard_ids(a))) == loaded[str(a)]
    assert json.loads(json.dumps(shard_ids(b))) == loaded[str(b)]

    # the control: the same two builds with cards without dataset_info read as one
    for build in (a, b):
        text = (build / "README.md").read_text(encoding="utf-8")
        meta = yaml.safe_load(text.split("---\n")[1])
        del meta["dataset_info"]
        body = text.split("---\n", 2)[2]
        copy = tmp_path / "y" / build.parent.name / "build"
        shutil.copytree(build, copy)
        (copy / "README.md").write_text("---\n" + yaml.safe_dump(meta) + "---\n" + body)
    copies = [str(tmp_path / "y" / n / "build") for n in ("a", "b")]
    loaded = run_python(SAME_NAME % (copies,), tmp_path / "hf-home-2")
    assert loaded[copies[0]] == loaded[copies[1]]


@pytest.mark.parametrize("name", NAMES)
def test_croissant_validates_and_reads_back_records(builds, name):

    build = builds[name]
    document = json.loads((build / "croissant.json").read_text())
    dataset = mlc.Dataset(jsonld=build / "croissant.json")  # raises on any validation error
    files = {f["contentUrl"]: f["sha256"] for f in document["distribution"] if "sha256" in f}
    assert len(files) == sum(len(shard_files(build, c)) for c in CONFIGS[name])
    for path, sha in files.items():
        assert hashlib.sha256((build / path).read_bytes()).hexdigest() == sha
    digest = read_digests(build)["dataset"]
    assert document["identifier"] == f"sha256:{digest}" and digest in document["description"]
    assert document["license"] == "LICENSE.md" and "@mastersthesis" in document["citeAs"]
    assert [r["@id"] for r in document["recordSet"]] == list(CONFIGS[name])
    for config in CONFIGS[name]:
        records = list(itertools.islice(dataset.records(record_set=config), 3))
        shards = [pq.read_table(s) for s in shard_files(build, config)]  # the file set's order
        first = pa.concat_tables(shards).slice(0, 3).to_pylist()
        assert [r[f"{config}/id"].decode() for r in records] == [row["id"] for row in first]
        if "audio" in first[0]:
            assert records[0][f"{config}/audio"]["bytes"] == first[0]["audio"]["bytes"]


def test_the_challenge_participant_copy_loads_and_decodes_without_torchcodec(builds, tmp_path):
    from leaderboard.cli import main as leaderboard_main

    challenge = tmp_path / "challenge"
    assert (
        leaderboard_main(
            [
                "export-challenge",
                str(challenge),
                "--dataset",
                str(builds["misme"]),
                "--test-folds",
                "6",
            ]
        )
        == 0
    )
    participant = challenge / "participant"
    result = run_python(LOAD_EVERY_CONFIG % ([str(participant)],), tmp_path / "hf-home")
    for config in card_yaml(participant)["configs"]:
        got = result[f"{participant}|{config['config_name']}"]
        shards = sorted((participant / "data" / config["config_name"]).glob("*.parquet"))
        assert sum(got["counts"].values()) == sum(pq.read_metadata(s).num_rows for s in shards)
        rate, n = got["decoded"]
        assert rate == 44100 and n > 0

"""Recipe v2's protocol configs: leave one corpus out and the thesis's split, with solutions.

One v2 build of the small demo sources (mode a: their tracklists and split file, in the
thesis's formats) serves the module; v1 of the same sources must come out without them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import datasets
import numpy as np
import pandas as pd
import pytest

from builders.corpora.mer_tracklists import read_thesis_tracklists
from builders.demo.instrumental_sources import source_paths, write_instrumental_demo_sources
from builders.errors import UserError
from builders.features.extract import extract_features
from builders.hf.card_meta import yaml_configs
from builders.hf.digest import read_digests
from builders.instrumental_mer.baselines import TASKS, out_of_fold, run_baselines
from builders.instrumental_mer.inventory import SourceRoots
from builders.instrumental_mer.plan import plan_dataset
from builders.instrumental_mer.protocols import (
    CORPORA,
    CORPUS_FOLD,
    LOCO_CONFIGS,
    thesis_partitions,
)
from builders.instrumental_mer.render import render_dataset
from builders.instrumental_mer.spec import spec_for_build

V2 = Path(__file__).resolve().parents[3] / "manifests" / "instrumental-mer-v2" / "recipe.toml"
pytestmark = pytest.mark.slow  # two small builds, about 15 s
SIZE = {"n_deam": 10, "n_set1": 4, "n_set2": 4, "n_videos": 3}


def _build(sources: dict, out: Path, recipe: Path | None) -> Path:
    roots = SourceRoots(sources["deam"], sources["soundtracks"], sources["emopia"])
    plan_dataset(
        roots=roots, out=out, tracklists=sources["tracklists"], recipe_path=recipe, progress=False
    )
    render_dataset(out, workers=1, progress=False)
    return out


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("protocols")
    write_instrumental_demo_sources(root / "src", 3, progress=False, **SIZE)
    sources = source_paths(root / "src")
    return {
        "v1": _build(sources, root / "v1", None),
        "v2": _build(sources, root / "v2", V2),
        "sources": sources,
    }


def _load(build: Path, config: str) -> datasets.DatasetDict:
    return datasets.load_dataset(str(build), config, cache_dir=str(build) + "-hf-cache")


def test_each_loco_config_loads_and_trains_without_its_test_corpus(builds):
    clips = pd.read_parquet(builds["v2"] / "manifests" / "clips.parquet")
    assert set(clips["corpus"]) == set(CORPORA)
    for corpus in CORPORA:
        ds = _load(builds["v2"], f"loco-{corpus}")
        assert sorted(ds) == ["test", "train"]
        assert corpus not in set(ds["train"]["corpus"])
        assert set(ds["test"]["corpus"]) == {corpus}
        assert sorted(list(ds["train"]["id"]) + list(ds["test"]["id"])) == sorted(clips["clip_id"])
        assert "audio" not in ds["train"].column_names  # its audio is the clips row


def test_the_v1_build_of_the_same_sources_is_unchanged_by_the_protocols(builds):
    v1, v2 = builds["v1"], builds["v2"]
    v1_digests, v2_digests = read_digests(v1), read_digests(v2)
    assert v1_digests["audio"] == v2_digests["audio"]  # the same clips' audio
    assert v1_digests["dataset"] != v2_digests["dataset"]  # v2 says more: its loco configs
    for shard in sorted((v1 / "data" / "clips").glob("*.parquet")):
        assert shard.read_bytes() == (v2 / "data" / "clips" / shard.name).read_bytes()
    for name in ("mer-quadrant.parquet", "mer-va.parquet"):
        assert (v1 / "solutions" / name).read_bytes() == (v2 / "solutions" / name).read_bytes()
    assert sorted(p.name for p in (v1 / "data").iterdir() if p.is_dir()) == ["clips"]
    assert "[protocols]" not in (v1 / "manifests" / "recipe.toml").read_text()
    assert "loco-" not in (v1 / "README.md").read_text()
    names = [c["config_name"] for c in yaml_configs(v2, spec_for_build(v2))]
    assert names[:5] == ["clips", *LOCO_CONFIGS, "thesis-split"]


def test_the_loco_solutions_score_with_misme_score(builds, tmp_path):
    from benchmark.cli import main as misme_score

    solution = pd.read_parquet(builds["v2"] / "solutions" / "mer-quadrant-loco.parquet")
    assert (solution["fold"] == solution["corpus"].map(CORPUS_FOLD)).all()
    predictions = tmp_path / "predictions.csv"
    solution[["id", "quadrant"]].to_csv(predictions, index=False)  # a perfect prediction
    path = str(builds["v2"] / "solutions" / "mer-quadrant-loco.parquet")
    args = ["score", str(predictions), "--solution", path, "--task", "mer-quadrant-loco"]
    assert misme_score([*args, "--json", str(tmp_path / "report.json")]) == 0
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["pooled"]["accuracy"] == 1.0
    rated = pd.read_parquet(builds["v2"] / "solutions" / "mer-va-loco.parquet")
    assert set(rated["corpus"]) == {"deam", "soundtracks"}  # EMOPIA has no valence/arousal


def test_the_thesis_split_follows_the_split_file(builds):
    splits = json.loads(next(builds["sources"]["tracklists"].rglob("*splits.json")).read_text())
    ds = _load(builds["v2"], "thesis-split")
    assert sorted(ds) == ["test", "train", "validation"]
    for split in ds:
        assert set(ds[split]["id"]) <= set(splits[split]) and len(ds[split]) > 0
    solution = pd.read_parquet(builds["v2"] / "solutions" / "mer-quadrant-thesis.parquet")
    assert sorted(solution["id"]) == sorted(ds["test"]["id"])


def test_a_loco_prediction_never_sees_its_corpus_labels():
    rng = np.random.default_rng(0)
    labels = pd.DataFrame(
        {
            "id": [f"c{i:02d}" for i in range(30)],
            "fold": np.repeat([1, 2, 3], 10),
            "quadrant": rng.choice(["Q1", "Q2", "Q3", "Q4"], 30),
        }
    )
    x = rng.standard_normal((30, 4))
    first = out_of_fold("mer-quadrant-loco", "rf", labels, x, seed=1, workers=1, trees=10)
    changed = labels.copy()
    changed.loc[changed["fold"] == 3, "quadrant"] = "Q1"  # the held-out corpus's own labels
    second = out_of_fold("mer-quadrant-loco", "rf", changed, x, seed=1, workers=1, trees=10)
    held_out = (labels["fold"] == 3).to_numpy()
    assert first[held_out].equals(second[held_out]) and not first.equals(second)


def test_train_only_clips_train_and_are_never_predicted():
    labels = pd.DataFrame(
        {"id": ["a", "b", "c", "d"], "fold": [0, 0, 1, 1], "valence": [0.1, 0.2, 0.3, 0.4]}
    )
    labels["arousal"] = -labels["valence"]
    x = np.arange(4.0).reshape(4, 1)
    predicted = out_of_fold("mer-va-thesis", "dummy", labels, x, seed=0, workers=1, trees=1)
    assert list(predicted["id"]) == ["c", "d"]
    assert predicted["valence"].tolist() == pytest.approx([0.15, 0.15])  # the train mean


def test_protocol_baselines_report_seed_003s_weighted_scores(builds, tmp_path):
    build = builds["v2"]
    extract_features(build, spec_for_build(build), "music-compare", progress=False)
    subs = tmp_path / "subs"
    result = run_baselines(build, submissions=subs, trees=20, features="music-compare")
    assert sorted(result["files"]) == sorted(TASKS)  # every protocol the build has
    loco = pd.read_csv(subs / "mer-quadrant-loco" / "rf.csv")
    clips = pd.read_parquet(build / "manifests" / "clips.parquet")
    assert sorted(loco["id"]) == sorted(clips["clip_id"])
    thesis = pd.read_csv(subs / "mer-quadrant-thesis" / "rf.csv")
    solution = pd.read_parquet(build / "solutions" / "mer-quadrant-thesis.parquet")
    assert sorted(thesis["id"]) == sorted(solution["id"])
    by_fold = pd.read_csv(subs / "results-by-fold.csv")
    rows = by_fold[(by_fold["task"] == "mer-quadrant-loco") & (by_fold["model"] == "rf")]
    assert rows["held_out"].tolist() == list(CORPORA)
    for metric in ("accuracy", "weighted_precision", "weighted_recall", "weighted_f1"):
        assert rows[metric].between(0, 1).all()
    assert (pd.read_csv(subs / "results.csv")["features"] == "music-compare").all()
    with pytest.raises(UserError, match="has no loco solutions: .*instrumental-mer-v2"):
        run_baselines(builds["v1"], submissions=tmp_path / "v1", protocols=("loco",))


def test_a_build_of_two_corpora_without_the_split_file_has_their_loco_configs_only(
    builds, tmp_path
):
    sources = builds["sources"]
    tracklists = tmp_path / "tracklists"
    shutil.copytree(sources["tracklists"], tracklists)
    for split_file in tracklists.rglob("*splits.json"):
        split_file.unlink()
    recipe = tmp_path / "recipe.toml"  # v2 with 3 folds: two small corpora
    recipe.write_text(V2.read_text().replace("n_folds = 6", "n_folds = 3"))
    out = tmp_path / "two"
    roots = SourceRoots(sources["deam"], None, sources["emopia"])
    plan = plan_dataset(
        roots=roots, out=out, tracklists=tracklists, recipe_path=recipe, progress=False
    )
    render_dataset(out, workers=1, progress=False)
    assert "no MER-stratified-splits.json" in plan.audit["thesis_split_config"]
    names = [c["config_name"] for c in yaml_configs(out, spec_for_build(out))]
    assert [n for n in names if not n.startswith("clips")] == ["loco-deam", "loco-emopia"]
    assert set(_load(out, "loco-emopia")["train"]["corpus"]) == {"deam"}
    assert not (out / "solutions" / "mer-quadrant-thesis.parquet").exists()
    card = (out / "README.md").read_text()
    assert "## Protocols beside the folds" in card and "thesis-split" not in card


def test_the_thesis_split_file_parts_its_1610_clips_65_15_20(reference_data: Path):
    # reference_data: the conftest's fixture (skips when the folder is absent)
    folder = reference_data / "instrumental-mer-thesis"
    clips = read_thesis_tracklists(folder)["clip_id"]
    partitions, note = thesis_partitions(list(clips), folder)
    sizes = partitions["partition"].value_counts().to_dict()
    assert sizes == {"train": 1045, "test": 325, "validation": 240}  # 64.9 / 20.2 / 14.9 %
    assert note.startswith("1610 of 1610 clips")


def test_the_v2_croissant_validates_and_reads_the_protocol_records(builds):
    import mlcroissant as mlc

    build = builds["v2"]
    dataset = mlc.Dataset(jsonld=build / "croissant.json")  # raises on any validation error
    records = list(dataset.records(record_set="loco-emopia"))
    ids = sorted(r["loco-emopia/id"].decode() for r in records)
    assert ids == sorted(pd.read_parquet(build / "manifests" / "clips.parquet")["clip_id"])

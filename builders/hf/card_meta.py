"""The card's YAML metadata: what the Hub and ``datasets.load_dataset`` read.

``configs`` (splits ``fold1``..``foldK`` per config, or the config's own, plus ``<config>-cv<k>`` with ``train`` =
the other folds and ``test`` = fold k; the first config is the default) and, per config,
``dataset_info``: its features as the shards hold them, except that audio columns are
``Audio(decode=False)`` (rows give ``{bytes, path}`` without torchcodec; decode the bytes
with soundfile), per-split ``num_examples`` and ``num_bytes``, and a description that names
the build's digest and its data files' sha256. ``datasets`` keys its cache of a local folder
by the folder's basename and this metadata, so two builds in folders of the same name never
read as each other.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pyarrow.parquet as pq

from builders.hf.card_doc import size_category
from builders.hf.shards import shard_files
from builders.hf.spec import DatasetSpec

LICENCE_NAME = "{name}-sources"
LICENCE_FILE = "LICENSE.md"


def present_configs(out: Path, spec: DatasetSpec) -> list[str]:
    """The configs that have shards, in the spec's order."""
    return [c.name for c in spec.configs if shard_files(out, c.name)]


def card_configs(out: Path, spec: DatasetSpec) -> list[tuple[str, str, dict[str, list[str]]]]:
    """(config name, the config whose shards it reads, split -> shard patterns) of every
    config the card declares: each present config with its splits (the folds, or its own),
    then the ``<config>-cv<k>`` configs of the audio configs."""
    present = present_configs(out, spec)
    patterns = {c: split_patterns(spec, c) for c in present}
    declared = [(c, c, {s: [p] for s, p in patterns[c].items()}) for c in present]
    for config in (c for c in present if not spec.config(c).metadata_only):
        folds = list(patterns[config].values())
        for k, test in enumerate(folds, start=1):
            train = [p for p in folds if p != test]
            declared.append((f"{config}-cv{k}", config, {"train": train, "test": [test]}))
    return declared


def split_patterns(spec: DatasetSpec, config: str) -> dict[str, str]:
    """split -> the pattern of its shards, ``data/<config>/<split>-*.parquet``."""
    return {s: f"data/{config}/{s}-*.parquet" for s in spec.splits_of(config)}


def yaml_configs(out: Path, spec: DatasetSpec) -> list[dict]:
    """The card's ``configs`` list; the default is the card's ``default_config`` when it has
    shards, else the first config."""
    default = default_config(out, spec)
    configs = []
    for name, _, splits in card_configs(out, spec):
        files = [
            {"split": split, "path": paths[0] if len(paths) == 1 else paths}
            for split, paths in splits.items()
        ]
        configs.append({"config_name": name, "data_files": files})
        if name == default:
            configs[-1]["default"] = True
    return configs


def default_config(out: Path, spec: DatasetSpec) -> str:
    """The card's ``default_config`` when it has shards, else the first config with shards."""
    present = present_configs(out, spec)
    if spec.card.default_config in present:
        return spec.card.default_config
    return present[0] if present else ""


def yaml_features(shard: Path) -> list[dict]:
    """The ``dataset_info.features`` list of a shard: its ``huggingface`` features with every
    audio column ``decode: false`` (plain values directly; anything else through ``datasets``)."""
    metadata = pq.read_schema(shard).metadata or {}
    features = json.loads(metadata[b"huggingface"])["info"]["features"]
    if all(f.get("_type") in ("Value", "Audio") for f in features.values()):
        return [_plain_feature(name, f) for name, f in features.items()]
    import datasets  # noqa: PLC0415  (about a second: only for columns that are not plain)

    parsed = datasets.Features.from_dict(features)
    for feature in parsed.values():
        if isinstance(feature, datasets.Audio):
            feature.decode = False
    return parsed._to_yaml_list()


def _plain_feature(name: str, feature: Mapping) -> dict:
    if feature["_type"] == "Value":
        return {"name": name, "dtype": feature["dtype"]}
    audio = {"sampling_rate": feature["sampling_rate"]} if feature.get("sampling_rate") else {}
    return {"name": name, "dtype": {"audio": {**audio, "decode": False}}}


def fold_sizes(out: Path, config: str, splits: Sequence[str]) -> dict[str, tuple[int, int]]:
    """split (``fold<k>`` or the config's own) -> (rows, uncompressed bytes) of its shards."""
    sizes = {}
    shards = shard_files(out, config)
    for split in splits:
        metas = [pq.read_metadata(s) for s in shards if s.name.startswith(f"{split}-")]
        rows = sum(m.num_rows for m in metas)
        size = sum(m.row_group(g).total_byte_size for m in metas for g in range(m.num_row_groups))
        sizes[split] = (rows, size)
    return sizes


def dataset_info(out: Path, spec: DatasetSpec, digest: str, files_digest: str) -> list[dict]:
    """The card's ``dataset_info`` list: one entry per config of :func:`card_configs`."""
    infos, read = [], {}
    for name, config, splits in card_configs(out, spec):
        if config not in read:
            shards = shard_files(out, config)
            sizes = fold_sizes(out, config, spec.splits_of(config))
            read[config] = (
                yaml_features(shards[0]),
                {p: sizes[s] for s, p in split_patterns(spec, config).items()},
                sum(s.stat().st_size for s in shards),
            )
        features, fold_sizes_, download_size = read[config]
        split_list = [
            {
                "name": split,
                "num_bytes": sum(fold_sizes_[p][1] for p in paths),
                "num_examples": sum(fold_sizes_[p][0] for p in paths),
            }
            for split, paths in splits.items()
        ]
        infos.append(
            {
                "config_name": name,
                "description": (
                    f"{spec.card.pretty_name or spec.title}, config {name}. Dataset digest "
                    f"{digest}; data files sha256 {files_digest}."
                ),
                "features": features,
                "splits": split_list,
                "download_size": download_size,
                "dataset_size": sum(s["num_bytes"] for s in split_list),
            }
        )
    return infos


def card_metadata(out: Path, spec: DatasetSpec, digest: str, files_digest: str) -> dict:
    """The card's whole YAML header as a dict (keys in the Hub's usual order)."""
    doc = spec.card
    configs = present_configs(out, spec)
    n_rows = max(
        (sum(r for r, _ in fold_sizes(out, c, spec.splits_of(c)).values()) for c in configs),
        default=0,
    )
    metadata = {
        "pretty_name": doc.pretty_name or spec.title,
        "license": "other",
        "license_name": LICENCE_NAME.format(name=spec.name),
        "license_link": LICENCE_FILE,
        "task_categories": list(doc.task_categories),
        "language": list(doc.language),
        "size_categories": [size_category(n_rows)],
        "tags": list(doc.tags),
        "source_datasets": [f"extended|other-{key}" for key in doc.sources],
        "configs": yaml_configs(out, spec),
        "dataset_info": dataset_info(out, spec, digest, files_digest),
    }
    return {k: v for k, v in metadata.items() if v not in ([], "")}

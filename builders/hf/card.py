"""The dataset card ``OUT/README.md`` and ``OUT/digest.txt``.

The card's YAML header declares the configs (splits ``fold1``..``foldK``, plus
``<config>-cv<k>`` configs with ``train`` = the other folds and ``test`` = fold k) for
``datasets.load_dataset``; the body records the digest, the counts per fold, the recipe,
the tool versions, the fold audit and the dataset's own sections.
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from builders.common.atomic import atomic_file
from builders.common.hashing import lines_sha256
from builders.common.rendered import write_plan_stamp
from builders.common.versions import lock_sha256
from builders.hf.digest import DIGEST_FILE, Digests, build_digests
from builders.hf.shards import shard_files
from builders.hf.spec import DatasetSpec


def finalize_dataset(out: Path, spec: DatasetSpec, sections: Sequence[str] = ()) -> Digests:
    """Compute the digests from the shards and solutions, write OUT/digest.txt and the card,
    and stamp the shards with the plan they were made from (``OUT/data/.plan.json``); return
    the digests."""
    digests = build_digests(out, spec)
    write_plan_stamp(out)
    with atomic_file(Path(out) / DIGEST_FILE) as tmp:
        tmp.write_text(digests.text)
    with atomic_file(Path(out) / "README.md") as tmp:
        tmp.write_text(dataset_card(out, spec, digests, sections), encoding="utf-8")
    return digests


def yaml_header(out: Path, spec: DatasetSpec) -> str:
    """The card's YAML ``configs`` list for the configs that have shards (metadata-only configs
    with their fold splits only, no ``-cv<k>`` configs)."""
    present = [c.name for c in spec.configs if shard_files(out, c.name)]
    configs = [
        {
            "config_name": name,
            "data_files": [
                {"split": f"fold{k}", "path": f"data/{name}/fold{k}-*.parquet"} for k in spec.folds
            ],
        }
        for name in present
    ]
    for name in (n for n in present if not spec.config(n).metadata_only):
        for k in spec.folds:
            configs.append(
                {
                    "config_name": f"{name}-cv{k}",
                    "data_files": [
                        {
                            "split": "train",
                            "path": [
                                f"data/{name}/fold{j}-*.parquet" for j in spec.folds if j != k
                            ],
                        },
                        {"split": "test", "path": f"data/{name}/fold{k}-*.parquet"},
                    ],
                }
            )
    return yaml.safe_dump({"configs": configs}, sort_keys=False, default_flow_style=False)


def fold_counts(out: Path, spec: DatasetSpec) -> list[str]:
    """A Markdown table of clips per config and fold."""
    rows = [
        "| config | " + " | ".join(f"fold{k}" for k in spec.folds) + " | total |",
        "|---|" + "---|" * (spec.n_folds + 1),
    ]
    for config in spec.configs:
        shards = shard_files(out, config.name)
        if shards:
            counts = [
                sum(pq.read_metadata(s).num_rows for s in shards if s.name.startswith(f"fold{k}-"))
                for k in spec.folds
            ]
            rows.append(
                f"| {config.name} | " + " | ".join(map(str, counts)) + f" | {sum(counts)} |"
            )
    return rows


def sources_digest(out: Path, spec: DatasetSpec) -> str:
    """sha256 over the sorted ``<source_id>\\t<sha256>\\n`` lines of the sources manifest."""
    path = Path(out) / "manifests" / spec.sources_manifest
    if not path.is_file():
        return "unknown"
    table = pq.read_table(path, columns=["source_id", "sha256"]).to_pylist()
    return lines_sha256(
        f"{r['source_id']}\t{r['sha256']}\n" for r in sorted(table, key=lambda r: r["source_id"])
    )


def tool_versions() -> dict[str, str]:
    """Versions of the tools that determine the rendered bytes (``datasets`` by its installed
    metadata: the shards are written without importing it)."""
    import numpy
    import pyloudnorm
    import soundfile
    import soxr

    return {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "soxr": soxr.__version__,
        "soundfile": soundfile.__version__,
        "libsndfile": soundfile.__libsndfile_version__,
        "pyarrow": pa.__version__,
        "datasets": importlib.metadata.version("datasets"),
        "pyloudnorm": getattr(pyloudnorm, "__version__", "unknown"),
    }


def read_json(path: Path) -> dict:
    """A JSON file's object, or {} when it is missing or unreadable."""
    try:
        value = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def dataset_card(
    out: Path, spec: DatasetSpec, digests: Digests, sections: Sequence[str] = ()
) -> str:
    """The card: YAML configs header, summary, digest, counts, recipe, versions, audit, sections."""
    out = Path(out)
    recipe_path = out / "manifests" / "recipe.toml"
    recipe = (
        recipe_path.read_text(encoding="utf-8") if recipe_path.is_file() else "(no recipe.toml)\n"
    )
    audit = json.dumps(read_json(out / "manifests" / "audit.json"), indent=2, sort_keys=True)
    versions = "\n".join(
        f"- {k}: {v}" for k, v in {**tool_versions(), "lock file sha256": lock_sha256()}.items()
    )
    return "\n".join(
        [
            "---",
            yaml_header(out, spec).rstrip(),
            "---",
            "",
            f"# {spec.title}",
            "",
            spec.summary.rstrip(),
            "",
            f"Audio: {spec.output.describe()}; {spec.n_folds} folds (splits `fold1`..`fold{spec.n_folds}`); "
            f"configs `<config>-cv<k>` test on fold k and train on the other {spec.n_folds - 1}. Audio columns hold "
            "the encoded clips' bytes; each row carries `audio_sha256` (sha256 of the clip's int16 PCM, "
            "interleaved little-endian).",
            "",
            "## Dataset digest",
            "",
            f"`{digests.dataset}`",
            "",
            "It covers what the dataset says: every row of every config and split (ids, folds,",
            "labels, every column but the audio bytes, whatever the row order or Parquet",
            "encoding), every solution file and the audio digest; check a copy",
            "with `misme-build verify OUT --digest <digest>`.",
            "",
            f"Audio digest: `{digests.audio}`",
            "",
            "sha256 over the sorted lines `<view>\\t<id>\\t<audio_sha256>\\n` of every clip (and of each",
            "separation model's identity): the clips' audio only (the figure recipe v1 published).",
            "",
            f"Source checksums digest: `{sources_digest(out, spec)}`",
            "",
            "## Counts",
            "",
            *fold_counts(out, spec),
            "",
            "## Recipe",
            "",
            "```toml",
            recipe.rstrip(),
            "```",
            "",
            "## Tool versions",
            "",
            versions,
            "",
            "## Fold audit",
            "",
            "```json",
            audit,
            "```",
            "",
            *sections,
        ]
    )

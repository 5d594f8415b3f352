"""The dataset card ``OUT/README.md`` (a Hub dataset card), ``OUT/LICENSE.md`` and
``OUT/digest.txt``.

The YAML header is :func:`builders.hf.card_meta.card_metadata`. The body is a list of
sections, each a function of the build (:data:`SECTIONS`), followed by the dataset's own
sections: summary, columns, usage, folds, digest, sources and licences, limitations, recipe,
tool versions, audits. Everything a section says of a dataset comes from its spec and its
:class:`builders.hf.card_doc.CardDoc`, so each card says only what is true of its dataset.
"""

from __future__ import annotations

import importlib.metadata
import json
import platform
from collections.abc import Callable, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from builders.common.atomic import atomic_file
from builders.common.hashing import lines_sha256
from builders.common.rendered import write_plan_stamp
from builders.common.versions import ffmpeg_version, lock_sha256
from builders.hf.card_meta import (
    LICENCE_FILE,
    card_metadata,
    default_config,
    present_configs,
    yaml_features,
)
from builders.hf.croissant import write_croissant
from builders.hf.data_files import Build, data_files
from builders.hf.digest import DIGEST_FILE, Digests, build_digests
from builders.hf.shards import shard_files
from builders.hf.sources import SOURCES, THESES, TOOLKIT_BIBTEX
from builders.hf.spec import DatasetSpec

UNDOCUMENTED = "(undocumented)"  # a column no ColumnDoc describes (the tests refuse it)


def finalize_dataset(out: Path, spec: DatasetSpec, sections: Sequence[str] = ()) -> Digests:
    """Compute the digests from the shards and solutions, write OUT/digest.txt, the card, its
    licence file and the Croissant file, and stamp the shards with the plan they were made from
    (``OUT/data/.plan.json``); return the digests."""
    out = Path(out)
    digests = build_digests(out, spec)
    write_plan_stamp(out)
    with atomic_file(out / DIGEST_FILE) as tmp:
        tmp.write_text(digests.text)
    build = Build(out, spec, digests, tuple(data_files(out, spec)))
    with atomic_file(out / LICENCE_FILE) as tmp:
        tmp.write_text(licence_file(spec), encoding="utf-8")
    with atomic_file(out / "README.md") as tmp:
        tmp.write_text(dataset_card(build, sections), encoding="utf-8")
    write_croissant(build)
    return digests


def dataset_card(build: Build, sections: Sequence[str] = ()) -> str:
    """The card: YAML header, then every section of :data:`SECTIONS`, then ``sections``."""
    metadata = card_metadata(build.out, build.spec, build.digest, build.files_digest)
    header = yaml.safe_dump(metadata, sort_keys=False, default_flow_style=False, allow_unicode=True)
    body = [section(build) for section in SECTIONS]
    return "\n".join(["---", header.rstrip(), "---", "", *body, *sections]).rstrip() + "\n"


def summary_section(build: Build) -> str:
    spec = build.spec
    return "\n".join(
        [
            f"# {spec.card.pretty_name or spec.title}",
            "",
            spec.summary.rstrip(),
            "",
            f"Audio: {spec.output.describe()}; {spec.n_folds} folds (splits "
            f"`fold1`..`fold{spec.n_folds}`). A recipe-only release of this corpus renders "
            "it byte for byte from each group's licensed sources (see Dataset digest).",
            "",
        ]
    )


def column_type(feature: dict) -> str:
    """A feature of ``dataset_info.features`` as a short type name."""
    dtype = feature.get("dtype")
    if isinstance(dtype, dict) and "audio" in dtype:
        return f"audio ({dtype['audio'].get('sampling_rate', '?')} Hz, not decoded)"
    return str(dtype if dtype is not None else {k: v for k, v in feature.items() if k != "name"})


def columns_section(build: Build) -> str:
    """One table of every column of every present config: type, configs, meaning (a column
    that means another thing in some configs has a row for each meaning)."""
    rows: dict[tuple[str, str, str], list[str]] = {}
    for config in present_configs(build.out, build.spec):
        for feature in yaml_features(shard_files(build.out, config)[0]):
            doc = build.spec.card.column(feature["name"], config)
            meaning = doc.describe() if doc else UNDOCUMENTED
            rows.setdefault((feature["name"], column_type(feature), meaning), []).append(config)
    lines = ["## Columns", "", "| column | type | configs | meaning |", "|---|---|---|---|"]
    lines += [
        f"| `{name}` | {kind} | {', '.join(configs)} | {meaning} |"
        for (name, kind, meaning), configs in rows.items()
    ]
    return "\n".join([*lines, ""])


def usage_section(build: Build) -> str:
    spec, configs = build.spec, present_configs(build.out, build.spec)
    first = default_config(build.out, spec)
    lines = [
        "## Usage",
        "",
        "Audio columns are not decoded by default (no torchcodec or FFmpeg needed): a row's",
        "`audio` is `{bytes, path}`; decode it with soundfile.",
        "",
        "```python",
        "import io, datasets, soundfile",
        f'ds = datasets.load_dataset("path/to/this/folder", "{first}")   # splits fold1 .. fold{spec.n_folds}',
        'row = ds["fold1"][0]',
        'array, sampling_rate = soundfile.read(io.BytesIO(row["audio"]["bytes"]))',
        "```",
        "",
        f"Configs: {', '.join(f'`{c}`' for c in configs)}. For cross-validation, "
        f"`<config>-cv<k>` (k = 1..{spec.n_folds}) has `train` = the other folds and `test` = "
        "fold k (configs without audio have their fold splits only).",
        "",
        "`datasets` caches a local folder by its name and this card's metadata, which names the",
        "dataset digest and the data files' sha256: two builds never read as each other, even",
        "in folders of the same name. Shards changed without re-writing the card (the toolkit",
        'always re-writes it) need `download_mode="force_redownload"`.',
        "",
    ]
    return "\n".join(lines + tasks_lines(build))


def tasks_lines(build: Build) -> list[str]:
    """The benchmark tasks whose solution files this build holds, with their configs."""
    tasks = [
        t
        for t in build.spec.card.tasks
        if (build.out / "solutions" / f"{t.name}.parquet").is_file()
    ]
    if not tasks:
        return []
    lines = [
        "Benchmark tasks (`misme-score score PREDICTIONS --solution solutions/<task>.parquet "
        "--task <task>`; a prediction file has `id` and the targets):",
        "",
        "| task | scores config (column) | targets | solution file |",
        "|---|---|---|---|",
    ]
    present = set(present_configs(build.out, build.spec))
    for task in tasks:
        configs = ", ".join(f"`{c}`" for c in task.configs if c in present)
        lines.append(
            f"| `{task.name}` | {configs} (`{task.audio}`) | {task.targets} | "
            f"`solutions/{task.name}.parquet` |"
        )
    return [*lines, ""]


def folds_section(build: Build) -> str:
    spec = build.spec
    lines = ["## Folds", "", spec.card.folds.rstrip() or f"{spec.n_folds} folds.", ""]
    return "\n".join([*lines, *fold_counts(build.out, spec), ""])


def fold_counts(out: Path, spec: DatasetSpec) -> list[str]:
    """A Markdown table of clips per config and fold."""
    rows = [
        "| config | " + " | ".join(f"fold{k}" for k in spec.folds) + " | total |",
        "|---|" + "---|" * (spec.n_folds + 1),
    ]
    own_splits = []
    for config in spec.configs:
        shards = shard_files(out, config.name)
        if shards and config.splits:
            sizes = [
                f"{s} {sum(pq.read_metadata(p).num_rows for p in shards if p.name.startswith(f'{s}-'))}"
                for s in config.splits
            ]
            own_splits.append(f"- `{config.name}`: {', '.join(sizes)}")
        elif shards:
            counts = [
                sum(pq.read_metadata(s).num_rows for s in shards if s.name.startswith(f"fold{k}-"))
                for k in spec.folds
            ]
            rows.append(
                f"| {config.name} | " + " | ".join(map(str, counts)) + f" | {sum(counts)} |"
            )
    if own_splits:
        rows += ["", "Configs with their own splits (rows per split):", "", *own_splits]
    return rows


def digest_section(build: Build) -> str:
    spec = build.spec
    identity = any(c.identity_file for c in spec.configs if shard_files(build.out, c.name))
    covered = " (and each separation model's identity)" if identity else ""
    return "\n".join(
        [
            "## Dataset digest",
            "",
            f"`{build.digests.dataset}`",
            "",
            "It covers what the dataset says: every row of every config and split (ids, folds,",
            "labels, every column but the audio bytes, whatever the row order or Parquet",
            "encoding), every solution file and the audio digest. Check a copy, or your own",
            "render of a recipe-only release, with `misme-build verify FOLDER --digest <digest>`",
            "(exit 0: the identical corpus).",
            "",
            f"- Audio digest: `{build.digests.audio}` (sha256 over the sorted lines "
            f"`<view>\\t<id>\\t<audio_sha256>\\n` of every clip{covered}; the figure published "
            "for recipe v1 builds)",
            f"- Source checksums digest: `{sources_digest(build.out, spec)}`",
            f"- Data files sha256 (every shard's bytes, listed in `croissant.json`): "
            f"`{build.files_digest}`",
            "",
        ]
    )


def sources_section(build: Build) -> str:
    doc = build.spec.card
    lines = [
        "## Sources, licences and citation",
        "",
        f"Licence: `other` (see [{LICENCE_FILE}]({LICENCE_FILE})): this corpus is derived from "
        "the sources below and is bound by all of their terms; it is never freer than any of "
        "them. Obtain each source from its publisher.",
        "",
        *(
            f"- **{SOURCES[k].name}**: {SOURCES[k].licence}. <{SOURCES[k].link}>"
            for k in doc.sources
        ),
        "",
        "Please cite the toolkit (see `CITATION.cff`), the thesis whose recipe this corpus",
        "follows, and the sources:",
        "",
        "```bibtex",
        TOOLKIT_BIBTEX,
        *([THESES[doc.thesis]] if doc.thesis else []),
        *(SOURCES[k].bibtex for k in doc.sources),
        "```",
        "",
    ]
    return "\n".join(lines)


def limitations_section(build: Build) -> str:
    items = build.spec.card.limitations
    if not items:
        return ""
    return "\n".join(["## Limitations", "", *(f"- {item}" for item in items), ""])


def recipe_section(build: Build) -> str:
    path = build.out / "manifests" / "recipe.toml"
    recipe = path.read_text(encoding="utf-8") if path.is_file() else "(no recipe.toml)\n"
    versions = {**tool_versions(), "lock file sha256": lock_sha256()}
    return "\n".join(
        [
            "## Recipe",
            "",
            "```toml",
            recipe.rstrip(),
            "```",
            "",
            "## Tool versions",
            "",
            *(f"- {k}: {v}" for k, v in versions.items()),
            "",
        ]
    )


def audits_section(build: Build) -> str:
    """Links to the build's JSON audits (the card holds none of their JSON)."""
    found = sorted(
        p.relative_to(build.out).as_posix() for p in (build.out / "manifests").glob("*.json")
    )
    found += [n for n in ("build-report.json",) if (build.out / n).is_file()]
    if not found:
        return ""
    return "\n".join(["## Audits", "", *(f"- [{p}]({p})" for p in found), ""])


SECTIONS: tuple[Callable[[Build], str], ...] = (
    summary_section,
    columns_section,
    usage_section,
    folds_section,
    digest_section,
    sources_section,
    limitations_section,
    recipe_section,
    audits_section,
)


def licence_file(spec: DatasetSpec) -> str:
    """``OUT/LICENSE.md``: the terms of every source, the card's ``license_link``."""
    return "\n".join(
        [
            f"# Licence of {spec.card.pretty_name or spec.title}",
            "",
            "This corpus is derived from the sources below and is bound by all of their terms",
            "(it can be no freer than any of them: non-commercial research use at most). The",
            "terms are stated as each publisher gives them; check the link before you publish.",
            "",
            *(
                f"- **{SOURCES[k].name}**: {SOURCES[k].licence}. <{SOURCES[k].link}>"
                for k in spec.card.sources
            ),
            "",
            "The toolkit that builds it is MIT-licensed; its licence does not extend to the data.",
            "",
        ]
    )


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
        "ffmpeg": ffmpeg_version(),  # decodes M4A/AAC, Ogg, Opus, WebM sources
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

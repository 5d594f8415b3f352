"""`export-challenge`: a participant copy of a built dataset without the test folds' labels,
plus the organizer's solution files restricted to the test ids.

Participant copy (OUT/participant): `data/<config>/fold<k>-*.parquet` for the labelled folds
(copied byte for byte) and `data/<config>-test/fold<k>-*.parquet` for the hidden folds, whose
rows keep only an opaque `id`, `fold` and the audio columns (audio `path` renamed to the
opaque id). Original ids are dropped because they encode labels (RAVDESS file names carry
the emotion; music ids lead to public annotations), and hidden rows are sorted by opaque
id so their order says nothing either. No manifests, features or solutions are copied.

Submission kit (OUT/participant/submission): per task the hidden ids (`<task>-ids.csv`) and
a valid sample submission of dummy predictions (`<task>-sample.csv`), for
`misme-score validate FILE --ids IDS --task TASK` without labels.

Organizer folder (OUT/organizer): `solutions/<task>.parquet` (opaque id, fold, targets and
the speaker column when the dataset has one), `id-map.parquet` (opaque id -> original id)
and `challenge.toml`, a starting configuration.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import shutil
import tomllib
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from leaderboard.challenge.summary import csv_text, sample_rows
from leaderboard.errors import LeaderboardError

AUDIO_COLUMNS = ("audio", "audio_window")
GROUP_COLUMN = "actor"
PLAN_STAMP = Path("data") / ".plan.json"


def export_challenge(dataset: Path, out: Path, test_folds: tuple[int, ...]) -> str:
    """Write OUT/participant and OUT/organizer; returns a one-paragraph summary."""
    dataset, out = Path(dataset), Path(out)
    shards = _shards(dataset)
    _check_plan_stamp(dataset)
    if out.exists():
        raise LeaderboardError(f"{out} already exists; choose a new output folder")
    folds_present = {_fold_of(s) for s in shards}
    if len(set(test_folds)) != len(test_folds):
        raise LeaderboardError(f"--test-folds names a fold twice: {list(test_folds)}")
    if folds_present and set(test_folds) >= folds_present:
        raise LeaderboardError(
            f"--test-folds {list(test_folds)} would hide every fold: participants need "
            "at least one labelled fold to train on"
        )
    if missing := sorted(set(test_folds) - folds_present):
        raise LeaderboardError(
            f"test fold(s) {missing} not found in {dataset}/data "
            f"(folds present: {sorted(folds_present)})"
        )
    key = secrets.token_bytes(32)
    staging = out.with_name(f"{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        id_map, tasks = _export_into(dataset, staging, shards, test_folds, key)
        staging.rename(out)
    except OSError as error:
        raise LeaderboardError(f"cannot write {out}: {error.strerror or error}") from None
    except pa.ArrowException as error:
        raise LeaderboardError(f"cannot read the dataset {dataset}: {error}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return (
        f"participant copy: {out / 'participant'} ({len(shards)} shards, folds "
        f"{', '.join(map(str, test_folds))} without labels, {len(id_map)} hidden clips); "
        f"organizer files: {out / 'organizer'} (solutions for {', '.join(tasks) or 'no task'})"
    )


def standard_build_warning(dataset: Path) -> str | None:
    """A warning when ``dataset`` is a standard MiSME build, not a secret variant (which
    ``builders.misme.secret`` marks with ``manifests/secret.json``): anyone who built the
    standard corpus can match its hidden clips to their ids and labels by checksum."""
    dataset = Path(dataset)
    if not _is_misme(dataset) or (dataset / "manifests" / "secret.json").is_file():
        return None
    return (
        f"{dataset} is a standard MiSME build: anyone who builds the standard corpus can "
        "match the hidden clips to their ids and labels by checksum; for a challenge, export "
        "a secret variant (misme-build misme secret-variant, see docs/organizers.md)"
    )


def _is_misme(dataset: Path) -> bool:
    """The build's recipe names MiSME (or, without a readable recipe, its solutions do)."""
    import tomllib

    try:
        recipe = tomllib.loads((dataset / "manifests" / "recipe.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return any((dataset / "solutions").glob("misme-*.parquet"))
    return recipe.get("name") == "misme"


def _export_into(
    dataset: Path, staging: Path, shards: list[Path], test_folds: tuple[int, ...], key: bytes
) -> tuple[dict[str, str], list[str]]:
    id_map: dict[str, str] = {}
    groups: dict[str, str] = {}
    for shard in shards:
        _export_shard(dataset, staging / "participant", shard, set(test_folds), key, id_map, groups)
    _write_card(staging / "participant", sorted({s.parent.name for s in shards}), test_folds)
    tasks = _write_solutions(dataset, staging / "organizer", set(test_folds), key, id_map, groups)
    _write_submission_kits(staging / "participant", staging / "organizer", tasks)
    _write_id_map(staging / "organizer", id_map)
    _write_config(staging / "organizer", tasks)
    return id_map, tasks


def _shards(dataset: Path) -> list[Path]:
    if not (dataset / "data").is_dir():
        raise LeaderboardError(f"{dataset} is not a built dataset (no data/ folder)")
    shards = sorted((dataset / "data").glob("*/fold*-*.parquet"))
    if not shards:
        raise LeaderboardError(f"no Parquet shards under {dataset}/data/<config>/")
    return shards


def _check_plan_stamp(dataset: Path) -> None:
    """Refuse shards that were not made from the build's manifests: the export stamped them
    with the sha256 of the plan's files (``data/.plan.json``, ``{"manifests": {name: sha256}}``,
    each of the file's content without its ``build`` table, as sorted JSON:
    ``builders.common.rendered.plan_file_sha256``); a build re-planned (or its manifests
    replaced) since then holds stale shards."""
    stamp, manifests = dataset / PLAN_STAMP, dataset / "manifests"
    if not stamp.is_file() or not manifests.is_dir():
        return  # exported before the stamp existed, or a copy without its manifests
    try:
        recorded = json.loads(stamp.read_text())["manifests"]
        changed = sorted(
            name
            for name, sha in recorded.items()
            if not (manifests / name).is_file() or _plan_file_sha256(manifests / name) != sha
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise LeaderboardError(f"cannot read {stamp}: {error}") from None
    if changed:
        raise LeaderboardError(
            f"the shards of {dataset} were not made from its manifests (manifests/"
            f"{', manifests/'.join(changed)} changed since the render): render it again "
            "before exporting"
        )


def _plan_file_sha256(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    value = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    if isinstance(value, dict):
        value.pop("build", None)
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _fold_of(shard: Path) -> int:
    return int(shard.name.split("-", 1)[0].removeprefix("fold"))


def opaque_id(key: bytes, original: str) -> str:
    return "t-" + hmac.new(key, original.encode("utf-8"), hashlib.sha256).hexdigest()[:20]


def _export_shard(
    dataset: Path,
    participant: Path,
    shard: Path,
    test_folds: set[int],
    key: bytes,
    id_map: dict[str, str],
    groups: dict[str, str],
) -> None:
    relative = shard.relative_to(dataset)
    if _fold_of(shard) not in test_folds:
        target = participant / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shard, target)
        return
    table = pq.read_table(shard)
    originals = [str(i) for i in table.column("id").to_pylist()]
    hidden = [opaque_id(key, i) for i in originals]
    id_map.update(zip(hidden, originals, strict=True))
    if GROUP_COLUMN in table.column_names:
        groups.update(zip(originals, map(str, table.column(GROUP_COLUMN).to_pylist()), strict=True))
    target = participant / "data" / f"{shard.parent.name}-test" / shard.name
    target.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(_unlabelled(table, hidden), target)


def _unlabelled(table: pa.Table, hidden: list[str]) -> pa.Table:
    columns = {"id": pa.array(hidden, pa.string()), "fold": table.column("fold")}
    for name in AUDIO_COLUMNS:
        if name in table.column_names:
            columns[name] = _renamed_audio(table.column(name).combine_chunks(), hidden)
    result = pa.table(columns)
    result = result.replace_schema_metadata(_hf_metadata(table.schema, set(columns)))
    return result.take(pc.sort_indices(result, [("id", "ascending")]))


def _renamed_audio(audio: pa.StructArray, hidden: list[str]) -> pa.StructArray:
    paths = audio.field("path").to_pylist()
    renamed = [f"{h}{Path(p).suffix}" if p else None for h, p in zip(hidden, paths, strict=True)]
    return pa.StructArray.from_arrays(
        [audio.field("bytes"), pa.array(renamed, pa.string())], names=["bytes", "path"]
    )


def _hf_metadata(schema: pa.Schema, kept: set[str]) -> dict[bytes, bytes] | None:
    """The `datasets` feature metadata, restricted to the kept columns."""
    metadata = dict(schema.metadata or {})
    raw = metadata.get(b"huggingface")
    if raw is None:
        return metadata or None
    info = json.loads(raw)
    features = info.get("info", {}).get("features")
    if isinstance(features, dict):
        info["info"]["features"] = {k: v for k, v in features.items() if k in kept}
    metadata[b"huggingface"] = json.dumps(info).encode("utf-8")
    return metadata


def _write_card(participant: Path, configs: list[str], test_folds: tuple[int, ...]) -> None:
    """The participant copy's card: its configs, and each config's features with the audio
    columns not decoded (as in the builders' cards, so that ``datasets.load_dataset`` rows
    need no torchcodec), named with the sha256 of its shards (``datasets`` keys its cache of
    a local folder by the card, so two copies never read as each other)."""
    header: dict[str, list] = {"configs": [], "dataset_info": []}
    for config in configs:
        for suffix in ("", "-test"):
            folder = participant / "data" / f"{config}{suffix}"
            shards = sorted(folder.glob("fold*-*.parquet"))
            if not shards:
                continue
            name = f"{config}{suffix}"
            folds = sorted({_fold_of(s) for s in shards})
            header["configs"].append(
                {
                    "config_name": name,
                    "data_files": [
                        {"split": f"fold{k}", "path": f"data/{name}/fold{k}-*.parquet"}
                        for k in folds
                    ],
                }
            )
            header["dataset_info"].append(
                {
                    "config_name": name,
                    "description": f"Participant copy, config {name}; shards sha256 "
                    f"{_shards_sha256(shards)}.",
                    "features": _undecoded_features(shards[0]),
                }
            )
    hidden = ", ".join(f"fold{k}" for k in test_folds)
    lines = [
        "---",
        yaml.safe_dump(header, sort_keys=False, default_flow_style=False).rstrip(),
        "---",
        "",
        "# MiSME challenge dataset (participant copy)",
        "",
        f"Labelled folds are in the configs `{', '.join(configs)}`. The challenge test "
        f"folds ({hidden}) are in the `<config>-test` configs: their rows carry only an "
        "opaque `id`, the fold and the audio; labels, source ids, speaker and music "
        "metadata are withheld. Predict the test ids and submit a file with `id` and the "
        "task's target columns (`submission/<task>-sample.csv` is a valid example; "
        "`misme-score validate FILE --ids submission/<task>-ids.csv --task <task>` checks "
        "a file).",
        "",
        "Audio columns are not decoded by default: a row's `audio` is `{bytes, path}`.",
        "",
        "```python",
        "import io, datasets, soundfile",
        f'ds = datasets.load_dataset("path/to/participant", "{configs[0]}-test")',
        f'row = ds["fold{test_folds[0]}"][0]',
        'array, sampling_rate = soundfile.read(io.BytesIO(row["audio"]["bytes"]))',
        "```",
        "",
    ]
    (participant / "README.md").write_text("\n".join(lines), encoding="utf-8")


def _shards_sha256(shards: list[Path]) -> str:
    digest = hashlib.sha256()
    for shard in shards:
        digest.update(f"{shard.name}\t{hashlib.sha256(shard.read_bytes()).hexdigest()}\n".encode())
    return digest.hexdigest()


def _undecoded_features(shard: Path) -> list[dict]:
    """A shard's ``datasets`` features as card YAML, its audio columns ``decode: false``."""
    import datasets  # noqa: PLC0415  (about a second; only when a copy is written)

    schema = pq.read_schema(shard)
    features = datasets.Features.from_arrow_schema(schema)
    for name, feature in list(features.items()):
        if isinstance(feature, datasets.Audio):
            feature.decode = False
        elif _is_audio_struct(schema.field(name).type):
            features[name] = datasets.Audio(decode=False)
    return features._to_yaml_list()


def _is_audio_struct(kind: pa.DataType) -> bool:
    return pa.types.is_struct(kind) and sorted(f.name for f in kind) == ["bytes", "path"]


def _write_solutions(
    dataset: Path,
    organizer: Path,
    test_folds: set[int],
    key: bytes,
    id_map: dict[str, str],
    groups: dict[str, str],
) -> list[str]:
    tasks = []
    (organizer / "solutions").mkdir(parents=True, exist_ok=True)
    for path in sorted((dataset / "solutions").glob("*.parquet")):
        table = pq.read_table(path)
        table = table.filter(pc.is_in(table.column("fold"), pa.array(sorted(test_folds))))
        originals = [str(i) for i in table.column("id").to_pylist()]
        hidden = [opaque_id(key, i) for i in originals]
        id_map.update(zip(hidden, originals, strict=True))
        table = table.set_column(
            table.column_names.index("id"), "id", pa.array(hidden, pa.string())
        )
        if (
            groups
            and GROUP_COLUMN not in table.column_names
            and all(i in groups for i in originals)
        ):
            table = table.append_column(GROUP_COLUMN, pa.array([groups[i] for i in originals]))
        table = table.take(pc.sort_indices(table, [("id", "ascending")]))
        pq.write_table(table.replace_schema_metadata(None), organizer / "solutions" / path.name)
        tasks.append(path.stem)
    return tasks


def _write_submission_kits(participant: Path, organizer: Path, tasks: list[str]) -> None:
    """Per task, ``submission/<task>-ids.csv`` (the hidden ids a submission must cover) and,
    for a task the benchmark knows, ``submission/<task>-sample.csv``: a valid submission of
    dummy predictions (labels in turn, or the middle of the scale), for checking a file with
    ``misme-score validate FILE --ids IDS --task TASK`` without labels."""
    from benchmark.errors import BenchmarkError
    from benchmark.tasks import get_task

    folder = participant / "submission"
    folder.mkdir(parents=True, exist_ok=True)
    for task in tasks:
        solution = pq.read_table(organizer / "solutions" / f"{task}.parquet", columns=["id"])
        ids = [str(i) for i in solution.column("id").to_pylist()]
        (folder / f"{task}-ids.csv").write_text(csv_text(["id"], [[i] for i in ids]), "utf-8")
        try:
            get_task(task)
        except BenchmarkError:
            continue  # a solution file of a task the benchmark does not score: ids only
        (folder / f"{task}-sample.csv").write_text(csv_text(*sample_rows(task, ids)), "utf-8")


def _write_id_map(organizer: Path, id_map: dict[str, str]) -> None:
    hidden = sorted(id_map)
    pq.write_table(
        pa.table({"id": hidden, "original_id": [id_map[h] for h in hidden]}),
        organizer / "id-map.parquet",
    )


def _write_config(organizer: Path, tasks: list[str]) -> None:
    lines = [
        'name = "MiSME challenge"',
        "max_file_bytes = 50_000_000",
        "",
        "[quotas]",
        "per_day = 5",
        "total = 100",
        "count_failed = false",
        "",
    ]
    for task in tasks:
        lines += ["[[tasks]]", f'name = "{task}"', f'solution = "solutions/{task}.parquet"', ""]
    lines += [
        "[[phases]]",
        'name = "dev"',
        'start = "2025-01-01T00:00:00Z"',
        'end = "2025-06-01T00:00:00Z"',
        "public_fraction = 0.5",
        "seed = 0",
        "",
        "[[phases]]",
        'name = "test"',
        'start = "2025-06-01T00:00:00Z"',
        'end = "2025-07-01T00:00:00Z"',
        "public_fraction = 0.5",
        "seed = 1",
        "",
    ]
    (organizer / "challenge.toml").write_text("\n".join(lines), encoding="utf-8")

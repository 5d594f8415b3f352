"""Verify a build: recompute every clip's checksum from the audio bytes in its shards.

``verify_build`` decodes every clip of every config (soundfile), checks it against the
checksum recorded in its shard row and in the manifests, digests every table (the shards'
rows, the solution files), and returns both from which the audio digest and the dataset
digest are recomputed; ``compare`` lists the clips that differ between two builds,
``compare_tables`` the tables and rows; ``check_sources`` re-hashes the source files named
by the sources manifest.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import soundfile as sf

from builders.common import audio
from builders.engine import Engine, map_units
from builders.errors import UserError
from builders.hf.content import Source, TableKey, table_differences, table_digest, table_sources
from builders.hf.digest import Digests, Key, combined_digest, digest_of, identity_checksums
from builders.hf.plan_match import check_plan_matches_shards
from builders.hf.shards import naming_the_shard, shard_files
from builders.hf.spec import ConfigSpec, DatasetSpec

SHOW = 10


@dataclass
class Verification:
    """Checksums recomputed from one build's audio, its tables' digests, and what disagrees
    inside it."""

    out: Path
    checksums: dict[Key, str]
    problems: list[str] = field(default_factory=list)
    tables: dict[TableKey, str] = field(default_factory=dict)
    table_files: dict[TableKey, list[Source]] = field(default_factory=dict)

    @property
    def digests(self) -> Digests:
        audio = digest_of(self.checksums)
        return Digests(combined_digest(audio, self.tables), audio)

    @property
    def digest(self) -> str:
        """The dataset digest."""
        return self.digests.dataset


@dataclass(frozen=True)
class ShardUnit:
    """One shard to decode: its path and the views of its audio columns."""

    shard: str
    view: str
    window_view: str | None

    @property
    def unit_id(self) -> str:
        return self.shard


def shard_checksums(unit: ShardUnit) -> tuple[list[tuple[Key, str, str | None]], list[str]]:
    """(key, recomputed sha256, recorded sha256) for every decodable clip of one shard, and problems."""
    with naming_the_shard(unit.shard):
        return _shard_checksums(unit)


def _shard_checksums(unit: ShardUnit) -> tuple[list[tuple[Key, str, str | None]], list[str]]:
    names = pq.read_schema(unit.shard).names
    columns = ["id", "audio", "audio_sha256"]
    pairs = [("audio", "audio_sha256", unit.view)]
    if unit.window_view and "audio_window" in names:
        columns += ["audio_window", "audio_window_sha256"]
        pairs.append(("audio_window", "audio_window_sha256", unit.window_view))
    rows, problems = [], []
    for batch in pq.ParquetFile(unit.shard).iter_batches(batch_size=16, columns=columns):
        for row in batch.to_pylist():
            for column, checksum, view in pairs:
                try:
                    actual = audio.clip_sha256(row[column]["bytes"])
                except (sf.LibsndfileError, RuntimeError, TypeError) as error:
                    problems.append(
                        f"{view}/{row['id']}: cannot decode its audio in {unit.shard}: "
                        f"{str(error).splitlines()[0] if str(error) else type(error).__name__}"
                    )
                    continue
                rows.append(((view, row["id"]), actual, row[checksum]))
    return rows, problems


def manifest_checksums(out: Path, spec: DatasetSpec) -> dict[Key, str]:
    """(view, id) -> sha256 recorded in the manifests (empty when not rendered)."""
    recorded: dict[Key, str] = {}
    for config in spec.configs:
        if config.manifest is not None:
            recorded.update(_linked_checksums(out, config))
    return recorded


def _linked_checksums(out: Path, config: ConfigSpec) -> dict[Key, str]:
    link = config.manifest
    path = Path(out) / "manifests" / link.file
    if not path.is_file() or "audio_sha256" not in pq.read_schema(path).names:
        return {}
    columns = [link.id_column, "audio_sha256"] + (
        ["audio_window_sha256"] if config.window_view else []
    )
    columns += [link.where[0]] if link.where and link.where[0] not in columns else []
    found = {}
    for row in pq.read_table(path, columns=columns).to_pylist():
        if link.where and row[link.where[0]] not in link.where[1]:
            continue
        found[(config.audio_view, row[link.id_column])] = row["audio_sha256"]
        if config.window_view:
            found[(config.window_view, row[link.id_column])] = row["audio_window_sha256"]
    return found


def verify_build(
    out: Path,
    spec: DatasetSpec,
    *,
    workers: int = 1,
    engine: Engine | None = None,
    progress: bool = True,
) -> Verification:
    """Recompute the checksums of every clip in OUT's shards and list internal disagreements."""
    out = Path(out)
    units = [
        ShardUnit(str(s), c.audio_view, c.window_view)
        for c in spec.configs
        if not c.metadata_only
        for s in shard_files(out, c.name)
    ]
    if not units:
        raise UserError(f"no dataset shards under {out / 'data'} (is {out} a rendered build?)")
    try:
        results = map_units(
            shard_checksums,
            units,
            workers=workers,
            engine=engine,
            desc=f"verify {out.name}",
            unit="shard",
            progress=progress,
        )
    except (OSError, pa.ArrowException) as error:
        raise UserError(f"cannot read shards under {out}: {error}") from error
    checksums, problems = {}, []
    for rows, shard_problems in results:
        problems += shard_problems
        for key, actual, recorded in rows:
            checksums[key] = actual
            if actual != recorded:
                problems.append(
                    f"{key[0]}/{key[1]}: audio does not match its recorded audio_sha256"
                )
    try:
        manifest = manifest_checksums(out, spec)
    except (OSError, pa.ArrowException) as error:
        raise UserError(f"cannot read the manifests under {out / 'manifests'}: {error}") from error
    check_plan_matches_shards(out, spec)
    problems += _manifest_problems(spec, manifest, checksums)
    checksums.update(identity_checksums(out, spec))
    files = table_sources(out, spec)
    try:
        tables = {key: table_digest(sources) for key, sources in files.items()}
    except (OSError, pa.ArrowException) as error:
        raise UserError(f"cannot read the shards or solutions under {out}: {error}") from error
    return Verification(out, checksums, problems, tables, files)


def _manifest_problems(
    spec: DatasetSpec, manifest: Mapping[Key, str], checksums: Mapping[Key, str]
) -> list[str]:
    linked = {view for c in spec.configs if c.manifest is not None for view in c.views}
    problems = []
    for key in sorted(manifest.keys() | (checksums.keys() if manifest else set())):
        if key not in checksums:
            problems.append(f"{key[0]}/{key[1]}: in the manifests but not in the shards")
        elif key not in manifest and key[0] in linked:
            problems.append(f"{key[0]}/{key[1]}: in the shards but not in the manifests")
        elif key in manifest and manifest[key] != checksums[key]:
            problems.append(f"{key[0]}/{key[1]}: audio does not match the manifest's checksum")
    return problems


def compare(ours: Mapping[Key, str], theirs: Mapping[Key, str]) -> list[str]:
    """Clips that differ between two builds, sorted by (view, id)."""
    lines = []
    for key in sorted(ours.keys() | theirs.keys()):
        if key not in theirs:
            lines.append(f"{key[0]}/{key[1]}: only in the first build")
        elif key not in ours:
            lines.append(f"{key[0]}/{key[1]}: only in the second build")
        elif ours[key] != theirs[key]:
            lines.append(f"{key[0]}/{key[1]}: {ours[key][:12]}... != {theirs[key][:12]}...")
    return lines


def compare_tables(ours: Verification, theirs: Verification) -> tuple[list[str], list[str]]:
    """How the tables of two builds differ: one summary per differing table, and the first
    differing rows of each."""
    summaries, rows = [], []
    for key in sorted(ours.tables.keys() | theirs.tables.keys()):
        if ours.tables.get(key) == theirs.tables.get(key):
            continue
        try:
            summary, examples = table_differences(
                key, ours.table_files.get(key), theirs.table_files.get(key)
            )
        except (OSError, pa.ArrowException) as error:
            raise UserError(f"cannot read the {key[0]} {key[1]} tables: {error}") from error
        summaries.append(summary)
        rows += examples
    return summaries, rows


def check_sources(out: Path, spec: DatasetSpec) -> list[str]:
    """Source files that are missing or changed since planning (roots from build-state.json)."""
    try:
        roots = json.loads((out / "build-state.json").read_text())["roots"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UserError(
            f"--check-sources needs {out / 'build-state.json'} with the source roots ({error})"
        ) from error
    manifest = out / "manifests" / spec.sources_manifest
    if not manifest.is_file():
        raise UserError(f"--check-sources needs {manifest} (run the plan step first)")
    try:
        rows = pq.read_table(manifest, columns=["corpus", "path", "sha256"]).to_pylist()
    except (OSError, pa.ArrowException) as error:
        raise UserError(f"--check-sources cannot read {manifest}: {error}") from error
    problems = []
    for row in rows:
        try:
            audio.check_source(Path(roots.get(row["corpus"], "")) / row["path"], row["sha256"])
        except UserError as error:
            problems.append(str(error))
    return problems


def report(title: str, lines: list[str]) -> None:
    """Print a count and the first few lines."""
    print(f"{title}: {len(lines)}")
    for line in lines[:SHOW]:
        print(f"  {line}")
    if len(lines) > SHOW:
        print(f"  ... and {len(lines) - SHOW} more")

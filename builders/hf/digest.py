"""The dataset digest: sha256 over the sorted lines ``<view>\\t<id>\\t<sha256>\\n``.

The lines cover every clip of every config (its ``audio_sha256`` and, with a window view,
``audio_window_sha256``) and, for configs that declare one, an identity line
``separation-identity\\t<config>\\t<identity digest>`` (e.g. the separation model's files and
version), so a different model cannot pass as the same corpus.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pyarrow.parquet as pq

from builders.common.hashing import lines_sha256
from builders.errors import UserError
from builders.hf.shards import shard_files
from builders.hf.spec import DatasetSpec

Key = tuple[str, str]
IDENTITY_VIEW = "separation-identity"


def digest_of(checksums: Mapping[Key, str]) -> str:
    """sha256 over the sorted ``<view>\\t<id>\\t<sha256>\\n`` lines."""
    return lines_sha256(f"{v}\t{i}\t{s}\n" for (v, i), s in sorted(checksums.items()))


def recorded_checksums(out: Path, spec: DatasetSpec) -> dict[Key, str]:
    """(view, id) -> sha256 as recorded in the shards' checksum columns."""
    recorded = {}
    for config in (c for c in spec.configs if not c.metadata_only):  # no audio, no checksums
        for shard in shard_files(out, config.name):
            names = pq.read_schema(shard).names
            window = config.window_view is not None and "audio_window_sha256" in names
            columns = ["id", "audio_sha256"] + (["audio_window_sha256"] if window else [])
            for row in pq.read_table(shard, columns=columns).to_pylist():
                recorded[(config.audio_view, row["id"])] = row["audio_sha256"]
                if window:
                    recorded[(config.window_view, row["id"])] = row["audio_window_sha256"]
    return recorded


def identity_checksums(out: Path, spec: DatasetSpec) -> dict[Key, str]:
    """``(separation-identity, config) -> identity digest`` of each present config that has one."""
    found = {}
    for config in spec.configs:
        path = Path(out) / "manifests" / config.identity_file if config.identity_file else None
        if path is not None and path.is_file() and shard_files(out, config.name):
            try:
                found[(IDENTITY_VIEW, config.name)] = json.loads(path.read_text())[
                    "identity_digest"
                ]
            except (OSError, ValueError, KeyError, TypeError) as error:
                raise UserError(
                    f"cannot read the identity of config {config.name} from {path}: {error}"
                ) from None
    return found


def dataset_digest(out: Path, spec: DatasetSpec) -> str:
    """The digest of what the shards record (clips) plus the identities."""
    return digest_of({**recorded_checksums(out, spec), **identity_checksums(out, spec)})

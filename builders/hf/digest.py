"""A build's two digests, recorded in ``OUT/digest.txt``.

- The **audio digest** (the figure recipe v1 published): sha256 over the sorted lines
  ``<view>\\t<id>\\t<sha256>\\n`` of every clip of every config (its ``audio_sha256`` and,
  with a window view, ``audio_window_sha256``) and, for configs that declare one, an
  identity line ``separation-identity\\t<config>\\t<identity digest>`` (e.g. the separation
  model's files and version), so a different model cannot pass as the same corpus. It says
  nothing of ids' folds, labels or any other column.
- The **dataset digest**: what the dataset says. sha256 over the sorted lines
  ``audio\\t<audio digest>\\n`` and ``<config|solution>\\t<name>\\t<table digest>\\n`` of every
  config with shards (metadata-only ones too) and every solution file, each table digest
  covering every row's every column (:mod:`builders.hf.content`). Any other id, fold, label
  or value gives another dataset digest.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from builders.common.hashing import lines_sha256
from builders.errors import UserError
from builders.hf.content import TableKey, table_digests
from builders.hf.shards import shard_files
from builders.hf.spec import DatasetSpec

Key = tuple[str, str]
IDENTITY_VIEW = "separation-identity"
DIGEST_FILE = "digest.txt"
NAMES = {"dataset": "dataset digest", "audio": "audio digest"}


@dataclass(frozen=True)
class Digests:
    """A build's dataset digest and audio digest."""

    dataset: str
    audio: str

    @property
    def text(self) -> str:
        """The content of ``OUT/digest.txt``."""
        return f"{NAMES['dataset']}: {self.dataset}\n{NAMES['audio']}: {self.audio}\n"


def digest_of(checksums: Mapping[Key, str]) -> str:
    """sha256 over the sorted ``<view>\\t<id>\\t<sha256>\\n`` lines."""
    return lines_sha256(f"{v}\t{i}\t{s}\n" for (v, i), s in sorted(checksums.items()))


def combined_digest(audio: str, tables: Mapping[TableKey, str]) -> str:
    """The dataset digest of an audio digest and the tables' digests."""
    lines = [f"audio\t{audio}\n"] + [f"{k}\t{n}\t{d}\n" for (k, n), d in tables.items()]
    return lines_sha256(sorted(lines))


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


def audio_digest(out: Path, spec: DatasetSpec) -> str:
    """The audio digest of what the shards record (clips) plus the identities."""
    return digest_of({**recorded_checksums(out, spec), **identity_checksums(out, spec)})


def build_digests(out: Path, spec: DatasetSpec) -> Digests:
    """Both digests of OUT as its shards and solution files stand."""
    audio = audio_digest(out, spec)
    return Digests(combined_digest(audio, table_digests(out, spec)), audio)


def parse_digests(text: str) -> dict[str, str]:
    """``{"dataset": ..., "audio": ...}`` from a digest.txt; a file of one bare digest (written
    before dataset digests) records the audio digest alone. UserError when unreadable."""
    found = {}
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) == 1 and re.fullmatch(r"[0-9a-f]{64}", lines[0]):
        return {"audio": lines[0]}
    for line in lines:
        name, _, value = line.partition(":")
        kind = next((k for k, n in NAMES.items() if n == name.strip()), None)
        if kind is None or not re.fullmatch(r"[0-9a-f]{64}", value.strip()):
            raise UserError(f"cannot read {DIGEST_FILE}: unexpected line {line!r}")
        found[kind] = value.strip()
    return found


def read_digests(out: Path) -> dict[str, str] | None:
    """OUT/digest.txt's digests by kind, or None when there is none."""
    path = Path(out) / DIGEST_FILE
    return parse_digests(path.read_text()) if path.is_file() else None

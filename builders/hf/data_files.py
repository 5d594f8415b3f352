"""The build's data files (every config's shards) with their sizes and sha256.

The card's ``dataset_info`` names their digest (so that ``datasets``' cache key changes with
any byte of any shard) and the Croissant file lists each one with its sha256.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from builders.common.hashing import file_sha256, lines_sha256
from builders.hf.digest import Digests
from builders.hf.shards import shard_files
from builders.hf.spec import DatasetSpec


@dataclass(frozen=True)
class DataFile:
    """One shard: its path relative to the build folder, size and sha256."""

    config: str
    path: str
    size: int
    sha256: str


def data_files(out: Path, spec: DatasetSpec) -> list[DataFile]:
    """Every present config's shards, in the spec's config order and canonical shard order."""
    out = Path(out)
    return [
        DataFile(
            config.name, shard.relative_to(out).as_posix(), shard.stat().st_size, file_sha256(shard)
        )
        for config in spec.configs
        for shard in shard_files(out, config.name)
    ]


def files_digest(files: list[DataFile]) -> str:
    """sha256 over the sorted ``<path>\\t<sha256>\\n`` lines of the data files."""
    return lines_sha256(f"{f.path}\t{f.sha256}\n" for f in sorted(files, key=lambda f: f.path))


@dataclass(frozen=True)
class Build:
    """What the card's sections read: the folder, its spec, digests and data files."""

    out: Path
    spec: DatasetSpec
    digests: Digests
    files: tuple[DataFile, ...]

    @property
    def digest(self) -> str:
        """The dataset digest."""
        return self.digests.dataset

    @property
    def files_digest(self) -> str:
        return files_digest(list(self.files))

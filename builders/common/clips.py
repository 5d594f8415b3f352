"""Where a rendered clip's bytes are: its own file, or a byte range of a shard.

Every step names a clip ``OUT/audio/<view>/<id><suffix>``. Audio bytes are stored PLAIN and
uncompressed in the Parquet shards, so each clip's bytes lie contiguous inside its shard.
A config folder keeps an index of them, ``OUT/data/<config>/.clips.json`` (written in the
same atomic folder as the shards: they are replaced together): ``{view: {id: [shard file
name, offset, length, sha256 of the bytes]}}``; a part a render has staged but not yet
published (``OUT/data/.staged/<config>/``, ``builders.hf.parts``) keeps its own. Clips reach
the shards in one of two ways: every dataset's render (MiSME, instrumental-MER, MuSe-VAD:
``builders.hf.batches``) writes them straight into staged parts; MiSME's separation and a
secret variant write clip files, which their export copies into the shards and then deletes.
Either way a finished build holds each audio byte once, and every later step (separation,
features, a resumed render, a re-export) reads the clip through a :class:`ClipRef`.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from builders.common.atomic import atomic_file

INDEX_NAME = ".clips.json"
STAGED_DIR = ".staged"  # OUT/data/.staged/<config>/: parts written by a render, before the export publishes them
PART_INDEX_SUFFIX = ".clips.json"  # a staged part's own index: <part stem>.clips.json beside it


def staged_dir(out: Path, config: str) -> Path:
    """``OUT/data/.staged/<config>/``: where render workers write a config's parts."""
    return Path(out) / "data" / STAGED_DIR / config


@dataclass(frozen=True)
class ClipRef:
    """A clip's encoded bytes: ``length`` bytes at ``offset`` of ``path`` (``length`` -1: the
    whole file). ``name`` is the clip's file name (``<id><suffix>``); ``sha256`` the bytes'
    digest when the index recorded it (None for a clip file)."""

    path: str
    name: str
    offset: int = 0
    length: int = -1
    sha256: str | None = None

    @classmethod
    def of_file(cls, path: Path | str) -> ClipRef:
        """The clip that is the whole file ``path``."""
        return cls(str(path), Path(path).name)

    @property
    def clip_id(self) -> str:
        return Path(self.name).stem

    @property
    def is_file(self) -> bool:
        """True when the clip is a file of its own (not a range of a shard)."""
        return self.length < 0

    def __str__(self) -> str:
        return (
            self.path
            if self.is_file
            else f"{self.path}[{self.offset}:{self.offset + self.length}] ({self.name})"
        )

    def size(self) -> int:
        return os.stat(self.path).st_size if self.is_file else self.length

    def read_bytes(self) -> bytes:
        """The clip's bytes; OSError when they cannot all be read."""
        if self.is_file:
            return Path(self.path).read_bytes()
        with open(self.path, "rb", buffering=0) as handle:
            data = os.pread(handle.fileno(), self.length, self.offset)
        if len(data) != self.length:
            raise OSError(f"{self.path} ends before byte {self.offset + self.length} ({self.name})")
        return data

    def open(self) -> BinaryIO:
        """A seekable binary file of the clip (for soundfile)."""
        return open(self.path, "rb") if self.is_file else io.BytesIO(self.read_bytes())

    def digest(self) -> str:
        """sha256 of the clip's bytes, computed from them."""
        if self.is_file:
            with open(self.path, "rb") as handle:
                return hashlib.file_digest(handle, "sha256").hexdigest()
        return hashlib.sha256(self.read_bytes()).hexdigest()

    @contextlib.contextmanager
    def as_file(self, scratch: Path) -> Iterator[Path]:
        """A path holding the clip's bytes, for tools that read only files: the clip file
        itself, or a copy in ``scratch`` that is deleted afterwards."""
        if self.is_file:
            yield Path(self.path)
            return
        Path(scratch).mkdir(parents=True, exist_ok=True)
        copy = Path(scratch) / f".{os.getpid()}-{self.name}"
        try:
            copy.write_bytes(self.read_bytes())
            yield copy
        finally:
            copy.unlink(missing_ok=True)


def clip_file(out: Path, view: str, clip_id: str, suffix: str) -> Path:
    """``OUT/audio/<view>/<id><suffix>``: where the render writes a clip, and the name by
    which every step asks for it."""
    return Path(out) / "audio" / view / f"{clip_id}{suffix}"


_PUBLISHED: dict[
    tuple, dict[str, dict[str, ClipRef]]
] = {}  # the last build's index, by its files' stamps


def published(out: Path) -> dict[str, dict[str, ClipRef]]:
    """Every clip in OUT's shards: ``{view: {id: ClipRef}}``, from the published indexes and
    then the staged parts' (a staged clip is the newer; read once per process for each
    version of the index files and staged folders)."""
    data = Path(out) / "data"
    indexes = sorted(data.glob(f"*/{INDEX_NAME}"))
    staged = sorted(p for p in (data / STAGED_DIR).glob("*") if p.is_dir())
    stamp = []
    for path in (*indexes, *staged):
        try:
            info = path.stat()
        except FileNotFoundError:
            continue
        stamp.append((str(path), info.st_ino, info.st_mtime_ns, info.st_size))
    key = (str(Path(out).resolve()), tuple(stamp))
    if key not in _PUBLISHED:
        _PUBLISHED.clear()
        files = [Path(s[0]) for s in stamp if not Path(s[0]).is_dir()]
        for folder in (Path(s[0]) for s in stamp if Path(s[0]).is_dir()):
            files += sorted(folder.glob(f"*{PART_INDEX_SUFFIX}"))
        _PUBLISHED[key] = _read_indexes(files)
    return _PUBLISHED[key]


def _read_indexes(indexes: list[Path]) -> dict[str, dict[str, ClipRef]]:
    views: dict[str, dict[str, ClipRef]] = {}
    for path in indexes:
        try:
            index = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # a damaged index publishes nothing: the clips are rendered again
        for view, entries in index.items() if isinstance(index, dict) else ():
            try:
                refs = {
                    clip_id: ClipRef(
                        str(path.parent / shard), clip_id, int(offset), int(length), str(sha256)
                    )
                    for clip_id, (shard, offset, length, sha256) in entries.items()
                }
            except (AttributeError, TypeError, ValueError):
                continue  # likewise for a view whose entries are malformed
            views.setdefault(view, {}).update(refs)
    return views


def locate(path: Path) -> ClipRef | None:
    """The clip named ``OUT/audio/<view>/<id><suffix>``: the file if it exists, else its
    published range, else None."""
    return locate_all([path])[0]


def locate_all(paths: Iterable[Path]) -> list[ClipRef | None]:
    """:func:`locate` for many clips, reading each build's index once."""
    found: list[ClipRef | None] = []
    views_of: dict[Path, dict[str, dict[str, ClipRef]]] = {}
    for path in map(Path, paths):
        if path.is_file():
            found.append(ClipRef.of_file(path))
            continue
        out = path.parents[2]
        if out not in views_of:
            views_of[out] = published(out)
        ref = views_of[out].get(path.parent.name, {}).get(path.stem)
        found.append(
            None
            if ref is None
            else ClipRef(ref.path, path.name, ref.offset, ref.length, ref.sha256)
        )
    return found


def view_refs(out: Path, view: str, suffix: str) -> dict[str, ClipRef]:
    """Every clip of ``view`` by id, sorted: its file where one exists, else its range in
    the shards that published it."""
    refs = {
        clip_id: ClipRef(ref.path, f"{clip_id}{suffix}", ref.offset, ref.length, ref.sha256)
        for clip_id, ref in published(out).get(view, {}).items()
    }
    folder = Path(out) / "audio" / view
    if folder.is_dir():
        for path in folder.glob(f"*{suffix}"):
            if not path.name.startswith("."):
                refs[path.stem] = ClipRef.of_file(path)
    return dict(sorted(refs.items()))


def write_published_clips(out: Path, dest: Path, suffix: str) -> int:
    """Write every clip published in OUT's shards as a file under ``DEST/audio/<view>/``, as a
    render leaves its clips before the export (files already there are kept). Returns how
    many were written."""
    written = 0
    for view in published(out):
        for clip_id, ref in view_refs(out, view, suffix).items():
            target = clip_file(dest, view, clip_id, suffix)
            if ref.is_file or target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with atomic_file(target) as tmp:
                tmp.write_bytes(ref.read_bytes())
            written += 1
    return written

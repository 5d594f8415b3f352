"""`misme-build verify OUT [--against OTHER_OUT | --digest SHA256]`.

Recomputes every clip's checksum from the audio bytes in the Hugging Face shards
(``OUT/data/<config>/*.parquet``, decoded with soundfile), checks them against the
checksums recorded in the shards and in the manifests, and compares the dataset digest
with another build, a given digest, or (by default) OUT/digest.txt.
Exit status: 0 identical / consistent, 1 different (the first differing clips are
named), 2 user error.
"""

from __future__ import annotations

import argparse
import json
import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from builders import audio_io
from builders.errors import UserError
from builders.hf import CONFIG_VIEWS, digest_of, identity_checksums, shard_files

SHOW = 10
Key = tuple[str, str]


@dataclass
class Verification:
    """Checksums recomputed from one build's audio, and what disagrees inside it."""

    out: Path
    checksums: dict[Key, str]
    problems: list[str] = field(default_factory=list)

    @property
    def digest(self) -> str:
        return digest_of(self.checksums)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, help="build folder (with data/ shards)")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--against", type=Path, metavar="OTHER_OUT", help="another build folder to compare with")
    target.add_argument("--digest", metavar="SHA256", help="expected dataset digest")
    parser.add_argument("--workers", type=int, default=1, help="processes decoding shards (default 1)")
    parser.add_argument("--check-sources", action="store_true",
                        help="also check the source files against manifests/sources.parquet (roots from build-state.json)")


def shard_checksums(shard: str, view: str, window_view: str | None) -> list[tuple[Key, str, str | None]]:
    """(key, recomputed sha256, recorded sha256) for every clip of one shard."""
    names = pq.read_schema(shard).names
    columns = ["id", "audio", "audio_sha256"]
    if window_view and "audio_window" in names:
        columns += ["audio_window", "audio_window_sha256"]
    rows = []
    for batch in pq.ParquetFile(shard).iter_batches(batch_size=16, columns=columns):
        for row in batch.to_pylist():
            rows.append(((view, row["id"]), audio_io.clip_sha256(row["audio"]["bytes"]), row["audio_sha256"]))
            if "audio_window" in row:
                rows.append(((window_view, row["id"]), audio_io.clip_sha256(row["audio_window"]["bytes"]),
                             row["audio_window_sha256"]))
    return rows


def manifest_checksums(out: Path) -> dict[Key, str]:
    """(view, id) -> sha256 recorded in the manifests (empty when not rendered)."""
    recorded: dict[Key, str] = {}
    mixes, sources = out / "manifests" / "mixes.parquet", out / "manifests" / "sources.parquet"
    if mixes.is_file() and "audio_sha256" in pq.read_schema(mixes).names:
        for r in pq.read_table(mixes, columns=["mix_id", "audio_sha256", "audio_window_sha256"]).to_pylist():
            recorded[("mixed", r["mix_id"])] = r["audio_sha256"]
            recorded[("mixed-window", r["mix_id"])] = r["audio_window_sha256"]
    if sources.is_file() and "audio_sha256" in pq.read_schema(sources).names:
        for r in pq.read_table(sources, columns=["source_id", "corpus", "audio_sha256"]).to_pylist():
            recorded[("speech" if r["corpus"] == "ravdess" else "music", r["source_id"])] = r["audio_sha256"]
    return recorded


def verify_build(out: Path, *, workers: int = 1, progress: bool = True) -> Verification:
    """Recompute the checksums of every clip in OUT's shards and list internal disagreements."""
    out = Path(out)
    jobs = [(str(s), view, window) for config, (view, window) in CONFIG_VIEWS.items() for s in shard_files(out, config)]
    if not jobs:
        raise UserError(f"no dataset shards under {out / 'data'} (is {out} a rendered build?)")
    disable = not progress or os.environ.get("MISME_NO_PROGRESS") == "1"
    try:
        if workers <= 1:
            results = [shard_checksums(*job) for job in tqdm(jobs, desc=f"verify {out.name}", disable=disable)]
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                results = list(tqdm(pool.map(shard_checksums, *zip(*jobs, strict=True)), total=len(jobs),
                                    desc=f"verify {out.name}", disable=disable))
    except (OSError, pa.ArrowException) as error:
        raise UserError(f"cannot read shards under {out}: {error}") from error
    checksums, problems = {}, []
    for key, actual, recorded in (row for rows in results for row in rows):
        checksums[key] = actual
        if actual != recorded:
            problems.append(f"{key[0]}/{key[1]}: audio does not match its recorded audio_sha256")
    try:
        manifest = manifest_checksums(out)
    except (OSError, pa.ArrowException) as error:
        raise UserError(f"cannot read the manifests under {out / 'manifests'}: {error}") from error
    for key in sorted(manifest.keys() | (checksums.keys() if manifest else set())):
        if key not in checksums:
            problems.append(f"{key[0]}/{key[1]}: in the manifests but not in the shards")
        elif key not in manifest and key[0] in {"speech", "music", "mixed", "mixed-window"}:
            problems.append(f"{key[0]}/{key[1]}: in the shards but not in the manifests")
        elif key in manifest and manifest[key] != checksums[key]:
            problems.append(f"{key[0]}/{key[1]}: audio does not match the manifest's checksum")
    checksums.update(identity_checksums(out))
    return Verification(out, checksums, problems)


def compare(ours: dict[Key, str], theirs: dict[Key, str]) -> list[str]:
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


def check_sources(out: Path) -> list[str]:
    """Source files that are missing or changed since planning (roots from build-state.json)."""
    try:
        roots = json.loads((out / "build-state.json").read_text())["roots"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UserError(f"--check-sources needs {out / 'build-state.json'} with the source roots ({error})") from error
    manifest = out / "manifests" / "sources.parquet"
    if not manifest.is_file():
        raise UserError(f"--check-sources needs {manifest} (run `misme-build misme plan` first)")
    try:
        rows = pq.read_table(manifest, columns=["corpus", "path", "sha256"]).to_pylist()
    except (OSError, pa.ArrowException) as error:
        raise UserError(f"--check-sources cannot read {manifest}: {error}") from error
    problems = []
    for row in rows:
        path = Path(roots.get(row["corpus"], "")) / row["path"]
        try:
            audio_io.check_source(path, row["sha256"])
        except UserError as error:
            problems.append(str(error))
    return problems


def _report(title: str, lines: list[str]) -> None:
    print(f"{title}: {len(lines)}")
    for line in lines[:SHOW]:
        print(f"  {line}")
    if len(lines) > SHOW:
        print(f"  ... and {len(lines) - SHOW} more")


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if not out.is_dir():
        raise UserError(f"build folder not found: {out}")
    if args.digest is not None and not re.fullmatch(r"[0-9a-f]{64}", args.digest.strip().lower()):
        raise UserError(f"--digest must be 64 hexadecimal characters, got {args.digest!r}")
    if args.workers < 1:
        raise UserError(f"--workers must be >= 1, got {args.workers}")
    ours = verify_build(out, workers=args.workers)
    problems = list(ours.problems)
    if args.check_sources:
        problems += check_sources(out)
    differences: list[str] = []
    if args.against is not None:
        if not Path(args.against).is_dir():
            raise UserError(f"build folder not found: {args.against}")
        theirs = verify_build(Path(args.against), workers=args.workers)
        problems += [f"{args.against}: {p}" for p in theirs.problems]
        differences = compare(ours.checksums, theirs.checksums)
        expected, label = theirs.digest, f"digest of {args.against}"
    elif args.digest is not None:
        expected, label = args.digest.strip().lower(), "expected digest"
    else:
        recorded = out / "digest.txt"
        expected = recorded.read_text().strip() if recorded.is_file() else None
        label = "recorded digest (digest.txt)"
    print(f"clips: {len(ours.checksums)}")
    print(f"digest: {ours.digest}")
    if problems:
        _report("inconsistencies", problems)
    if differences:
        _report("differing clips", differences)
    if expected is None:
        print("no digest.txt to compare with")
    elif expected != ours.digest:
        print(f"DIFFERENT: {label} is {expected}")
        return 1
    if problems or differences:
        return 1
    print("identical" if expected is not None else "consistent")
    return 0

"""`misme-build verify OUT [--against OTHER_OUT | --digest SHA256]`.

Recomputes every clip's checksum from the audio bytes in the Hugging Face shards
(``OUT/data/<config>/*.parquet``, decoded with soundfile), checks them against the
checksums recorded in the shards and in the manifests, digests every table (shards' rows,
solution files), and compares the two digests (:mod:`builders.hf.digest`) with another
build (both; the differing clips, tables and rows are named), a given digest (either one;
it says which matched), or (by default) OUT/digest.txt.
Exit status: 0 identical / consistent, 1 different, 2 user error.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from builders.common.recipe import read_toml
from builders.common.versions import differences, lock_sha256
from builders.engine import add_arguments as add_engine_arguments
from builders.engine import engine_from_args
from builders.errors import UserError
from builders.hf.digest import DIGEST_FILE, NAMES, Digests, read_digests
from builders.hf.verify import check_sources, compare, compare_tables, report, verify_build
from builders.registry import spec_for_build

AUDIO_ONLY = (
    "{source} is the audio digest (recipe v1 published this figure): it covers the clips' "
    "audio only; the dataset digest also covers ids, folds, labels and solution files"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, help="build folder (with data/ shards)")
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--against", type=Path, metavar="OTHER_OUT", help="another build folder to compare with"
    )
    target.add_argument(
        "--digest",
        metavar="SHA256",
        help="expected digest: the dataset digest, or the audio digest (as published for v1)",
    )
    add_engine_arguments(parser)
    parser.add_argument(
        "--check-sources",
        action="store_true",
        help="also check the source files against the sources manifest (roots from build-state.json)",
    )


def environment_warnings(out: Path) -> list[str]:
    """How this environment differs from the one that planned OUT (its recipe's [build] table):
    byte-identity needs the same packages (a different checksum is then no proof of a
    different corpus, nor the same one of identical tools)."""
    try:
        build = read_toml(Path(out) / "manifests" / "recipe.toml").get("build", {})
    except UserError:
        return []
    lines = []
    here = lock_sha256()
    if (recorded := build.get("lock_sha256")) and recorded != here:
        lines.append(
            f"{out} was built from another lock file (sha256 {str(recorded)[:12]}..., here "
            f"{here[:12]}...)"
        )
    changed = differences(build.get("tool_versions") or {})
    if changed:
        lines.append(f"{out} was built with other package versions: {'; '.join(changed)}")
    return lines


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if args.digest is not None and not re.fullmatch(r"[0-9a-f]{64}", args.digest.strip().lower()):
        raise UserError(f"--digest must be 64 hexadecimal characters, got {args.digest!r}")
    engine = engine_from_args(args)
    spec = spec_for_build(out)
    ours = verify_build(out, spec, engine=engine)
    problems = list(ours.problems)
    if args.check_sources:
        problems += check_sources(out, spec)
    clips: list[str] = []
    tables: tuple[list[str], list[str]] = ([], [])
    if args.against is not None:
        theirs = verify_build(args.against, spec_for_build(args.against), engine=engine)
        problems += [f"{args.against}: {p}" for p in theirs.problems]
        clips, tables = compare(ours.checksums, theirs.checksums), compare_tables(ours, theirs)
    for line in environment_warnings(out):
        print(f"warning: {line}")
    print(f"clips: {len(ours.checksums)}")
    print(f"dataset digest: {ours.digests.dataset}")
    print(f"audio digest:   {ours.digests.audio}")
    if problems:
        report("inconsistencies", problems)
    for title, lines in zip(
        ("differing clips", "differing tables", "differing rows"), (clips, *tables)
    ):
        if lines:
            report(title, lines)
    if args.against is not None:
        verdict = against_verdict(ours.digests, theirs.digests, args.against)
    elif args.digest is not None:
        verdict = expected_verdict(ours.digests, args.digest.strip().lower())
    else:
        verdict = recorded_verdict(ours.digests, out)
    if verdict is not None:
        print(verdict)
        return 1
    if problems or clips or tables[0]:
        return 1
    print(
        "identical"
        if args.against or args.digest or (out / DIGEST_FILE).is_file()
        else "consistent"
    )
    return 0


def against_verdict(ours: Digests, theirs: Digests, other: Path) -> str | None:
    """None when both digests agree with OTHER's, else what differs."""
    differ = [kind for kind in NAMES if getattr(ours, kind) != getattr(theirs, kind)]
    if not differ:
        return None
    if differ == ["dataset"]:
        return (
            f"DIFFERENT: the dataset digest of {other} is {theirs.dataset}; the audio is the "
            "same (audio digests equal), but ids, folds, labels or other columns differ"
        )
    return f"DIFFERENT: {other} has dataset digest {theirs.dataset} and audio digest {theirs.audio}"


def expected_verdict(ours: Digests, expected: str) -> str | None:
    """None when EXPECTED is either digest (saying which), else DIFFERENT."""
    if expected == ours.dataset:
        print("the expected digest is the dataset digest")
        return None
    if expected == ours.audio:
        print(AUDIO_ONLY.format(source="the expected digest"))
        return None
    return f"DIFFERENT: the expected digest {expected} is neither the dataset nor the audio digest"


def recorded_verdict(ours: Digests, out: Path) -> str | None:
    """None when OUT/digest.txt records these digests (or is absent), else what differs."""
    recorded = read_digests(out)
    if recorded is None:
        print(f"no {DIGEST_FILE} to compare with")
        return None
    if "dataset" not in recorded:
        print(AUDIO_ONLY.format(source=f"{DIGEST_FILE} (written before dataset digests)"))
    differ = [k for k, v in recorded.items() if v != getattr(ours, k)]
    if not differ:
        return None
    recorded_lines = " and ".join(f"{NAMES[k]} {recorded[k]}" for k in differ)
    return f"DIFFERENT: {out / DIGEST_FILE} records {recorded_lines}" + (
        "; the audio is the same, so ids, folds, labels or other columns changed"
        if differ == ["dataset"]
        else ""
    )

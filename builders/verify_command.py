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
import re
from pathlib import Path

from builders.common.recipe import read_toml
from builders.common.versions import differences, lock_sha256
from builders.engine import add_arguments as add_engine_arguments
from builders.engine import engine_from_args
from builders.errors import UserError
from builders.hf.verify import check_sources, compare, report, verify_build
from builders.registry import spec_for_build


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, help="build folder (with data/ shards)")
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--against", type=Path, metavar="OTHER_OUT", help="another build folder to compare with"
    )
    target.add_argument("--digest", metavar="SHA256", help="expected dataset digest")
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
    differences: list[str] = []
    if args.against is not None:
        other = Path(args.against)
        theirs = verify_build(other, spec_for_build(other), engine=engine)
        problems += [f"{args.against}: {p}" for p in theirs.problems]
        differences = compare(ours.checksums, theirs.checksums)
        expected, label = theirs.digest, f"digest of {args.against}"
    elif args.digest is not None:
        expected, label = args.digest.strip().lower(), "expected digest"
    else:
        recorded = out / "digest.txt"
        expected = recorded.read_text().strip() if recorded.is_file() else None
        label = "recorded digest (digest.txt)"
    for line in environment_warnings(out):
        print(f"warning: {line}")
    print(f"clips: {len(ours.checksums)}")
    print(f"digest: {ours.digest}")
    if problems:
        report("inconsistencies", problems)
    if differences:
        report("differing clips", differences)
    if expected is None:
        print("no digest.txt to compare with")
    elif expected != ours.digest:
        print(f"DIFFERENT: {label} is {expected}")
        return 1
    if problems or differences:
        return 1
    print("identical" if expected is not None else "consistent")
    return 0

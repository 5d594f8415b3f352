"""`misme-build release BUILD OUT`: a recipe-only release of a finished build (no audio).

OUT gets the manifests, recipe, card, licence, Croissant file, digest, lock file sha256,
source checksums and ``RELEASE.md`` (how to render and verify it from your own sources):
:mod:`builders.hf.release`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from builders.hf.release import GUIDE, write_release
from builders.registry import spec_for_build


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("build", type=Path, help="a finished build folder")
    parser.add_argument("out", type=Path, help="the release folder to write (new or empty)")


def run(args: argparse.Namespace) -> int:
    names = write_release(args.build, args.out, spec_for_build(args.build))
    print(f"recipe-only release written to {args.out} ({len(names)} files, no audio)")
    print(f"how to render and verify it: {args.out / GUIDE}")
    return 0

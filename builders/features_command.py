"""`misme-build features OUT --set SET [--views V,...]`: feature tables of a build's views.

SET is one set, a named combination or sets joined by '+' (each set's tables are written).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pyarrow.parquet as pq

from builders.engine import add_arguments as add_engine_arguments
from builders.engine import engine_from_args
from builders.errors import UserError
from builders.features.extract import FEATURE_SETS, extract_features
from builders.features.extractors import COMBINED_SETS
from builders.features.matrix import feature_sets
from builders.registry import spec_for_build


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, help="build folder (with audio/<view>/)")
    parser.add_argument(
        "--set",
        required=True,
        dest="feature_set",
        help=f"feature set ({', '.join([*FEATURE_SETS, *COMBINED_SETS])}; or several joined by '+')",
    )
    parser.add_argument(
        "--views", help="comma-separated views (default: every rendered view of the set)"
    )
    add_engine_arguments(parser)
    parser.add_argument("--wait", action="store_true", help="wait for another run on OUT to finish")


def run(args: argparse.Namespace) -> int:
    views = (
        [v.strip() for v in args.views.split(",") if v.strip()] if args.views is not None else None
    )
    if views == []:
        raise UserError(f"--views names no view: {args.views!r}")
    sets = feature_sets(args.feature_set)
    engine = engine_from_args(args)
    spec = spec_for_build(args.out)
    for set_name in sets:
        for path in extract_features(
            args.out, spec, set_name, views, engine=engine, wait=args.wait
        ):
            frame_shape = pq.read_metadata(path)
            print(f"{path}: {frame_shape.num_rows} clips x {frame_shape.num_columns - 1} features")
    return 0

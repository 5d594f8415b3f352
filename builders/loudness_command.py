"""`misme-build loudness FILE...`: each file's integrated loudness and true peak, measured as
the builders measure them (the meter a recipe names; default the current recipe's), on the
samples the plan's probe decodes: a file the plan would refuse (damaged, truncated, empty)
is one line and exit 2, with the reason the plan's audit gives."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from builders.common import bs1770
from builders.common.decode import DecodeProblem, decode_source
from builders.common.loudness import BS1770_METER, METERS, measure_loudness
from builders.errors import UserError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="audio files")
    parser.add_argument(
        "--meter",
        choices=sorted(METERS),
        default=BS1770_METER,
        help=f"loudness meter (default {BS1770_METER}, recipe v2's; ffmpeg-loudnorm is v1's)",
    )
    parser.add_argument(
        "--dual-mono",
        action="store_true",
        help="measure a mono file as played on both channels (+3 LU), as MiSME measures speech",
    )


def measure_file(path: Path, meter: str, *, dual_mono: bool = False) -> tuple[float, float]:
    """(integrated loudness LUFS, true peak dBTP) of one file; UserError when it is unreadable."""
    if not path.is_file():
        raise UserError(_not_a_file(path))
    try:
        decoded = decode_source(path)
    except DecodeProblem as error:
        raise UserError(f"{path}: {error}") from None
    loudness = measure_loudness(path, meter, dual_mono=dual_mono, decoded=decoded)
    return loudness, bs1770.true_peak(decoded[0])


def _not_a_file(path: Path) -> str:
    return f"{path}: a folder, not an audio file" if path.is_dir() else f"{path}: no such file"


def _figure(value: float, unit: str) -> str:
    return f"{value:7.2f} {unit}" if math.isfinite(value) else f"{'-inf':>7} {unit}"


def run(args: argparse.Namespace) -> int:
    missing = [path for path in args.files if not path.is_file()]
    if missing:
        raise UserError(_not_a_file(missing[0]))
    print(f"meter: {args.meter} ({METERS[args.meter]}); true peak: BS.1770-4 Annex 2, 4x")
    for path in args.files:
        loudness, peak = measure_file(path, args.meter, dual_mono=args.dual_mono)
        print(f"{_figure(loudness, 'LUFS')}  {_figure(peak, 'dBTP')}  {path}", flush=True)
    return 0

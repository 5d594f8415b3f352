"""`misme-build demo-sources SRC`: synthetic copies of every source corpus, in their real formats.

``SRC/`` holds the MiSME sources (``RAVDESS/``, ``DEAM/``, ``Soundtracks/``, see
``builders.demo.sources``), ``SRC/instrumental-mer/`` the instrumental-MER ones (DEAM with
dynamic annotations and metadata, Soundtracks sets 1 and 2, EMOPIA, the thesis-format
tracklists, a recorded Spotify cache and a review list) and ``SRC/muse-vad/`` the MuSe-style
VAD ones (a recorded Last.fm cache, a tiny NRC-VAD-format lexicon, a recorded Spotify cache,
audio named by Spotify id). ``--only`` writes one of them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from builders.demo import instrumental_sources, muse_sources, sources
from builders.errors import UserError

PARTS = ("misme", "instrumental-mer", "muse-vad")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dest", type=Path, metavar="SRC", help="folder to create")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--only", choices=PARTS, help="write only these sources (default: all three)"
    )
    parser.add_argument(
        "--clips-per-actor",
        type=int,
        default=4,
        help="MiSME: RAVDESS clips per actor, 24 actors (default 4, at most 60)",
    )
    parser.add_argument(
        "--deam", type=int, default=36, help="MiSME: number of DEAM clips (default 36)"
    )
    parser.add_argument(
        "--soundtracks",
        type=int,
        default=24,
        help="MiSME: number of Soundtracks set 1 clips (default 24)",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="parallel processes for the other two (default 1)"
    )


def run(args: argparse.Namespace) -> int:
    dest = Path(args.dest)
    if args.seed < 0:
        raise UserError(f"--seed must be a non-negative integer, got {args.seed}")
    if args.only in (None, "misme"):
        summary = sources.write_demo_sources(
            dest,
            seed=args.seed,
            clips_per_actor=args.clips_per_actor,
            n_deam=args.deam,
            n_soundtracks=args.soundtracks,
        )
        sources.print_summary(summary)
    if args.only in (None, "instrumental-mer"):
        written = instrumental_sources.write_instrumental_demo_sources(
            dest / "instrumental-mer", seed=args.seed, workers=args.workers
        )
        print(
            f"instrumental-MER sources written to {dest / 'instrumental-mer'}: "
            f"{', '.join(f'{k} {v}' for k, v in written.items() if isinstance(v, int))}"
        )
    if args.only in (None, "muse-vad"):
        written = muse_sources.write_muse_demo_sources(
            dest / "muse-vad", args.seed, workers=args.workers
        )
        print(
            f"MuSe-VAD sources written to {dest / 'muse-vad'}: {written['tracks']} tracks, "
            f"{written['audio_files']} audio files"
        )
    return 0

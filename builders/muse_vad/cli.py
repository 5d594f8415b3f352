"""The MuSe-style VAD dataset's plan options (``misme-build muse-vad plan|build``).

Tags mode (the thesis's recipe)::

    misme-build muse-vad plan --lastfm-cache CALLS.jsonl --lexicon NRC-VAD.txt \\
        [--seed-tag soundtrack] [--spotify-cache FILE] [--audio AUDIO_DIR] --out OUT

Import mode (a MuSe CSV, labels as given on Warriner's 1-9 scale)::

    misme-build muse-vad plan --muse-csv muse_v3.csv [--spotify-cache FILE] \\
        [--audio AUDIO_DIR] --out OUT

then ``misme-build muse-vad render OUT``, or ``build`` (plan + render, ``--audio`` required).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from builders.corpora.lexicons import LEXICON_FORMATS
from builders.errors import UserError
from builders.muse_vad.plan import plan_dataset, summarise

WAIT_HELP = "wait for another run on OUT to finish"


def add_plan_arguments(parser: argparse.ArgumentParser, step: str) -> None:
    """The plan's options; ``build`` requires ``--audio`` (a plan may be made without it)."""
    audio_required = step == "build"
    tags = parser.add_argument_group("tags mode (Last.fm tags -> lexicon VAD)")
    tags.add_argument(
        "--lastfm-cache",
        type=Path,
        metavar="CALLS.jsonl",
        help="Last.fm call cache (JSON Lines); missing calls are made with LASTFM_API_KEY",
    )
    tags.add_argument(
        "--lexicon", type=Path, help="your VAD lexicon: NRC-VAD v1 (.txt) or Warriner 2013 (.csv)"
    )
    tags.add_argument(
        "--lexicon-format",
        choices=LEXICON_FORMATS,
        help="lexicon format (default: detected from its header)",
    )
    tags.add_argument(
        "--seed-tag", help="Last.fm tag whose top tracks are collected (default: the recipe's)"
    )
    parser.add_argument(
        "--muse-csv", type=Path, help="import mode: a MuSe CSV (labels as given, 1-9)"
    )
    parser.add_argument(
        "--spotify-cache",
        type=Path,
        help="Spotify call cache for linking by search (missing searches are made "
        "with SPOTIPY_CLIENT_ID/SECRET)",
    )
    parser.add_argument(
        "--audio",
        type=Path,
        required=audio_required,
        help="your audio: <spotify_id>.mp3 (.wav, .flac, .m4a, .aac, .ogg, .opus, .webm) anywhere below this folder",
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument(
        "--frame-s", type=float, help="frame length in s (default: the recipe's, 15)"
    )
    parser.add_argument(
        "--recipe", type=Path, help="recipe TOML (default manifests/muse-vad-v1/recipe.toml)"
    )
    parser.add_argument("--seed", type=int, help="override the recipe's seed")
    parser.add_argument(
        "--strict", action="store_true", help="fail instead of leaving out unusable audio files"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="parallel processes (default 1; the plan probes on this machine, "
        "--engine applies to the render of `build`)",
    )
    parser.add_argument("--wait", action="store_true", help=WAIT_HELP)


def plan_from_args(args: argparse.Namespace) -> str:
    """Plan the dataset the options name (tags or import mode); the summary lines."""
    if args.lastfm_cache is None and args.muse_csv is None:
        raise UserError("give --lastfm-cache and --lexicon (tags mode) or --muse-csv (import mode)")
    plan = plan_dataset(
        out=args.out,
        lastfm_cache=args.lastfm_cache,
        lexicon=args.lexicon,
        lexicon_format=args.lexicon_format,
        muse_csv=args.muse_csv,
        spotify_cache=args.spotify_cache,
        audio=args.audio,
        recipe_path=args.recipe,
        seed=args.seed,
        seed_tag=args.seed_tag,
        frame_s=args.frame_s,
        workers=args.workers,
        strict=args.strict,
        wait=args.wait,
        force=args.force,
    )
    return summarise(plan)

"""`misme-build muse-vad plan|render|build|baselines`: the MuSe-style VAD dataset.

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

from builders.common.build_state import add_root_arguments, roots_from_options
from builders.corpora.lexicons import LEXICON_FORMATS
from builders.engine import BACKENDS, check_workers, engine_from_args
from builders.engine import add_arguments as add_engine_arguments
from builders.errors import UserError
from builders.muse_vad.plan import plan_dataset, summarise
from builders.muse_vad.render import render_dataset

WAIT_HELP = "wait for another run on OUT to finish"


def _add_plan_arguments(parser: argparse.ArgumentParser, audio_required: bool) -> None:
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
        help="your audio: <spotify_id>.mp3|.wav|.flac anywhere below this folder",
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    steps = parser.add_subparsers(dest="step", metavar="STEP", required=True)
    _add_plan_arguments(
        steps.add_parser(
            "plan",
            help="collect or import the labels, link, find "
            "the audio, frame and fold; write OUT/manifests",
        ),
        False,
    )
    render = steps.add_parser(
        "render", help="render the frames and the Hugging Face dataset from OUT/manifests"
    )
    render.add_argument("out", type=Path)
    add_engine_arguments(render)
    render.add_argument("--wait", action="store_true", help=WAIT_HELP)
    add_root_arguments(render)
    build = steps.add_parser("build", help="plan + render")
    _add_plan_arguments(build, True)
    add_root_arguments(build)
    build.add_argument(
        "--engine", choices=BACKENDS, default="local", help="where the render runs (local or ray)"
    )
    build.add_argument(
        "--ray-address", metavar="auto|HOST:PORT", help="join this Ray cluster for the render"
    )
    build.add_argument("--verbose", action="store_true", help="show Ray's own logs")
    baselines = steps.add_parser(
        "baselines",
        help="random forest vs dummy on the frames' Essentia "
        "features, out of fold, scored as the benchmark task muse-vad",
    )
    baselines.add_argument(
        "out", type=Path, help="build folder (rendered, with music-essentia features)"
    )
    baselines.add_argument(
        "--out",
        dest="submissions",
        type=Path,
        help="where prediction files go (default OUT/baselines)",
    )
    baselines.add_argument(
        "--models", default="rf,dummy", help="comma-separated rf, dummy (default both)"
    )
    baselines.add_argument("--seed", type=int, default=0, help="seed of the models' random states")
    baselines.add_argument(
        "--workers", type=int, default=1, help="CPU cores for the random forests"
    )


def _plan(args: argparse.Namespace) -> None:
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
    )
    print(summarise(plan))
    print(f"manifests written to {Path(args.out) / 'manifests'}")


def _baselines(args: argparse.Namespace) -> None:
    from builders.muse_vad.baselines import run_baselines

    result = run_baselines(
        args.out,
        submissions=args.submissions,
        models=args.models,
        workers=args.workers,
        seed=args.seed,
    )
    table = result["results"][["model", "primary_metric", "primary", "r2_valence", "r2_arousal"]]
    print(f"muse-vad (targets on the {result['scale']} scale):")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"{len(result['files'])} prediction files and results.csv in {result['submissions']}")


def run(args: argparse.Namespace) -> int:
    check_workers(args.workers)
    if args.step == "baselines":
        _baselines(args)
        return 0
    if args.step in ("plan", "build"):
        _plan(args)
        if args.step == "plan":
            return 0
    out = Path(args.out)
    summary = render_dataset(
        out,
        engine=engine_from_args(args),
        roots=roots_from_options(out, args.root, args.roots_file),
        wait=args.wait,
    )
    print(summary.text)
    return 0

"""The MiSME corpus's command-line pieces: plan options, the speech cache, ``secret-variant``.

The steps themselves are generated from ``builders.misme.dataset.DATASET``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from builders.engine import add_arguments as add_engine_arguments
from builders.engine import engine_from_args
from builders.errors import UserError
from builders.misme.plan import plan_dataset, summarise
from builders.misme.render import DEFAULT_SPEECH_CACHE_MB, check_speech_cache_mb, render_dataset
from builders.misme.secret import secret_variant, write_secret_note

SPEECH_CACHE_ENV = "MISME_SPEECH_CACHE_MB"


def _add_source_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ravdess", type=Path, required=True, help="RAVDESS root (Actor_XX/03-01-*.wav)"
    )
    parser.add_argument(
        "--deam", type=Path, help="DEAM root (MEMD_audio/*.mp3 + static annotation CSVs)"
    )
    parser.add_argument(
        "--soundtracks", type=Path, help="Soundtracks root (Set1/NNN.mp3 + mean_ratings_set1.csv)"
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--seed", type=int, help="override the recipe's seed")
    parser.add_argument(
        "--recipe", type=Path, help="recipe TOML (default manifests/misme-v2/recipe.toml)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="parallel processes (default 1; the plan always probes on this machine, "
        "--engine applies to the render of `build`)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="fail instead of skipping unusable source files"
    )
    parser.add_argument(
        "--cache-dir", type=Path, help="where probe results are cached (default OUT/.cache)"
    )
    parser.add_argument("--wait", action="store_true", help="wait for another run on OUT to finish")


def add_plan_arguments(parser: argparse.ArgumentParser, step: str) -> None:
    """The plan's options (the same for ``plan`` and ``build``)."""
    _add_source_arguments(parser)


def add_render_arguments(parser: argparse.ArgumentParser) -> None:
    """The render's own option: the decoded-speech cache."""
    parser.add_argument(
        "--speech-cache-mb",
        default=os.environ.get(SPEECH_CACHE_ENV, DEFAULT_SPEECH_CACHE_MB),
        help=f"decoded speech kept per worker, MB (default ${SPEECH_CACHE_ENV} or "
        f"{DEFAULT_SPEECH_CACHE_MB}); changes speed only, never an output byte",
    )


def render_options(args: argparse.Namespace) -> dict[str, float]:
    return {"speech_cache_mb": check_speech_cache_mb(args.speech_cache_mb)}


def plan_from_args(args: argparse.Namespace) -> str:
    """Plan the corpus the options name; the summary lines."""
    plan = plan_dataset(
        ravdess=args.ravdess,
        deam=args.deam,
        soundtracks=args.soundtracks,
        out=args.out,
        recipe_path=args.recipe,
        seed=args.seed,
        workers=args.workers,
        strict=args.strict,
        cache_dir=args.cache_dir,
        wait=args.wait,
        force=args.force,
    )
    return summarise(plan)


def add_secret_variant_arguments(secret: argparse.ArgumentParser) -> None:
    secret.add_argument("out", type=Path, help="a rendered MiSME build")
    secret.add_argument(
        "--secret-seed",
        type=int,
        required=True,
        help="the organizer's secret seed (keep it private)",
    )
    secret.add_argument("--test-folds", required=True, help="comma-separated folds to hide, e.g. 6")
    secret.add_argument("--to", type=Path, required=True, dest="dest", help="the new build folder")
    add_engine_arguments(secret)


def run_secret_variant(args: argparse.Namespace) -> int:
    try:
        folds = [int(f) for f in args.test_folds.split(",") if f.strip()]
    except ValueError:
        raise UserError(
            f"--test-folds must be comma-separated fold numbers, got {args.test_folds!r}"
        ) from None
    if args.secret_seed < 0:
        raise UserError("--secret-seed must be a non-negative integer")
    changed = secret_variant(args.out, args.dest, secret_seed=args.secret_seed, test_folds=folds)
    summary = render_dataset(args.dest, engine=engine_from_args(args))
    write_secret_note(args.dest)
    print(
        f"secret variant of {args.out} in {args.dest}: folds {changed['test_folds']} re-drawn "
        f"({changed['secret_mixes']} mixes, {changed['secret_sources']} sources); keep its manifests private"
    )
    print(summary.text)
    print(
        f"next: misme-leaderboard export-challenge CHALLENGE_DIR --dataset {args.dest} --test-folds {args.test_folds}"
    )
    return 0

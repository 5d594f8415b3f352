"""`misme-build misme plan|render|build|separate`: the MiSME corpus from the command line."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from builders.common.build_state import add_root_arguments, roots_from_options
from builders.engine import BACKENDS, check_workers, engine_from_args
from builders.engine import add_arguments as add_engine_arguments
from builders.errors import UserError
from builders.misme import separation
from builders.misme.plan import plan_corpus, summarise
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
        "--recipe", type=Path, help="recipe TOML (default manifests/misme-v1/recipe.toml)"
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


def _add_render_arguments(parser: argparse.ArgumentParser) -> None:
    add_root_arguments(parser)
    parser.add_argument(
        "--speech-cache-mb",
        default=os.environ.get(SPEECH_CACHE_ENV, DEFAULT_SPEECH_CACHE_MB),
        help=f"decoded speech kept per worker, MB (default ${SPEECH_CACHE_ENV} or "
        f"{DEFAULT_SPEECH_CACHE_MB}); changes speed only, never an output byte",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    steps = parser.add_subparsers(dest="step", metavar="STEP", required=True)
    _add_source_arguments(
        steps.add_parser("plan", help="scan sources, assign folds, write OUT/manifests")
    )
    render = steps.add_parser(
        "render",
        help="render audio and the Hugging Face dataset from OUT/manifests "
        "(rate, channels and format from the recipe)",
    )
    render.add_argument("out", type=Path)
    add_engine_arguments(render)
    render.add_argument("--wait", action="store_true", help="wait for another run on OUT to finish")
    _add_render_arguments(render)
    build = steps.add_parser("build", help="plan + render")
    _add_source_arguments(build)
    _add_render_arguments(build)
    build.add_argument(
        "--engine", choices=BACKENDS, default="local", help="where the render runs (local or ray)"
    )
    build.add_argument(
        "--ray-address", metavar="auto|HOST:PORT", help="join this Ray cluster for the render"
    )
    build.add_argument("--verbose", action="store_true", help="show Ray's own logs")
    separation.add_arguments(
        steps.add_parser(
            "separate", help="blind source separation copy of the mixes (bss variants)"
        )
    )
    secret = steps.add_parser(
        "secret-variant",
        help="a challenge's copy of OUT whose test folds are drawn from a "
        "secret seed (a standard build cannot unmask them)",
    )
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


def run(args: argparse.Namespace) -> int:
    check_workers(args.workers)
    if args.step == "separate":
        return separation.run(args)
    if args.step == "secret-variant":
        return _secret_variant(args)
    speech_cache_mb = check_speech_cache_mb(args.speech_cache_mb) if args.step != "plan" else 0.0
    if args.step in ("plan", "build"):
        plan = plan_corpus(
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
        )
        print(summarise(plan))
        print(f"manifests written to {Path(args.out) / 'manifests'}")
        if args.step == "plan":
            return 0
    out = Path(args.out)
    summary = render_dataset(
        out,
        engine=engine_from_args(args),
        speech_cache_mb=speech_cache_mb,
        roots=roots_from_options(out, args.root, args.roots_file),
        wait=args.wait,
    )
    print(summary.text)
    return 0


def _secret_variant(args: argparse.Namespace) -> int:
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

"""The toy dataset as ``misme-build`` sees it; the test registers it with
``builders.registry.register(DATASET)``."""

from __future__ import annotations

import argparse
from pathlib import Path

from builders.protocol import Dataset
from tests.builders.toy_dataset.plan import plan_dataset, summarise
from tests.builders.toy_dataset.recipe import NAME, ToyRecipe
from tests.builders.toy_dataset.render import TASKS, render_dataset
from tests.builders.toy_dataset.spec import spec_for_build


def add_plan_arguments(parser: argparse.ArgumentParser, step: str) -> None:
    """The plan's options (``step``: ``plan`` or ``build``)."""
    parser.add_argument(
        "--audio", type=Path, required=True, help="the audio files and their labels.csv"
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--recipe", type=Path, help="recipe TOML (default: the package's v1)")
    parser.add_argument("--seed", type=int, help="override the recipe's seed")
    parser.add_argument("--strict", action="store_true", help="fail on an unusable audio file")
    parser.add_argument("--workers", type=int, default=1, help="parallel processes (default 1)")


def plan_from_args(args: argparse.Namespace) -> str:
    """Plan the dataset the options name; the summary lines."""
    plan = plan_dataset(
        audio=args.audio,
        out=args.out,
        recipe_path=args.recipe,
        seed=args.seed,
        workers=args.workers,
        strict=args.strict,
        wait=args.wait,
        force=args.force,
    )
    return summarise(plan)


DATASET = Dataset(
    name=NAME,
    help="plan, render or build the toy dataset (tests only)",
    recipe=ToyRecipe,
    spec_for_build=spec_for_build,
    add_plan_arguments=add_plan_arguments,
    plan=plan_from_args,
    render=render_dataset,
    baselines=None,
    tasks=tuple(TASKS),
)

"""`misme-build <dataset> plan|render|build|baselines|...`, generated from a dataset's protocol.

Every dataset gets the same four steps (``builders.protocol.Dataset``):

- ``plan``: the dataset's own plan options, ``--wait`` and ``--force`` (a changed plan over
  a rendered build is refused without it); writes ``OUT/manifests``.
- ``render OUT``: engine options, ``--wait``, ``--root``/``--roots-file`` and the dataset's
  render options; renders the planned clips and writes the Hugging Face dataset.
- ``build``: the plan's options and the render's (those the plan does not declare itself).
- ``baselines``: the dataset's baselines step, when it has one.

and the dataset's further steps (``Dataset.steps``) after them.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from builders.common.build_state import add_root_arguments, roots_from_options
from builders.common.recipe import read_toml
from builders.engine import add_arguments as add_engine_arguments
from builders.engine import check_workers, engine_from_args
from builders.errors import UserError
from builders.protocol import Dataset, Step

WAIT_HELP = "wait for another run on OUT to finish"
FORCE_HELP = (
    "replace a rendered build whose plan changes: delete its shards, solutions, digest, card, "
    "features and resume records with the old manifests (else such a plan is refused)"
)
STEP_HELP = {
    "plan": "read the sources, deal the folds, write OUT/manifests",
    "render": "render the clips and the Hugging Face dataset from OUT/manifests",
    "build": "plan + render",
}


class _Unless:
    """A parser to which an option is added only when the parser lacks it already (``build``
    takes the plan's own ``--workers``/``--wait`` and adds the render's other options)."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.parser = parser

    def add_argument(self, *names: str, **options: Any) -> None:
        try:
            self.parser.add_argument(*names, **options)
        except argparse.ArgumentError:
            pass


def _add_render_options(parser: argparse.ArgumentParser | _Unless, dataset: Dataset) -> None:
    add_engine_arguments(parser)
    parser.add_argument("--wait", action="store_true", help=WAIT_HELP)
    add_root_arguments(parser)
    dataset.add_render_arguments(parser)


def dataset_steps(dataset: Dataset) -> list[Step]:
    """The steps of ``misme-build <dataset>``, in the order ``--help`` lists them."""
    generic = [
        Step("plan", STEP_HELP["plan"], lambda p: _plan_arguments(p, dataset, "plan"), _noop),
        Step("render", STEP_HELP["render"], lambda p: _render_arguments(p, dataset), _noop),
        Step("build", STEP_HELP["build"], lambda p: _build_arguments(p, dataset), _noop),
    ]
    extra = [dataset.baselines] if dataset.baselines else []
    return [*generic, *extra, *dataset.steps]


def _noop(args: argparse.Namespace) -> int:  # the generic steps run in run_step
    return 0


def _render_arguments(parser: argparse.ArgumentParser, dataset: Dataset) -> None:
    parser.add_argument("out", type=Path)
    _add_render_options(parser, dataset)


def _plan_arguments(parser: argparse.ArgumentParser, dataset: Dataset, step: str) -> None:
    """The dataset's plan options, with the ``--wait`` and ``--force`` every plan takes."""
    dataset.add_plan_arguments(parser, step)
    _Unless(parser).add_argument("--wait", action="store_true", help=WAIT_HELP)
    parser.add_argument("--force", action="store_true", help=FORCE_HELP)


def _build_arguments(parser: argparse.ArgumentParser, dataset: Dataset) -> None:
    _plan_arguments(parser, dataset, "build")
    _add_render_options(_Unless(parser), dataset)


def add_arguments(parser: argparse.ArgumentParser, dataset: Dataset) -> None:
    """The steps of ``dataset`` as sub-commands of ``parser``."""
    steps = parser.add_subparsers(dest="step", metavar="STEP", required=True)
    for step in dataset_steps(dataset):
        step.add_arguments(steps.add_parser(step.name, help=step.help, description=step.help))


def run(args: argparse.Namespace, dataset: Dataset) -> int:
    """Run the chosen step of ``dataset``; returns the exit status."""
    if hasattr(args, "workers"):
        check_workers(args.workers)
    if args.step not in STEP_HELP:
        chosen = {s.name: s for s in dataset_steps(dataset)}[args.step]
        return int(chosen.run(args) or 0)
    options = dataset.render_options(args) if args.step != "plan" else {}
    if args.step in ("plan", "build"):
        print(dataset.plan(args))
        print(f"manifests written to {Path(args.out) / 'manifests'}")
        if args.step == "plan":
            return 0
    out = Path(args.out)
    check_build_of(out, dataset)
    summary = dataset.render(
        out,
        engine=engine_from_args(args),
        roots=roots_from_options(out, args.root, args.roots_file),
        wait=args.wait,
        **options,
    )
    print(summary.text)
    return 0


def check_build_of(out: Path, dataset: Dataset) -> None:
    """Refuse, with the command that fits, to render a build that another dataset planned."""
    recipe = out / "manifests" / "recipe.toml"
    name = read_toml(recipe).get("name") if recipe.is_file() else dataset.name
    if name != dataset.name:
        raise UserError(
            f"{out} is a {name!r} build, not {dataset.name!r}: "
            f"run `misme-build {name} render {out}`"
        )


def runner(dataset: Dataset) -> Callable[[argparse.Namespace], int]:
    """``run`` bound to ``dataset`` (what the command line calls)."""
    return lambda args: run(args, dataset)

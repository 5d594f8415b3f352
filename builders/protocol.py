"""The dataset protocol: what every dataset package gives ``misme-build`` and the generic code.

A dataset package (``builders/<name>/``) exposes one :class:`Dataset` object,
``builders.<name>.dataset.DATASET``; ``builders.registry`` finds it by the ``name`` its
recipe gives a build, and ``misme-build <name> plan|render|build|baselines`` is generated
from it (``builders.dataset_command``), the same for every dataset. Verify, features,
digest and card read the :class:`~builders.hf.spec.DatasetSpec` that ``spec_for_build``
returns and know no dataset by name. ``builders/template/`` is a dataset to copy;
``docs/adding-a-dataset.md`` says what to fill in.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from builders.common.recipe import DatasetRecipe
from builders.engine import Engine
from builders.hf.spec import DatasetSpec

AddArguments = Callable[[argparse.ArgumentParser], None]
RunStep = Callable[[argparse.Namespace], int]


class RenderSummary(Protocol):
    """What a render returns: its lines for the command line."""

    @property
    def text(self) -> str: ...


class Render(Protocol):
    """``render_dataset(out, *, engine, roots, wait, **options)``: render the planned clips,
    then write the shards, solutions, digest and card."""

    def __call__(
        self,
        out: Path,
        *,
        engine: Engine | None = None,
        roots: Mapping[str, Path | str] | None = None,
        wait: bool = False,
        **options: Any,
    ) -> RenderSummary: ...


@dataclass(frozen=True)
class Step:
    """One ``misme-build <dataset> <name>`` step: its options and what runs them (exit status)."""

    name: str
    help: str
    add_arguments: AddArguments
    run: RunStep


def add_baseline_arguments(parser: argparse.ArgumentParser, out_help: str) -> None:
    """The options every ``baselines`` step shares: the build, where the prediction files go,
    which models, the seed of their random states."""
    parser.add_argument("out", type=Path, help=out_help)
    parser.add_argument(
        "--out",
        dest="submissions",
        type=Path,
        help="where prediction files go (default OUT/baselines)",
    )
    parser.add_argument(
        "--models", default="rf,dummy", help="comma-separated rf, dummy (default both)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the models' random states")


def no_render_options(args: argparse.Namespace) -> dict[str, Any]:
    """Render options of a dataset that has none beyond engine, roots and wait."""
    return {}


def no_arguments(parser: argparse.ArgumentParser) -> None:
    """A step or render that takes no options of its own."""


@dataclass(frozen=True)
class Dataset:
    """One dataset, as ``misme-build`` and the generic commands see it.

    - ``name``: the recipe's ``name`` and the command word (``misme-build <name> ...``);
      ``help``: one line for ``misme-build --help``.
    - ``recipe``: the recipe model (its ``load(path, seed=...)`` gives ``(recipe, path)``).
    - ``spec_for_build(out)``: the :class:`DatasetSpec` of a planned build.
    - ``add_plan_arguments(parser, step)``: the plan's options (``step`` is ``"plan"`` or
      ``"build"``: a build may require what a plan may leave out; ``--wait`` and ``--force``
      are added for every dataset); ``plan(args)`` plans into ``args.out`` under OUT's build
      lock (``args.wait``), through ``builders.common.manifest_folder.write_manifest_folder``
      (``force=args.force``), and returns the summary lines.
    - ``render``: ``render_dataset(out, *, engine, roots, wait, **options)``; its own options
      come from ``add_render_arguments`` and ``render_options(args)``.
    - ``baselines``: the ``baselines`` step (prediction files scored by ``benchmark``).
    - ``tasks``: the benchmark tasks whose solution files the build writes.
    - ``steps``: further steps of this dataset only (e.g. MiSME's ``separate``).
    """

    name: str
    help: str
    recipe: type[DatasetRecipe]
    spec_for_build: Callable[[Path], DatasetSpec]
    add_plan_arguments: Callable[[argparse.ArgumentParser, str], None]
    plan: Callable[[argparse.Namespace], str]
    render: Render
    baselines: Step | None
    tasks: tuple[str, ...]
    add_render_arguments: AddArguments = no_arguments
    render_options: Callable[[argparse.Namespace], dict[str, Any]] = no_render_options
    steps: tuple[Step, ...] = ()

    def __post_init__(self) -> None:
        if self.recipe.DATASET != self.name:
            raise ValueError(
                f"dataset {self.name!r}: its recipe model names {self.recipe.DATASET!r}"
            )
        names = ["plan", "render", "build", "baselines", *(s.name for s in self.steps)]
        if len(set(names)) != len(names):
            raise ValueError(f"dataset {self.name!r}: a step name is used twice: {names}")

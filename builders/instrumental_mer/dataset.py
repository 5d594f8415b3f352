"""The instrumental-MER dataset as a dataset of ``misme-build`` (``builders.protocol``)."""

from __future__ import annotations

from builders.instrumental_mer import baselines, cli
from builders.instrumental_mer.recipe import InstrumentalMerRecipe
from builders.instrumental_mer.render import render_dataset
from builders.instrumental_mer.spec import spec_for_build
from builders.protocol import Dataset, Step

DATASET = Dataset(
    name="instrumental-mer",
    help="plan, render, build or score baselines of the instrumental-MER dataset",
    recipe=InstrumentalMerRecipe,
    spec_for_build=spec_for_build,
    add_plan_arguments=cli.add_plan_arguments,
    plan=cli.plan_from_args,
    render=render_dataset,
    baselines=Step(
        "baselines",
        "random forest vs dummy on any feature set, per protocol (folds, loco, thesis)",
        baselines.add_arguments,
        baselines.run,
    ),
    tasks=tuple(baselines.TASKS),
)

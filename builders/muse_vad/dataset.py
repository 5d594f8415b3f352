"""The MuSe-style VAD dataset as a dataset of ``misme-build`` (``builders.protocol``)."""

from __future__ import annotations

from builders.muse_vad import baselines, cli
from builders.muse_vad.export import TASK
from builders.muse_vad.recipe import MuseVadRecipe
from builders.muse_vad.render import render_dataset
from builders.muse_vad.spec import spec_for_build
from builders.protocol import Dataset, Step

DATASET = Dataset(
    name="muse-vad",
    help="plan, render, build or score baselines of the MuSe-style VAD dataset",
    recipe=MuseVadRecipe,
    spec_for_build=spec_for_build,
    add_plan_arguments=cli.add_plan_arguments,
    plan=cli.plan_from_args,
    render=render_dataset,
    baselines=Step(
        "baselines",
        "random forest vs dummy on the frames' Essentia features, out of fold, scored as "
        "the benchmark task muse-vad",
        baselines.add_arguments,
        baselines.run,
    ),
    tasks=(TASK,),
)

"""The MiSME corpus as a dataset of ``misme-build`` (``builders.protocol``)."""

from __future__ import annotations

from builders.misme import baselines, cli, separation, study
from builders.misme.recipe import MismeRecipe
from builders.misme.render import render_dataset
from builders.misme.spec import spec_for_build
from builders.protocol import Dataset, Step

DATASET = Dataset(
    name="misme",
    help="plan, render, build, separate or score baselines of the MiSME corpus",
    recipe=MismeRecipe,
    spec_for_build=spec_for_build,
    add_plan_arguments=cli.add_plan_arguments,
    plan=cli.plan_from_args,
    render=render_dataset,
    add_render_arguments=cli.add_render_arguments,
    render_options=cli.render_options,
    baselines=Step(
        "baselines",
        "cross-validated baseline predictions for experiments A-F",
        baselines.add_arguments,
        baselines.run,
    ),
    tasks=("misme-ser", "misme-mer", "misme-ser-speech", "misme-mer-music"),
    steps=(
        Step(
            "separate",
            "blind source separation copy of the mixes (bss variants)",
            separation.add_arguments,
            separation.run,
        ),
        Step(
            "experiments",
            "the thesis's experiments in full (model families, six experiments, feature "
            "importance, top-N, Diebold-Mariano) as one report",
            study.add_arguments,
            study.run,
        ),
        Step(
            "secret-variant",
            "a challenge's copy of OUT whose test folds are drawn from a secret seed "
            "(a standard build cannot unmask them)",
            cli.add_secret_variant_arguments,
            cli.run_secret_variant,
        ),
    ),
)

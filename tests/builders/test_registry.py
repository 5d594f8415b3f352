"""The registry of datasets and the command line generated from their protocol objects."""

from __future__ import annotations

import pytest

from builders import cli, dataset_command, registry
from builders.misme.recipe import MismeRecipe
from builders.protocol import Dataset, Step

GENERIC = ["plan", "render", "build", "baselines"]


@pytest.mark.parametrize("name", list(registry.BUILT_IN))
def test_every_built_in_dataset_implements_the_protocol(name: str) -> None:
    dataset = registry.dataset(name)
    assert isinstance(dataset, Dataset) and dataset.name == name == dataset.recipe.DATASET
    assert dataset.help == registry.help_text(name)
    assert dataset.tasks and dataset.baselines is not None
    steps = [step.name for step in dataset_command.dataset_steps(dataset)]
    assert steps[:4] == GENERIC


def test_misme_keeps_its_own_steps() -> None:
    steps = [s.name for s in dataset_command.dataset_steps(registry.dataset("misme"))]
    assert steps == [*GENERIC, "separate", "experiments", "secret-variant"]


@pytest.mark.parametrize("name", list(registry.BUILT_IN))
def test_every_step_of_every_dataset_parses(name: str) -> None:
    parser = cli.build_parser([name])
    for step in dataset_command.dataset_steps(registry.dataset(name)):
        with pytest.raises(SystemExit) as leave:
            parser.parse_args([name, step.name, "--help"])
        assert leave.value.code == 0


def test_baselines_is_an_alias_of_misme_baselines() -> None:
    alias = cli.build_parser(["baselines"]).parse_args(["baselines", "OUT", "--tasks", "mer"])
    full = cli.build_parser(["misme"]).parse_args(["misme", "baselines", "OUT", "--tasks", "mer"])
    assert alias.run is registry.dataset("misme").baselines.run and full.step == "baselines"
    assert {k: v for k, v in vars(alias).items() if k not in ("command", "run")} == {
        k: v for k, v in vars(full).items() if k not in ("command", "run", "step")
    }


def test_an_unknown_dataset_is_a_user_error() -> None:
    with pytest.raises(registry.UserError, match="unknown dataset 'nope'"):
        registry.dataset("nope")


def test_a_dataset_checks_its_recipe_and_its_step_names() -> None:
    plan = Step("plan", "again", lambda parser: None, lambda args: 0)
    common = {
        "help": "",
        "recipe": MismeRecipe,
        "spec_for_build": lambda out: None,
        "add_plan_arguments": lambda parser, step: None,
        "plan": lambda args: "",
        "render": lambda out, **options: None,
        "baselines": None,
        "tasks": (),
    }
    with pytest.raises(ValueError, match="its recipe model names 'misme'"):
        Dataset(name="other", **common)
    with pytest.raises(ValueError, match="a step name is used twice"):
        Dataset(name="misme", steps=(plan,), **common)
    with pytest.raises(ValueError, match="built-in"):
        registry.register(Dataset(name="misme", **common))


def test_rendering_another_datasets_build_names_the_command_that_fits(tmp_path, capsys) -> None:
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "recipe.toml").write_text('name = "misme"\nversion = "1"\n')
    assert cli.main(["muse-vad", "render", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "a 'misme' build, not 'muse-vad'" in err and "misme-build misme render" in err

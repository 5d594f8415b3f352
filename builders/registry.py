"""The datasets ``misme-build`` knows, by the ``name`` their recipe gives a build.

A built-in dataset's module (``builders.<package>.dataset``, exposing ``DATASET``) is
imported only when that dataset is used, so a broken optional dependency of one builder
never stops another. :func:`register` adds a dataset made elsewhere (a new dataset from
``builders/template/`` before it is listed here, or a test's toy dataset).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from builders.common.recipe import read_toml
from builders.errors import UserError
from builders.hf.spec import DatasetSpec
from builders.protocol import Dataset

# name -> (module exposing DATASET, one line for `misme-build --help`)
BUILT_IN: dict[str, tuple[str, str]] = {
    "misme": (
        "builders.misme.dataset",
        "plan, render, build, separate or score baselines of the MiSME corpus",
    ),
    "instrumental-mer": (
        "builders.instrumental_mer.dataset",
        "plan, render, build or score baselines of the instrumental-MER dataset",
    ),
    "muse-vad": (
        "builders.muse_vad.dataset",
        "plan, render, build or score baselines of the MuSe-style VAD dataset",
    ),
}
_REGISTERED: dict[str, Dataset] = {}


def register(dataset: Dataset) -> None:
    """Make ``dataset`` known to ``misme-build`` and the generic commands (verify, features)."""
    if dataset.name in BUILT_IN:
        raise ValueError(f"{dataset.name!r} is a built-in dataset")
    _REGISTERED[dataset.name] = dataset


def unregister(name: str) -> None:
    """Forget a dataset :func:`register` added (nothing if it is not registered)."""
    _REGISTERED.pop(name, None)


def names() -> list[str]:
    """Every dataset's name: the built-in ones, then the registered ones."""
    return [*BUILT_IN, *sorted(_REGISTERED)]


def help_text(name: str) -> str:
    """The dataset's line for ``misme-build --help``, without importing it."""
    return BUILT_IN[name][1] if name in BUILT_IN else _REGISTERED[name].help


def dataset(name: str) -> Dataset:
    """The dataset called ``name`` (its module imported now)."""
    if name in _REGISTERED:
        return _REGISTERED[name]
    if name not in BUILT_IN:
        raise UserError(f"unknown dataset {name!r} (known: {', '.join(names())})")
    found = importlib.import_module(BUILT_IN[name][0]).DATASET
    if found.name != name:
        raise ValueError(f"{BUILT_IN[name][0]}.DATASET is named {found.name!r}, not {name!r}")
    return found


def spec_for_build(out: Path) -> DatasetSpec:
    """The :class:`DatasetSpec` of the build in ``out`` (from ``manifests/recipe.toml``)."""
    out = Path(out)
    if not out.is_dir():
        raise UserError(f"build folder not found: {out}")
    recipe = out / "manifests" / "recipe.toml"
    if not recipe.is_file():
        raise UserError(
            f"{out} is not a build folder (no manifests/recipe.toml): run the plan step first"
        )
    name = read_toml(recipe).get("name")
    if name not in names():
        raise UserError(f"{recipe}: unknown dataset name {name!r} (known: {', '.join(names())})")
    return dataset(name).spec_for_build(out)

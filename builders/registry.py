"""The datasets ``misme-build`` knows, by the ``name`` their recipe gives a build."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from builders.common.recipe import read_toml
from builders.errors import UserError
from builders.hf.spec import DatasetSpec
from builders.instrumental_mer import spec as instrumental_mer_spec
from builders.misme import spec as misme_spec
from builders.muse_vad import spec as muse_vad_spec

SPEC_OF_BUILD: dict[str, Callable[[Path], DatasetSpec]] = {
    "misme": misme_spec.spec_for_build,
    "muse-vad": muse_vad_spec.spec_for_build,
    "instrumental-mer": instrumental_mer_spec.spec_for_build,
}


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
    if name not in SPEC_OF_BUILD:
        raise UserError(
            f"{recipe}: unknown dataset name {name!r} (known: {', '.join(SPEC_OF_BUILD)})"
        )
    return SPEC_OF_BUILD[name](out)

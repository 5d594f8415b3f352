"""Recipe files: TOML read into strict pydantic models (unknown keys, wrong types and
non-finite numbers are refused, never silently replaced by defaults).

A dataset declares its recipe as a :class:`StrictModel` (tables are nested models) and
reads it with :func:`load_recipe_file`; every mistake is one :class:`UserError` line that
names the key, e.g. ``recipe: `mixing.window_s` must be a finite number, got nan``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar

import tomli_w
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from builders.errors import UserError

Model = TypeVar("Model", bound="StrictModel")

_KIND = {
    "int_type": "int",
    "int_parsing": "int",
    "float_type": "float",
    "float_parsing": "float",
    "bool_type": "bool",
    "bool_parsing": "bool",
    "string_type": "str",
    "dict_type": "a table",
    "model_type": "a table",
}


class StrictModel(BaseModel):
    """A recipe table: frozen, strict types (an int is still a valid float), no unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    def with_value(self, key: str, value: Any) -> Self:
        """A validated copy with one dotted key changed, e.g. ``with_value("mixing.pairing", "random")``."""
        data = self.model_dump()
        scope, *path = key.split(".")
        table = data
        for part in [scope, *path][:-1]:
            table = table[part]
        table[[scope, *path][-1]] = value
        return parse_recipe(type(self), data)


class DatasetRecipe(StrictModel):
    """What every dataset's recipe has: its dataset's ``name`` (checked), ``version``, ``seed``,
    and the ``[build]`` table a build's own ``manifests/recipe.toml`` adds (not a parameter).

    A dataset sets ``DATASET`` (its name and CLI word) and ``DEFAULT_FILE`` (its versioned
    recipe), redeclares ``name`` and ``seed`` with its defaults, and adds its own tables.
    """

    DATASET: ClassVar[str] = ""
    DEFAULT_FILE: ClassVar[Path | None] = None

    name: str = ""
    version: str = "1"
    seed: int = 0
    build: dict[str, Any] | None = None

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, version: object) -> str:
        return str(version)

    @field_validator("name")
    @classmethod
    def _this_dataset(cls, name: str) -> str:
        if cls.DATASET and name != cls.DATASET:
            raise ValueError(f"this is the {cls.DATASET} builder, the recipe names {name!r}")
        return name

    def to_toml(self, extra: dict | None = None) -> str:
        """The recipe as used, in the layout of the recipe files (plus ``extra`` tables)."""
        return recipe_toml(self.model_copy(update={"build": None}), extra)

    @classmethod
    def load(cls, path: Path | None = None, *, seed: int | None = None) -> tuple[Self, Path]:
        """Read and validate a recipe file (default: ``DEFAULT_FILE``); ``seed`` overrides its seed."""
        path = Path(path) if path else cls.DEFAULT_FILE
        recipe = load_recipe_file(cls, path)
        if seed is not None:
            recipe = recipe.model_copy(update={"seed": int(seed)})
        return recipe, path

    @classmethod
    def of_build(cls, out: Path) -> Self:
        """The recipe a build was planned with (``OUT/manifests/recipe.toml``).

        A missing or unreadable recipe is a user error: silently falling back to defaults
        could render a planned non-default corpus differently.
        """
        path = Path(out) / "manifests" / "recipe.toml"
        if not path.is_file():
            raise UserError(
                f"{path} not found: the plan is incomplete (re-run `misme-build {cls.DATASET} plan`)"
            )
        try:
            return load_recipe_file(cls, path)
        except UserError as error:
            raise UserError(f"cannot read {path}: {error}") from None


def read_toml(path: Path, what: str = "recipe") -> dict[str, Any]:
    """The parsed TOML file; UserError for a folder, a missing, unreadable or invalid file."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{what} is a folder, not a TOML file: {path}")
    if not path.is_file():
        raise UserError(f"{what} file not found: {path}")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise UserError(f"{what} {path} is not valid TOML: {error}") from error
    except OSError as error:
        raise UserError(f"cannot read {what} {path}: {error.strerror or error}") from error


def parse_recipe(model: type[Model], data: dict[str, Any], what: str = "recipe") -> Model:
    """Validate ``data`` against ``model``; the first problem as a one-line UserError."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise UserError(f"{what}: {_first_problem(model, error)}") from None


def load_recipe_file(model: type[Model], path: Path, what: str = "recipe") -> Model:
    """:func:`read_toml` then :func:`parse_recipe`."""
    return parse_recipe(model, read_toml(path, what), what)


def recipe_toml(recipe: StrictModel, extra: dict[str, Any] | None = None) -> str:
    """The recipe as TOML in its declared key order, plus ``extra`` tables (e.g. ``[build]``)."""
    document = recipe.model_dump(by_alias=True, exclude_none=True)
    document.update(extra or {})
    return tomli_w.dumps(document)


def _first_problem(model: type[StrictModel], error: ValidationError) -> str:
    unknown = [e for e in error.errors() if e["type"] == "extra_forbidden"]
    if unknown:
        return _unknown_keys(model, unknown)
    problem = error.errors()[0]
    key = ".".join(str(part) for part in problem["loc"])
    value = problem.get("input")
    if problem["type"] == "finite_number":
        return f"`{key}` must be a finite number, got {value!r}"
    if problem["type"] in _KIND:
        return f"`{key}` must be {_KIND[problem['type']]}, got {value!r}"
    if problem["type"] == "value_error":
        return f"`{key}`: {problem['ctx']['error']}" if key else str(problem["ctx"]["error"])
    return f"`{key}`: {problem['msg']}, got {value!r}"


def _unknown_keys(model: type[StrictModel], problems: list[dict]) -> str:
    scope = problems[0]["loc"][:-1]
    prefix = "".join(f"{part}." for part in scope)
    names = sorted(prefix + str(p["loc"][-1]) for p in problems if p["loc"][:-1] == scope)
    allowed = sorted(prefix + name for name in _fields_at(model, scope))
    return f"unknown key(s) {', '.join(names)}; allowed: {', '.join(allowed)}"


def _fields_at(model: type[BaseModel], scope: tuple) -> list[str]:
    for part in scope:
        annotation = model.model_fields[str(part)].annotation
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return [field.alias or name for name, field in model.model_fields.items()]

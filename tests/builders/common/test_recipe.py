"""Strict recipe reading: one line naming the key for every mistake, never a silent default."""

from __future__ import annotations

import pytest

from builders.common.recipe import StrictModel, load_recipe_file, parse_recipe, recipe_toml
from builders.errors import UserError


class Window(StrictModel):
    length_s: float = 4.5
    count: int = 5


class Toy(StrictModel):
    name: str = "toy"
    seed: int = 1
    window: Window = Window()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"sede": 1}, "unknown key(s) sede; allowed: name, seed, window"),
        (
            {"window": {"lenght_s": 1.0}},
            "unknown key(s) window.lenght_s; allowed: window.count, window.length_s",
        ),
        ({"seed": True}, "`seed` must be int, got True"),
        ({"seed": "5"}, "`seed` must be int, got '5'"),
        (
            {"window": {"length_s": float("nan")}},
            "`window.length_s` must be a finite number, got nan",
        ),
        (
            {"window": {"length_s": float("inf")}},
            "`window.length_s` must be a finite number, got inf",
        ),
        ({"window": 3}, "`window` must be a table, got 3"),
    ],
)
def test_mistakes_are_one_line_errors_naming_the_key(data, message):
    with pytest.raises(UserError) as caught:
        parse_recipe(Toy, data)
    assert str(caught.value) == f"recipe: {message}"


def test_an_int_is_a_valid_float_and_the_toml_keeps_the_declared_order(tmp_path):
    recipe = parse_recipe(Toy, {"seed": 7, "window": {"length_s": 4}})
    assert recipe.window.length_s == 4.0 and isinstance(recipe.window.length_s, float)
    assert recipe_toml(recipe) == 'name = "toy"\nseed = 7\n\n[window]\nlength_s = 4.0\ncount = 5\n'
    path = tmp_path / "r.toml"
    path.write_text(recipe_toml(recipe))
    assert load_recipe_file(Toy, path) == recipe
    assert recipe.with_value("window.count", 9).window.count == 9
    with pytest.raises(UserError, match="window.count"):
        recipe.with_value("window.count", "nine")


def test_files_that_are_not_recipes_are_named(tmp_path):
    with pytest.raises(UserError, match="recipe file not found"):
        load_recipe_file(Toy, tmp_path / "missing.toml")
    with pytest.raises(UserError, match="is a folder"):
        load_recipe_file(Toy, tmp_path)
    (tmp_path / "bad.toml").write_text("seed = [unclosed\n")
    with pytest.raises(UserError, match="is not valid TOML"):
        load_recipe_file(Toy, tmp_path / "bad.toml")

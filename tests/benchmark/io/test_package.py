"""The package keeps every name the repository imports from ``benchmark.io``, and the scorer
hash covers every module of it."""

from __future__ import annotations

import ast
import pkgutil
from pathlib import Path

import benchmark.io
from benchmark.version import SCORING_MODULES

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("benchmark", "builders", "leaderboard", "bench", "tests")


def _names_imported_from_the_package() -> set[str]:
    names = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.ImportFrom) and node.module == "benchmark.io":
                    names.update(alias.name for alias in node.names)
    return names


def test_every_name_the_repository_imports_is_exported():
    used = _names_imported_from_the_package() - set(_submodules())
    assert {"read_solution", "read_prediction_arrays", "DEFAULT_MAX_BYTES"} <= used
    assert used <= set(benchmark.io.__all__), used - set(benchmark.io.__all__)
    assert all(hasattr(benchmark.io, name) for name in benchmark.io.__all__)


def _submodules() -> list[str]:
    return [module.name for module in pkgutil.iter_modules(benchmark.io.__path__)]


def test_the_scorer_hash_covers_every_module_of_the_package():
    modules = {f"benchmark.io.{name}" for name in _submodules()}
    assert modules <= set(SCORING_MODULES), modules - set(SCORING_MODULES)

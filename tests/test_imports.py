"""The repository's dependency rule, read from the source (function-local imports included).
docs/architecture.md states it in prose; this is the one place it is written as data.

- ``misme_console`` (the console-exit helpers every CLI shares) imports nothing of the
  toolkit;
- ``benchmark`` imports ``benchmark`` and ``misme_console``;
- ``leaderboard`` imports ``leaderboard``, ``benchmark`` and ``misme_console``;
- ``builders`` imports ``builders`` and ``misme_console``; ``benchmark`` only from the
  dataset packages' baselines (they score their predictions with benchmark's tasks and
  scorer) and MiSME's study (its Diebold-Mariano tables), ``leaderboard`` only from ``builders.demo`` (the demo runs a challenge);
- ``bench`` (benchmark scripts) may import anything, the test helpers included; no package
  imports ``bench`` or ``tests``;
- no import cycle anywhere (the builders' own layering: tests/builders/test_imports.py).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util

import pytest

from tests.import_graph import (
    MODULES,
    PACKAGES,
    ROOT,
    cycles,
    describe_cycle,
    graph,
    imported,
    where,
)
from tests.import_graph import package_of as package

# package -> the other packages its modules may import
MAY_IMPORT: dict[str, set[str]] = {
    "misme_console": set(),
    "benchmark": {"misme_console"},
    "leaderboard": {"benchmark", "misme_console"},
    "builders": {"misme_console", "benchmark", "leaderboard"},
    "bench": {"misme_console", "benchmark", "leaderboard", "builders", "tests"},
}
# (package, imported package) -> the only modules (or packages of modules) that may import it
ONLY_FROM: dict[tuple[str, str], tuple[str, ...]] = {
    ("builders", "benchmark"): (
        "builders.misme.baselines",
        "builders.misme.study",
        "builders.instrumental_mer.baselines",
        "builders.muse_vad.baselines",
    ),
    ("builders", "leaderboard"): ("builders.demo",),
}
REPOSITORY = {*PACKAGES, "tests"}  # the top-level names that are the repository's own code


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def test_the_rule_names_every_package():
    assert set(MAY_IMPORT) == set(PACKAGES)
    assert {package(m) for m in MODULES} == set(PACKAGES)


@pytest.mark.parametrize("mine", PACKAGES)
def test_each_package_imports_only_what_the_rule_allows(mine):
    broken = []
    for module in sorted(m for m in MODULES if package(m) == mine):
        for target in sorted(imported(module)):
            theirs = package(target)
            if theirs not in REPOSITORY or theirs == mine:
                continue
            allowed = theirs in MAY_IMPORT[mine] and _within(
                module, ONLY_FROM.get((mine, theirs), (mine,))
            )
            if not allowed:
                broken.append(f"{module} imports {target} ({where(module, target)})")
    assert not broken, f"{mine} breaks the dependency rule:\n" + "\n".join(broken)


def test_the_allowed_importers_still_exist():
    for importers in ONLY_FROM.values():
        for prefix in importers:
            assert any(_within(m, (prefix,)) for m in MODULES), (
                f"{prefix} is gone: update ONLY_FROM"
            )


@pytest.mark.parametrize("mine", PACKAGES)
def test_no_import_cycle(mine):
    found = [group for group in cycles(graph()) if any(package(c[0]) == mine for c in group)]
    message = "\n\n".join(
        "import cycle among "
        + ", ".join(sorted({m for cycle in group for m in cycle}))
        + ":\n"
        + "\n".join("  " + describe_cycle(cycle) for cycle in group)
        for group in found
    )
    if found:
        pytest.fail(message, pytrace=False)


def _from_imports(path):
    """Every absolute ``from <repository module> import names`` of a file, at any depth."""
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            if package(node.module) in REPOSITORY:
                yield node.lineno, node.module, [alias.name for alias in node.names]


def test_every_import_of_the_repository_resolves():
    """A moved module or renamed name leaves no stale import behind, function-local ones
    included (they fail only when their function runs): each named module imports and has
    each imported name (as an attribute or a submodule)."""
    files = [*MODULES.values(), *sorted((ROOT / "tests").rglob("*.py"))]
    stale = []
    for path in files:
        for line, module, names in _from_imports(path):
            target = importlib.import_module(module)
            stale += [
                f"{path.relative_to(ROOT)}:{line}: {module} has no {name}"
                for name in names
                if name != "*"
                and not hasattr(target, name)
                and not (
                    hasattr(target, "__path__")
                    and importlib.util.find_spec(f"{module}.{name}") is not None
                )
            ]
    assert not stale, "\n".join(stale)

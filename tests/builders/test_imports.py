"""The builders' dependency rule, read from the source (function-local imports included).

errors <- common <- corpora, engine <- hf <- features, excerpts, protocol <- dataset packages
(and the template) <- the front (cli, registry, the generic commands, demo).
Datasets never import each other; engine and hf never import a dataset; only demo imports
the leaderboard; process and thread pools are created in builders.engine only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import builders
from builders.cli import SUBCOMMANDS
from builders.registry import BUILT_IN

ROOT = Path(builders.__file__).resolve().parent
DATASETS = {"misme", "instrumental_mer", "muse_vad", "template"}
FRONT = (
    "cli",
    "registry",
    "dataset_command",
    "verify_command",
    "features_command",
    "demo",
)  # may use one another
LAYER = {
    "errors": 0,
    "common": 1,
    "corpora": 2,
    "engine": 2,
    "hf": 3,
    "features": 4,
    "excerpts": 4,
    "protocol": 4,
    **dict.fromkeys(DATASETS, 5),
    **dict.fromkeys(FRONT, 6),
}
POOLS = ("ProcessPoolExecutor", "ThreadPoolExecutor", "multiprocessing.Pool", "threading.Thread")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def imported(name: str, path: Path) -> set[str]:
    """Every module a file imports, at any depth of its code."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1]
                    + ([base] if base else [])
                )
            found.add(base)
            found.update(
                f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULES
            )
    if name == "builders.cli":  # imported by name when the subcommand runs
        found.update(module for module, _ in SUBCOMMANDS.values())
    if name == "builders.registry":  # imported by name when the dataset is used
        found.update(module for module, _ in BUILT_IN.values())
    return {m for m in found if m}


GRAPH = {
    name: {m for m in imported(name, path) if m in MODULES and m != name}
    for name, path in MODULES.items()
}


def part(module: str) -> str:
    return module.split(".")[1] if "." in module else "builders"


def test_every_module_is_on_a_layer():
    assert {part(m) for m in MODULES} - {"builders"} <= set(LAYER)


def test_no_import_cycle_anywhere_in_builders():
    state: dict[str, str] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = "open"
        for target in sorted(GRAPH[module]):
            if state.get(target) == "open":
                cycle = (
                    trail[trail.index(target) :] + [target] if target in trail else [module, target]
                )
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, [*trail, target])
        state[module] = "done"

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])


@pytest.mark.parametrize("module", sorted(m for m in MODULES if part(m) != "builders"))
def test_imports_follow_the_dependency_rule(module):
    mine = part(module)
    for target in GRAPH[module]:
        theirs = part(target)
        if theirs == "builders" or theirs == mine or (mine in FRONT and theirs in FRONT):
            continue
        assert LAYER[theirs] < LAYER[mine], (
            f"{module} imports {target} ({theirs} is not below {mine})"
        )
        assert not (mine in DATASETS and theirs in DATASETS), (
            f"dataset {mine} imports dataset {theirs}"
        )


def test_only_demo_imports_the_leaderboard():
    users = {
        m
        for m, p in MODULES.items()
        if any(i.split(".")[0] == "leaderboard" for i in imported(m, p))
    }
    assert {part(m) for m in users} <= {"demo"}


def test_pools_are_created_in_the_engine_only():
    for module, path in MODULES.items():
        if part(module) == "engine":
            continue
        text = path.read_text()
        assert not any(pool in text for pool in POOLS), f"{module} creates its own pool or thread"


def test_the_dataset_packages_are_packages():
    assert (ROOT / "misme" / "__init__.py").is_file()
    assert not (ROOT / "misme.py").exists()

"""The builders' internal layering, read from the source (function-local imports included;
the rule between the repository's packages and the no-cycle rule: tests/test_imports.py).

errors <- common <- corpora, engine <- hf <- features, excerpts, protocol <- dataset packages
(and the template) <- the front (cli, registry, the generic commands, demo).
Datasets never import each other; engine and hf never import a dataset; process and thread
pools are created in builders.engine only.
"""

from __future__ import annotations

import pytest

from tests import import_graph

ROOT = import_graph.ROOT / "builders"
DATASETS = {"misme", "instrumental_mer", "muse_vad", "template"}
FRONT = (
    "cli",
    "registry",
    "dataset_command",
    "verify_command",
    "release_command",
    "loudness_command",
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

MODULES = sorted(m for m in import_graph.MODULES if import_graph.package_of(m) == "builders")
GRAPH = {m: {t for t in import_graph.imported(m) if t in MODULES} for m in MODULES}


def part(module: str) -> str:
    return module.split(".")[1] if "." in module else "builders"


def test_every_module_is_on_a_layer():
    assert {part(m) for m in MODULES} - {"builders"} <= set(LAYER)


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


def test_pools_are_created_in_the_engine_only():
    for module in MODULES:
        if part(module) == "engine":
            continue
        text = import_graph.MODULES[module].read_text()
        assert not any(pool in text for pool in POOLS), f"{module} creates its own pool or thread"


def test_the_dataset_packages_are_packages():
    assert (ROOT / "misme" / "__init__.py").is_file()
    assert not (ROOT / "misme.py").exists()

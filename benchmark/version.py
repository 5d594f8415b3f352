"""Which scorer computed a score: the toolkit's version and a hash of the scoring code and the
task definition, so that a stored score can be told apart from one today's code would give."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

from benchmark.tasks import Task

PACKAGE = "misme-toolkit"
# The modules whose code decides a score (their source files are hashed).
SCORING_MODULES = (
    "benchmark.errors",
    "benchmark.io.arrow",
    "benchmark.io.names",
    "benchmark.io.raw",
    "benchmark.io.diagnose",
    "benchmark.io.load",
    "benchmark.io.cells",
    "benchmark.io.join",
    "benchmark.io.groups",
    "benchmark.io.arrays",
    "benchmark.io.frames",
    "benchmark.tasks",
    "benchmark.metrics",
    "benchmark.scoring",
    "benchmark.bootstrap",
    "benchmark.scale_check",
)


def package_version() -> str:
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        return "0+unknown"


def module_file(name: str) -> Path:
    """The source file of module ``name``: the one imported in this process, else the one an
    import would load."""
    module = sys.modules.get(name)
    origin = getattr(module, "__file__", None) if module is not None else None
    if origin is None:
        spec = importlib.util.find_spec(name)
        origin = spec.origin if spec is not None else None
    if origin is None:
        raise ValueError(f"module {name} has no source file")
    return Path(origin)


def code_sha256(modules: tuple[str, ...] = SCORING_MODULES) -> str:
    """sha256 over the modules' names and source bytes, in the given order."""
    digest = hashlib.sha256()
    for name in modules:
        data = module_file(name).read_bytes()
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def task_definition(task: Task, **settings) -> dict:
    """The task as registered plus the settings that change its scores (primary metric,
    split, bootstrap), as plain JSON data."""
    return {"task": asdict(task), **settings}


def scorer_hash(definition: dict, modules: tuple[str, ...] = SCORING_MODULES) -> str:
    """sha256 of the scoring code and the task definition."""
    payload = json.dumps(definition, sort_keys=True, default=list)
    return hashlib.sha256(f"{code_sha256(modules)}\0{payload}".encode()).hexdigest()


def scorer_label(version: str | None, hash_: str | None) -> str:
    """How a scorer is shown: ``misme-toolkit 0.1.0 / 1a2b3c4d5e6f``, or "unknown"."""
    if not hash_:
        return "unknown (scored before scorer pinning)"
    return f"{PACKAGE} {version} / {hash_[:12]}"

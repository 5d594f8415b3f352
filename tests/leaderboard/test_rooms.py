"""The leaderboard's rooms and their order, read from the source (function-local imports
and imports under TYPE_CHECKING included).

errors <- challenge <- store <- scoring <- boards <- submissions <- api <- app, cli

A module imports only from its own room or a lower one; no import cycle among the
leaderboard's modules; from the rest of the toolkit only ``benchmark`` and
``misme_console``, never ``builders``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import leaderboard

ROOT = Path(leaderboard.__file__).resolve().parent
REPOSITORY = ROOT.parent
ROOMS = ("errors", "challenge", "store", "scoring", "boards", "submissions", "api", ("app", "cli"))
RANK = {
    room: rank
    for rank, rooms in enumerate(ROOMS)
    for room in (rooms if isinstance(rooms, tuple) else (rooms,))
}
TOOLKIT = {p.parent.name for p in REPOSITORY.glob("*/__init__.py")}  # first-party packages
ALLOWED_TOOLKIT = {"leaderboard", "benchmark", "misme_console"}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPOSITORY).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def imported(name: str, path: Path) -> set[str]:
    """Every module a file imports, at any depth of its code: ``from a.b import c`` is
    ``a.b.c`` when that is a leaderboard module, else ``a.b``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                kept = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(kept + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in MODULES else base)
    return found


GRAPH = {
    name: {m for m in imported(name, path) if m in MODULES and m != name}
    for name, path in MODULES.items()
}


def room(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else None  # None: the package file itself


def test_every_module_is_in_a_room() -> None:
    assert {room(name) for name in MODULES} - {None} == set(RANK)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_a_module_imports_only_its_own_room_or_lower_ones(name: str) -> None:
    own = room(name)
    if own is None:
        assert not GRAPH[name]
        return
    higher = sorted(
        m
        for m in GRAPH[name]
        if room(m) is not None and room(m) != own and RANK[room(m)] >= RANK[own]
    )
    assert not higher, f"{name} ({own}) imports from a room that is not lower: {higher}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_the_toolkit_imported_is_benchmark_and_misme_console_only(name: str) -> None:
    toolkit = {m.split(".")[0] for m in imported(name, MODULES[name])} & TOOLKIT
    assert toolkit <= ALLOWED_TOOLKIT, f"{name} imports {sorted(toolkit - ALLOWED_TOOLKIT)}"
    assert "builders" not in toolkit


def test_no_import_cycle_among_the_leaderboards_modules() -> None:
    state: dict[str, str] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = "open"
        for other in sorted(GRAPH[name]):
            if state.get(other) == "open":
                cycle = trail[trail.index(other) :] + [name, other]
                pytest.fail(f"import cycle: {' -> '.join(cycle)}")
            if other not in state:
                visit(other, [*trail, name] if other not in trail else trail)
        state[name] = "done"

    for name in sorted(GRAPH):
        if name not in state:
            visit(name, [])


def test_the_reader_finds_function_local_imports() -> None:
    """The cycle this layout removed was hidden in function-local imports: the reader
    must see them (boards.ranking's are at top level now; the sandbox's warm import too)."""
    assert "leaderboard.scoring.request" in GRAPH["leaderboard.boards.ranking"]
    assert "leaderboard.challenge.config" in GRAPH["leaderboard.scoring.request"]  # local
    assert "leaderboard.scoring.worker" in GRAPH["leaderboard.scoring.zygote"]  # local

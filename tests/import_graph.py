"""The repository's import graph, read from the source: every module of the toolkit's
packages and of bench/, and every module each one imports at any depth of its code
(function-local and ``TYPE_CHECKING`` imports included).

``from pkg import name`` is an import of the submodule ``pkg.name`` when there is one (of
``pkg`` itself when a name is not a submodule); ``import a.b`` of ``a.b``. A module that
imports modules by name at run time (``importlib.import_module``) imports every toolkit
module it names in a string (the subcommand table of ``builders.cli``). bench/ scripts
import one another by their file name (``from _args import ...``); so do they here.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("misme_console", "benchmark", "leaderboard", "builders", "bench")
SCRIPT_DIRS = ("bench",)  # folders of scripts that import one another by file name


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {
    module_name(path): path
    for package in PACKAGES
    for path in sorted((ROOT / package).rglob("*.py"))
}


def package_of(module: str) -> str:
    """The top-level package of a module name (``tests`` for ``tests.clips``)."""
    return module.split(".")[0]


def _resolved(importer: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module of a ``from ... import`` statement."""
    base = node.module or ""
    if not node.level:
        return base
    package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
    return ".".join(parts + ([base] if base else []))


def _script_module(importer: str, name: str) -> str:
    """``name`` as imported by a script of bench/: a sibling script by its file name."""
    folder = importer.split(".")[0]
    if folder in SCRIPT_DIRS and f"{folder}.{name.split('.')[0]}" in MODULES:
        return f"{folder}.{name}"
    return name


def _names_in_strings(tree: ast.AST) -> dict[str, int]:
    """Toolkit modules named in string constants of a module that imports by name, with the
    line of each."""
    calls = {
        node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
    }
    if "import_module" not in calls:
        return {}
    return {
        node.value: node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in MODULES
    }


@cache
def import_lines(module: str) -> dict[str, int]:
    """Every module ``module`` imports (toolkit, bench, tests or third-party), at any depth,
    with the line of its first import."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))
    found: dict[str, int] = {}
    for node in ast.walk(tree):
        names: set[str] = set()
        if isinstance(node, ast.Import):
            names = {_script_module(module, alias.name) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = _script_module(module, _resolved(module, path, node))
            names = {f"{base}.{alias.name}" for alias in node.names} & MODULES.keys()
            if len(names) < len(node.names):
                names.add(base)
        for name in names:
            found[name] = min(found.get(name, node.lineno), node.lineno)
    for name, line in _names_in_strings(tree).items():
        found.setdefault(name, line)
    found.pop(module, None)
    found.pop("", None)
    return found


def imported(module: str) -> set[str]:
    """Every module ``module`` imports (toolkit, bench, tests or third-party), at any depth."""
    return set(import_lines(module))


def where(module: str, target: str) -> str:
    """``path:line`` of ``module``'s import of ``target``."""
    return f"{MODULES[module].relative_to(ROOT)}:{import_lines(module)[target]}"


def graph() -> dict[str, set[str]]:
    """Module -> the modules of the repository's packages it imports."""
    return {module: {m for m in imported(module) if m in MODULES} for module in MODULES}


def cycles(edges: dict[str, set[str]]) -> list[list[list[str]]]:
    """The import cycles: for each strongly connected group of modules, the shortest cycle
    (``[a, b, ..., a]``) through each of its modules, each cycle once."""
    found = []
    for group in _strongly_connected(edges):
        if len(group) == 1:
            continue
        through: dict[frozenset, list[str]] = {}
        for module in sorted(group):
            cycle = _cycle_through(module, group, edges)
            through.setdefault(frozenset(zip(cycle, cycle[1:], strict=False)), cycle)
        found.append(list(through.values()))
    return sorted(found)


def describe_cycle(cycle: list[str]) -> str:
    """``a -> b (a.py:12) -> a (b.py:40)``."""
    steps = [cycle[0]]
    steps += [f"{b} ({where(a, b)})" for a, b in zip(cycle, cycle[1:], strict=False)]
    return " -> ".join(steps)


def _strongly_connected(edges: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(edges[target]))))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                groups.append(group)
    return groups


def _cycle_through(start: str, group: set[str], edges: dict[str, set[str]]) -> list[str]:
    """The shortest cycle through ``start`` within its group, by breadth-first search."""
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for target in sorted(edges[node] & group):
                if target == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [*reversed(path), start]
                if target not in came_from:
                    came_from[target] = node
                    following.append(target)
        frontier = following
    raise AssertionError(f"no cycle through {start}")

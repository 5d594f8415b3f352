"""Every command line the README and docs/ show parses with today's command-line parsers.

Commands are read from shell code blocks and inline code; placeholders (``...``) and
``[a | b]`` alternatives are normalised first. Make targets and bench scripts must exist.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PROGS = ("misme-build", "misme-score", "misme-leaderboard")
INLINE = re.compile(r"`((?:misme-build|misme-score|misme-leaderboard|python bench/)[^`]*)`")


def shown_commands(text: str) -> list[str]:
    """The command lines of shell code blocks (continuations joined) and inline code."""
    found, in_block, language = [], False, ""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            in_block, language = not in_block, line[3:].strip()
        elif in_block and language in ("", "sh", "bash", "console"):
            while line.rstrip().endswith("\\") and i + 1 < len(lines):
                i += 1
                line = line.rstrip()[:-1] + " " + lines[i].strip()
            code = re.split(r"\s{2,}#\s", line)[0].split("&&")[-1].strip()
            if code.startswith((*PROGS, "python bench/", "make ")):
                found.append(code)
        elif not in_block:
            found += INLINE.findall(line)
        i += 1
    return found


def argv_of(code: str) -> list[str]:
    code = code.replace("<published sha256>", "a" * 64).replace('"..."', '"a note"')
    code = code.replace("<name>", "toy").replace("<dataset>", "misme")
    code = re.sub(r"\[([^\[\]]*?)\s*\|[^\[\]]*\]", r"\1", code)  # [a | b] -> a
    code = re.sub(r"(\w)\|[\w|]+", r"\1", code.replace("[", "").replace("]", ""))  # a|b -> a
    return shlex.split(code.split("...")[0])


def parser_for(prog: str, rest: list[str]):
    if prog == "misme-build":
        from builders.cli import build_parser

        return build_parser(rest)
    if prog == "misme-score":
        from benchmark.cli import build_parser

        return build_parser()
    from leaderboard.cli import build_parser

    return build_parser()


def parses(argv: list[str], complete: bool) -> str | None:
    """None when ``argv`` parses (or, for a partial command, its subcommand path exists)."""
    prog, rest = argv[0], argv[1:]
    if not complete:
        rest = [w for w in rest if not w.startswith("-")][:2] + ["--help"]
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            parser_for(prog, rest).parse_args(rest)
    except SystemExit as exit_:
        if exit_.code not in (0, None):
            return stderr.getvalue().strip().splitlines()[-1:]
    return None


@pytest.fixture(autouse=True)
def toy_dataset():
    """docs/adding-a-dataset.md shows the toy dataset's commands: it is registered as its
    own test registers it."""
    from builders import registry
    from tests.builders.toy_dataset.dataset import DATASET

    registry.register(DATASET)
    yield
    registry.unregister(DATASET.name)


CASES = [(doc, code) for doc in DOCS for code in shown_commands(doc.read_text())]


def test_the_docs_show_commands():
    assert len(CASES) > 40


@pytest.mark.parametrize("doc,code", CASES, ids=[f"{d.name}:{c[:60]}" for d, c in CASES])
def test_a_shown_command_parses(doc: Path, code: str):
    if code.startswith("make "):
        target = code.split()[1]
        assert re.search(rf"^{re.escape(target)}:", (ROOT / "Makefile").read_text(), re.M), code
        return
    if code.startswith("python bench/"):
        assert (ROOT / code.split()[1]).is_file(), code
        return
    argv = argv_of(code)
    words = argv[1:]
    mention = all(w.isidentifier() or re.fullmatch(r"[a-z-]+", w) for w in words)
    complete = "..." not in code.replace('"..."', "") and not mention
    problem = parses(argv, complete)
    assert problem is None, f"{doc.name}: {code}\n{problem}"

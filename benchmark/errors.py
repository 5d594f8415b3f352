"""User-facing errors of the benchmark (the CLI prints ``str(error)`` and exits 2), and how
the console scripts end: on a termination signal (:class:`Interrupted`) and at exit (:func:`leave`)."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn


class BenchmarkError(Exception):
    """A problem the user can fix (bad file, unknown task, bad option); ``str()`` says what."""


@dataclass(frozen=True)
class Problem:
    """One problem found in a prediction file.

    ``row`` is the 1-based *data* row: row 1 is the first record after the header
    (line 2 of a plain CSV file; blank lines are not counted), and Parquet record 0 is
    row 1. ``None`` when the
    problem concerns the whole file or a column. ``column`` is the column name, or None.
    """

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            column = (
                self.column
                if len(self.column) <= 60
                else f"{self.column[:60]}... ({len(self.column):,} characters)"
            )
            where.append(f"column '{column}'")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class InvalidSubmission(BenchmarkError):
    """A prediction file that cannot be scored; ``problems`` lists every problem found (capped).

    ``total`` is the number of problems found before capping.
    """

    def __init__(self, source: str, problems: list[Problem], total: int | None = None):
        self.source = source
        self.problems = sorted(problems, key=lambda p: (p.row is not None, p.row or 0))
        self.total = len(self.problems) if total is None else total
        super().__init__(self._render())

    def _render(self) -> str:
        noun = "problem" if self.total == 1 else "problems"
        lines = [f"{source_label(self.source)}: {self.total} {noun} found; nothing was scored"]
        lines += [f"  - {problem}" for problem in self.problems]
        if self.total > len(self.problems):
            lines.append(f"  ... and {self.total - len(self.problems)} more (list capped)")
        return "\n".join(lines)


def source_label(source: str) -> str:
    return source or "<predictions>"


class Interrupted(BaseException):
    """SIGINT or SIGTERM, raised in the main thread so that ``finally`` and ``with`` clean-ups run.

    A BaseException, like KeyboardInterrupt, so that ``except Exception`` never swallows it.
    """

    def __init__(self, signum: int):
        self.signum = signum
        self.exit_code = 128 + signum  # what a shell reports for a process the signal killed
        super().__init__(signal.Signals(signum).name)


TERMINATION_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def raise_on_termination() -> None:
    """Turn the first SIGINT/SIGTERM into :class:`Interrupted`; a second one leaves at once."""

    def interrupt(signum: int, _frame) -> None:
        for number in TERMINATION_SIGNALS:
            signal.signal(number, lambda again, _f: leave(128 + again))
        raise Interrupted(signum)

    for number in TERMINATION_SIGNALS:
        signal.signal(number, interrupt)


def leave(code: int) -> NoReturn:
    """Flush stdout and stderr, then end the process without interpreter finalisation.

    Finalisation can abort ("terminate called without an active exception", exit 134)
    when it destroys Arrow's thread pool while a worker thread is still joinable
    (apache/arrow#34314); everything this process had to write is written by now.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can reach it
            pass
    os._exit(code)


def run_console_script(prog: str, body: Callable[[], int]) -> NoReturn:
    """Run a console script's ``body`` with SIGINT/SIGTERM as :class:`Interrupted`, then
    :func:`leave` with its exit status (130/143 and one line when interrupted)."""
    raise_on_termination()
    try:
        code = body()
    except SystemExit as exiting:  # argparse's --help and usage errors
        code = _exit_status(exiting)
    except (KeyboardInterrupt, Interrupted) as interruption:
        code = getattr(interruption, "exit_code", 128 + signal.SIGINT)
        name = "Ctrl-C" if code == 128 + signal.SIGINT else signal.Signals(code - 128).name
        print(f"{prog}: interrupted ({name})", file=sys.stderr)
    leave(code)


def _exit_status(exiting: SystemExit) -> int:
    if exiting.code is None or isinstance(exiting.code, int):
        return exiting.code or 0
    print(exiting.code, file=sys.stderr)
    return 1


def internal_error(prog: str, error: Exception) -> int:
    """One line and exit status 1 for a bug of ours; with MISME_DEBUG set, re-raise it
    so that the traceback shows."""
    if os.environ.get("MISME_DEBUG"):
        raise error
    print(
        f"{prog}: internal error ({type(error).__name__}: {error}); please report it "
        "(set MISME_DEBUG=1 for a traceback)",
        file=sys.stderr,
    )
    return 1

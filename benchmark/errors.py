"""User-facing errors of the benchmark: the CLI prints ``str(error)`` and exits 2."""

from __future__ import annotations

from dataclasses import dataclass


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

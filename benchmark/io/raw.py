"""A file's columns as read, and the problems found in it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from benchmark.errors import Problem

MAX_PROBLEMS = 50


class Problems:
    """Collects problems up to a cap, counting all of them."""

    def __init__(self, cap: int = MAX_PROBLEMS):
        self.cap, self.items, self.total = cap, [], 0

    def add(self, row: int | None, column: str | None, message: str) -> None:
        self.total += 1
        if len(self.items) < self.cap:
            self.items.append(Problem(row, column, message))

    def add_rows(
        self, rows: np.ndarray, column: str | None, describe: Callable[[int], str]
    ) -> None:
        """Add one problem per row number in ``rows``; ``describe(i)`` gets the array index."""
        for index in rows[: max(self.cap - len(self.items), 0)]:
            self.items.append(Problem(int(index) + 1, column, describe(int(index))))
        self.total += len(rows)

    def __bool__(self) -> bool:
        return self.total > 0


@dataclass
class Raw:
    """A file's columns as Arrow arrays; ``rows[i]`` is the row number of record i."""

    columns: list[str]
    arrays: list[pa.Array | pa.ChunkedArray]
    rows: np.ndarray
    parquet: bool = False  # typed columns, as the file stores them (CSV: text)
    # Parquet: the group and breakdown columns as read, when dictionary-encoded (by index)
    encoded: dict[int, pa.DictionaryArray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows)


class Fatal(Exception):
    """The file cannot be read at all; carries the problem."""

    def __init__(self, message: str, row: int | None = None):
        super().__init__(message)
        self.problem = Problem(row, None, message)

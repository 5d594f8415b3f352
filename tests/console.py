"""What a console command told the user, without its progress bars."""

from __future__ import annotations

import re

PROGRESS_BAR = re.compile(r"^[^:\n]*: *\d+%\|")  # tqdm's "label:  42%|████ ..." frames


def message_lines(stderr: str) -> list[str]:
    """The non-empty lines of ``stderr`` that are not tqdm progress-bar frames."""
    return [
        line
        for line in re.split(r"[\r\n]+", stderr)
        if line.strip() and not PROGRESS_BAR.match(line)
    ]

"""Loading a file's bytes within the size cap."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_reading_a_small_file_does_not_allocate_the_whole_size_cap(tmp_path) -> None:
    """The scoring worker runs under a memory limit: reading a 1 kB file with a 4 GB cap must
    not ask for 4 GB (it did, and every leaderboard submission ran out of memory)."""
    path = tmp_path / "small.bin"
    path.write_bytes(b"x" * 1000)
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from benchmark.io.load import read_capped\n"
        f"with open({str(path)!r}, 'rb') as h:\n"
        "    data = read_capped(h, 1000, 4_000_000_001)\n"
        "assert len(data) == 1000, len(data)\n"
        f"with open({str(path)!r}, 'rb') as h:\n"
        "    assert len(read_capped(h, 10, 4_000_000_001)) == 1000  # stat() said less\n"
        f"with open({str(path)!r}, 'rb') as h:\n"
        "    assert len(read_capped(h, 1000, 501)) == 501  # the cap wins\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr

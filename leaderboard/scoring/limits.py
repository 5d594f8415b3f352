"""The scoring worker's limits: its environment (one thread per library, the system
allocator), its address-space and CPU-time limits, and how running out of memory is told
from other failures. Used by the worker itself and by whoever supervises it."""

from __future__ import annotations

import math
import os
import resource
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the folder that holds the leaderboard package
NEAR_LIMIT_SHARE = 0.9  # of the memory limit: a worker that failed that far up ran out
CPU_LIMIT_FACTOR = 2  # x the time limit: one thread cannot use more CPU than wall-clock time


# Each default left here reserves address space that RLIMIT_AS counts, and some reserve
# more the higher the limit: with Arrow's jemalloc pool and a malloc arena per thread,
# a tiny file peaked at 1.8 GB under no limit, scored under 1000 MB and ran out under
# 1500 MB; BLAS thread start-up under a tight limit could spin until the time limit.
# With these, a small file peaks at ~500 MB whatever the limit (docs/threat-model.md).
WORKER_ENV = {
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "BLIS_NUM_THREADS": "1",
    "NUMEXPR_NUM_THREADS": "1",
    "VECLIB_MAXIMUM_THREADS": "1",
    "ARROW_IO_THREADS": "1",
    "ARROW_DEFAULT_MEMORY_POOL": "system",
    "MALLOC_ARENA_MAX": "2",
}


OUT_OF_MEMORY_MARKERS = (
    "memoryerror",
    "bad_alloc",
    "cannot allocate memory",
    "failed to map segment",
    "out of memory",
)


def child_env() -> dict[str, str]:
    """The environment a worker (or the warm zygote) is started with: this process's, with
    :data:`WORKER_ENV` and this toolkit first on ``PYTHONPATH``."""
    env = {**os.environ, **WORKER_ENV}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


def limit_resources(memory_limit_mb: int | None, time_limit_s: float) -> MemoryError | None:
    """RLIMIT_AS (None: no memory limit, for measuring) and RLIMIT_CPU; a MemoryError when
    the loaded libraries alone already take the memory limit."""
    cpu = math.ceil(CPU_LIMIT_FACTOR * time_limit_s) + 10
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    if memory_limit_mb is None:
        return None
    in_use = address_space_mb("VmSize") or 0
    if in_use >= memory_limit_mb:
        return MemoryError(f"the libraries alone take {in_use:.0f} MB")
    limit = int(memory_limit_mb) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return None


def near_limit(peak_mb: float | None, memory_limit_mb: int | None) -> bool:
    return (
        bool(memory_limit_mb)
        and peak_mb is not None
        and peak_mb >= NEAR_LIMIT_SHARE * memory_limit_mb
    )


def is_out_of_memory(error: BaseException | None) -> bool:
    """A MemoryError in the exception's chain, or a library that could not be mapped."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, MemoryError):
            return True
        if isinstance(error, ImportError | OSError) and mentions_out_of_memory(str(error)):
            return True
        error = error.__cause__ or error.__context__
    return False


def mentions_out_of_memory(text: str) -> bool:
    return any(marker in text.lower() for marker in OUT_OF_MEMORY_MARKERS)


def out_of_memory_message(memory_limit_mb: int | None) -> str:
    return f"scoring ran out of memory (limit {memory_limit_mb} MB)"


def address_space_mb(field: str = "VmPeak", pid: int | str = "self") -> float | None:
    """VmPeak (the most address space a process held, what RLIMIT_AS bounds) or VmSize."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return None

"""The scoring child process: `python -m leaderboard.scoring.worker REQUEST.json`.

It is the only place that reads the solution labels. It validates and scores the
prediction file on the phase's public and private ids, and writes into the
request's `out_dir`: one `losses-<subset>.npy` per subset (float64, ids in sorted
order) and `replicates-<subset>.npy` (the primary metric on each bootstrap resample),
then `result.json` (status, message, metrics, details, bootstrap interval, the scorer's
version and hash, the solution file's sha256, and the address space
the libraries took and the most it took in all, `libraries_mb` and `peak_mb`),
renamed into place last so that its presence means the outcome is complete.
Anything that goes wrong becomes a status and a message, never a score.

Limits: the parent starts it with :data:`leaderboard.scoring.limits.WORKER_ENV`; it loads every library (and starts
Arrow's threads, see :func:`load_libraries`), then limits its own address space
(RLIMIT_AS) and CPU time (a backstop; the parent enforces the wall-clock time limit),
so that a limit too small fails the same way every time: "ran out of memory". It ends when its
parent dies (parent-death signal on Linux, and a thread that watches the parent's pid),
removing `out_dir`, which its dead parent can no longer remove.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from leaderboard.scoring.limits import (
    address_space_mb,
    is_out_of_memory,
    limit_resources,
    mentions_out_of_memory,
    near_limit,
    out_of_memory_message,
)
from leaderboard.scoring.request import ScoringRequest
from leaderboard.scoring.result import ScoringResult, SubsetScores

MAX_PROBLEMS_SHOWN = 20
MAX_SCATTER_POINTS = 2000
PARENT_POLL_S = 0.5
TEST_DELAY_ENV = "MISME_TEST_WORKER_DELAY_S"  # tests only: sleep before scoring


def main(argv: list[str] | None = None) -> int:
    request_path = Path((argv or sys.argv[1:])[0])
    request = ScoringRequest.from_json(request_path.read_text(encoding="utf-8"))
    out_dir = Path(request.out_dir)
    follow_parent(int(request.parent_pid), out_dir)
    problem = load_libraries()
    libraries_mb = address_space_mb("VmSize")
    problem = problem or limit_resources(request.memory_limit_mb, float(request.time_limit_s))
    result = evaluate_safely(request, out_dir, problem)
    write_result(out_dir, replace(result, libraries_mb=libraries_mb))
    return 0


def follow_parent(parent_pid: int, out_dir: Path) -> None:
    """Leave (removing `out_dir`) on SIGTERM/SIGINT and as soon as the parent is gone."""
    signal.signal(signal.SIGTERM, lambda *_: abandon(out_dir, 128 + signal.SIGTERM))
    signal.signal(signal.SIGINT, lambda *_: abandon(out_dir, 128 + signal.SIGINT))
    _set_parent_death_signal(signal.SIGTERM)
    if os.getppid() != parent_pid:  # it died before the death signal was set
        abandon(out_dir, 128 + signal.SIGTERM)
    threading.stack_size(256 * 1024)  # the watchdog's stack counts against RLIMIT_AS too
    threading.Thread(target=_watch_parent, args=(parent_pid, out_dir), daemon=True).start()
    threading.stack_size(0)


def _set_parent_death_signal(signum: int) -> None:
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signum), 0, 0, 0)


def _watch_parent(parent_pid: int, out_dir: Path) -> None:
    # The fallback where there is no death signal, or its handler cannot run.
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_S)
    abandon(out_dir, 128 + signal.SIGTERM)


def abandon(out_dir: Path, code: int) -> None:
    from misme_console import leave

    shutil.rmtree(out_dir, ignore_errors=True)
    leave(code)


def load_libraries() -> Exception | None:
    """Import every library scoring needs and start Arrow's threads, before the limits.

    Under RLIMIT_AS a thread whose stack cannot be mapped fails to start, and Arrow's
    scanner then waits for ever on the task it could not hand over (a hang, not an
    error); threads started here are kept by Arrow's pools. The imports' own address
    space still counts against the limit set afterwards.
    """
    try:
        import scipy.special  # noqa: F401 - what benchmark.metrics imports on first use

        import benchmark.io  # noqa: F401 - numpy, pandas, pyarrow
        import benchmark.scoring  # noqa: F401
        import leaderboard.challenge.splits  # noqa: F401

        _start_arrow_threads()
    except Exception as error:  # noqa: BLE001 - reported as the submission's outcome
        return error
    return None


def _start_arrow_threads() -> None:
    import io

    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    pa.set_cpu_count(1)
    pa.set_io_thread_count(1)
    buffer = io.BytesIO()
    pq.write_table(pa.table({"id": ["a", "b"]}), buffer)
    pq.read_table(pa.BufferReader(buffer.getvalue()), use_threads=True)
    pa_csv.read_csv(pa.BufferReader(b"id\na\n"))


def evaluate_safely(
    request: ScoringRequest, out_dir: Path, problem: Exception | None = None
) -> ScoringResult:
    try:
        if problem is not None:
            raise problem
        time.sleep(float(os.environ.get(TEST_DELAY_ENV, "0")))
        result = evaluate(request, out_dir)
    except Exception as error:  # noqa: BLE001 - every failure becomes a status, never a traceback
        if ran_out_of_memory(error, request.memory_limit_mb):
            result = ScoringResult.failed(out_of_memory_message(request.memory_limit_mb))
        else:
            result = _failure(error)
    return replace(result, peak_mb=address_space_mb())


def ran_out_of_memory(error: Exception, memory_limit_mb: int | None) -> bool:
    """Whether a failure was the memory limit's doing. Out of memory, libraries fail in
    many ways (MemoryError; Arrow's error wrapped as 'not a readable file'; OpenSSL's
    ValueError 'not able to copy ctx'; ...): any failure other than a file's problems
    with its rows or columns counts, once the address space came near the limit."""
    from benchmark.errors import BenchmarkError, InvalidSubmission

    if is_out_of_memory(error):
        return True
    if isinstance(error, InvalidSubmission) and any(
        problem.row is not None or problem.column is not None for problem in error.problems
    ):
        return False
    if isinstance(error, BenchmarkError) and mentions_out_of_memory(str(error)):
        return True
    return near_limit(address_space_mb(), memory_limit_mb)


def write_result(out_dir: Path, result: ScoringResult) -> None:
    partial = out_dir / "result.json.partial"
    partial.write_text(result.to_json(), encoding="utf-8")
    partial.replace(out_dir / "result.json")


def _failure(error: Exception) -> ScoringResult:
    from benchmark.errors import BenchmarkError, InvalidSubmission

    if isinstance(error, InvalidSubmission):
        return ScoringResult("invalid", _problems_message(error))
    if isinstance(error, BenchmarkError):
        return ScoringResult("invalid", str(error).splitlines()[0])
    # The exception text could quote solution values: report only its type.
    return ScoringResult.failed(f"scoring failed ({type(error).__name__})")


def _problems_message(error) -> str:
    # Problems about rows of the file first; long runs of missing ids after them.
    problems = sorted(error.problems, key=lambda problem: "has no prediction" in problem.message)
    shown = [str(problem) for problem in problems[:MAX_PROBLEMS_SHOWN]]
    more = error.total - len(shown)
    noun = "problem" if error.total == 1 else "problems"
    lines = [f"{error.total} {noun} found; nothing was scored", *(f"- {p}" for p in shown)]
    if more > 0:
        lines.append(f"... and {more} more")
    return "\n".join(lines)


def file_sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def evaluate(request: ScoringRequest, out_dir: Path) -> ScoringResult:
    import numpy as np

    from benchmark.io import read_predictions, read_solution
    from benchmark.tasks import get_task
    from leaderboard.challenge.splits import ids_digest, public_mask

    task = get_task(request.task)
    solution_path = Path(request.solution)
    solution = _phase_rows(read_solution(solution_path, task, group_columns=True), request.folds)
    predictions = read_predictions(
        Path(request.predictions), solution, task, max_bytes=int(request.max_bytes)
    )
    public = public_mask(solution, float(request.public_fraction), int(request.seed))
    subsets: dict[str, SubsetScores] = {}
    for subset, mask in (("public", public), ("private", ~public)):
        if not mask.any():
            continue
        order = np.argsort(solution["id"].to_numpy()[mask].astype(str), kind="stable")
        sub_solution = solution[mask].iloc[order].reset_index(drop=True)
        sub_predictions = predictions[mask].iloc[order].reset_index(drop=True)
        scored, losses, replicates = _score_subset(sub_solution, sub_predictions, task, request)
        np.save(out_dir / f"losses-{subset}.npy", losses)
        if replicates is not None:
            np.save(out_dir / f"replicates-{subset}.npy", replicates)
        subsets[subset] = SubsetScores(
            **scored, ids_sha256=ids_digest(sub_solution["id"]), n_ids=int(len(sub_solution))
        )
    return ScoringResult(
        "scored",
        _scored_message(predictions, solution, task),
        subsets=subsets,
        scorer=request.scorer(),
        solution_sha256=file_sha256(solution_path),
    )


def _scored_message(predictions, solution, task) -> str:
    """ "scored", with a warning when most predicted values lie outside the labels' range
    (a file on another scale: it is scored as it is)."""
    from benchmark.scale_check import off_scale_warning

    if task.kind != "regression":
        return "scored"
    scale = str(solution["scale"].iloc[0]) if "scale" in solution.columns else None
    values = predictions[list(task.targets)].to_numpy(dtype=float)
    warning = off_scale_warning(values, task, scale)
    return "scored" if warning is None else f"scored; warning: {warning}"


def _phase_rows(solution, folds):
    if folds is None:
        return solution.reset_index(drop=True)
    return solution[solution["fold"].isin(folds)].reset_index(drop=True)


def _score_subset(solution, predictions, task, request: ScoringRequest) -> tuple[dict, Any, Any]:
    """The subset's scores (the fields of a SubsetScores but the ids), per-id losses and
    bootstrap replicates (None without resamples)."""
    import numpy as np

    from benchmark.scoring import _json_safe, score

    report = score(
        predictions,
        solution,
        task,
        n_resamples=int(request.bootstrap_resamples),
        seed=int(request.bootstrap_seed),
        metric=request.primary_metric or task.primary_metric,
    )
    losses = report.per_id_loss.reindex(solution["id"]).to_numpy(dtype=np.float64)
    details = {
        "per_fold": _per_fold(report.per_fold),
        "fold_summary": _json_safe({"mean": report.fold_mean, "sd": report.fold_sd}),
        "per_group": _json_safe(report.per_group),
    }
    if task.kind == "classification":
        details["confusion"] = {
            "labels": report.extras["labels"],
            "matrix": report.extras["confusion_matrix"],
        }
        details["per_class"] = _json_safe(report.extras["per_class"])
    else:
        details["scatter"] = _scatter(solution, predictions, task)
    scores = {
        "metrics": _finite(report.pooled),
        "primary": float(report.primary),
        "details": details,
        "bootstrap": _json_safe(report.bootstrap),
    }
    return scores, losses, report.replicates


def _finite(metrics: dict[str, float]) -> dict[str, float]:
    return {str(k): float(v) for k, v in metrics.items() if v is not None and v == v}


def _per_fold(per_fold: dict[int, dict[str, float]]) -> list[dict[str, float]]:
    return [{"fold": int(fold), **_finite(values)} for fold, values in sorted(per_fold.items())]


def _scatter(solution, predictions, task) -> dict[str, dict[str, list[float]]]:
    """Predicted-vs-true pairs per target, sorted by value so that no id order survives."""
    import numpy as np

    step = max(1, len(solution) // MAX_SCATTER_POINTS)
    scatter = {}
    for target in task.targets:
        pairs = np.column_stack(
            [solution[target].to_numpy(float), predictions[target].to_numpy(float)]
        )
        pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))][::step].round(4)
        scatter[target] = {"true": pairs[:, 0].tolist(), "pred": pairs[:, 1].tolist()}
    return scatter


def _run_as_script() -> None:
    from misme_console import leave

    try:
        code = main()
    except BaseException:  # noqa: BLE001 - a bad request is a bug of the parent: say it, exit 1
        import traceback

        traceback.print_exc()
        code = 1
    leave(code)


if __name__ == "__main__":
    _run_as_script()

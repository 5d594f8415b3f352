"""The scoring child process: `python -m leaderboard.worker REQUEST.json`.

It is the only place that reads the solution labels. It limits its own address
space (RLIMIT_AS) before importing anything heavy, validates and scores the
prediction file on the phase's public and private ids, and writes into the
request's `out_dir`: `result.json` (status, message, metrics, details) and one
`losses-<subset>.npy` per subset (float64, ids in sorted order). Anything
that goes wrong becomes a status and a message, never a score.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path
from typing import Any

MAX_PROBLEMS_SHOWN = 20
MAX_SCATTER_POINTS = 2000


def limit_memory(megabytes: int) -> None:
    limit = megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main(argv: list[str] | None = None) -> int:
    request_path = Path((argv or sys.argv[1:])[0])
    request = json.loads(request_path.read_text(encoding="utf-8"))
    out_dir = Path(request["out_dir"])
    limit_memory(int(request["memory_limit_mb"]))
    try:
        result = evaluate(request, out_dir)
    except (MemoryError, ImportError):  # imports fail first when the address space is too small
        result = {"status": "failed",
                  "message": f"scoring ran out of memory (limit {request['memory_limit_mb']} MB)"}
    except Exception as error:  # noqa: BLE001 - every failure becomes a status, never a traceback
        result = _failure(error)
    (out_dir / "result.json").write_text(json.dumps(result), encoding="utf-8")
    return 0


def _failure(error: Exception) -> dict[str, Any]:
    from benchmark.errors import BenchmarkError, InvalidSubmission

    if isinstance(error, InvalidSubmission):
        return {"status": "invalid", "message": _problems_message(error)}
    if isinstance(error, BenchmarkError):
        return {"status": "invalid", "message": str(error).splitlines()[0]}
    # The exception text could quote solution values: report only its type.
    return {"status": "failed", "message": f"scoring failed ({type(error).__name__})"}


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


def evaluate(request: dict[str, Any], out_dir: Path) -> dict[str, Any]:
    import numpy as np

    from benchmark.io import read_predictions, read_solution
    from benchmark.tasks import get_task
    from leaderboard.splits import ids_digest, public_mask

    task = get_task(request["task"])
    solution = read_solution(Path(request["solution"]), task)
    solution = _phase_rows(_with_groups(solution, request["solution"]), request.get("folds"))
    predictions = read_predictions(Path(request["predictions"]), solution, task,
                                   max_bytes=int(request["max_bytes"]))
    public = public_mask(solution, float(request["public_fraction"]), int(request["seed"]))
    subsets: dict[str, Any] = {}
    for subset, mask in (("public", public), ("private", ~public)):
        if not mask.any():
            continue
        order = np.argsort(solution["id"].to_numpy()[mask].astype(str), kind="stable")
        sub_solution = solution[mask].iloc[order].reset_index(drop=True)
        sub_predictions = predictions[mask].iloc[order].reset_index(drop=True)
        scored = _score_subset(sub_solution, sub_predictions, task)
        np.save(out_dir / f"losses-{subset}.npy", scored.pop("losses"))
        scored["ids_sha256"] = ids_digest(sub_solution["id"])
        scored["n_ids"] = int(len(sub_solution))
        subsets[subset] = scored
    return {"status": "scored", "message": "scored", "subsets": subsets}


def _with_groups(solution, path: str):
    """Add the solution file's speaker/group column (read_solution keeps only id, fold, targets)."""
    import pandas as pd

    from leaderboard.splits import GROUP_COLUMNS

    if str(path).endswith(".csv"):
        header = pd.read_csv(path, nrows=0).columns
        wanted = [c for c in GROUP_COLUMNS if c in header][:1]
        extra = pd.read_csv(path, usecols=["id", *wanted], dtype=str) if wanted else None
    else:
        import pyarrow.parquet as pq

        names = pq.read_schema(path).names
        wanted = [c for c in GROUP_COLUMNS if c in names][:1]
        extra = pq.read_table(path, columns=["id", *wanted]).to_pandas() if wanted else None
    if extra is None:
        return solution
    groups = extra.assign(id=extra["id"].astype(str)).set_index("id")[wanted[0]].astype(str)
    return solution.assign(**{wanted[0]: groups.reindex(solution["id"].astype(str)).to_numpy()})


def _phase_rows(solution, folds):
    if folds is None:
        return solution.reset_index(drop=True)
    return solution[solution["fold"].isin(folds)].reset_index(drop=True)


def _score_subset(solution, predictions, task) -> dict[str, Any]:
    import numpy as np

    from benchmark.scoring import score

    report = score(predictions, solution, task)
    losses = report.per_id_loss.reindex(solution["id"]).to_numpy(dtype=np.float64)
    details = {"per_fold": _per_fold(report.per_fold)}
    if task.kind == "classification":
        details["confusion"] = {"labels": report.extras["labels"],
                                "matrix": report.extras["confusion_matrix"]}
    else:
        details["scatter"] = _scatter(solution, predictions, task)
    return {"metrics": _finite(report.pooled), "primary": float(report.primary),
            "details": details, "losses": losses}


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
        pairs = np.column_stack([solution[target].to_numpy(float),
                                 predictions[target].to_numpy(float)])
        pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))][::step].round(4)
        scatter[target] = {"true": pairs[:, 0].tolist(), "pred": pairs[:, 1].tolist()}
    return scatter


if __name__ == "__main__":
    sys.exit(main())

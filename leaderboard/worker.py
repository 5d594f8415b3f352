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
    except MemoryError:
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
    shown = [str(problem) for problem in error.problems[:MAX_PROBLEMS_SHOWN]]
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
    solution = _phase_rows(read_solution(request["solution"], task), request.get("folds"))
    predictions = read_predictions(request["predictions"], solution, task,
                                   max_bytes=int(request["max_bytes"]))
    public = public_mask(solution, float(request["public_fraction"]), int(request["seed"]))
    subsets: dict[str, Any] = {}
    for subset, mask in (("public", public), ("private", ~public)):
        if not mask.any():
            continue
        sub_solution = solution[mask].sort_values("id", kind="stable").reset_index(drop=True)
        sub_predictions = _align(predictions, sub_solution)
        scored = _score_subset(sub_solution, sub_predictions, task)
        np.save(out_dir / f"losses-{subset}.npy", scored.pop("losses"))
        scored["ids_sha256"] = ids_digest(sub_solution["id"])
        scored["n_ids"] = int(len(sub_solution))
        subsets[subset] = scored
    return {"status": "scored", "message": "scored", "subsets": subsets}


def _phase_rows(solution, folds):
    if folds is None:
        return solution.reset_index(drop=True)
    return solution[solution["fold"].isin(folds)].reset_index(drop=True)


def _align(predictions, solution):
    indexed = predictions.set_index(predictions["id"].astype(str))
    return indexed.loc[solution["id"].astype(str)].reset_index(drop=True)


def _score_subset(solution, predictions, task) -> dict[str, Any]:
    import numpy as np

    from benchmark.scoring import score

    report = score(solution, predictions, task)
    losses = report.per_id_loss.reindex(solution["id"].astype(str).to_numpy())
    return {
        "metrics": _finite_metrics(report.pooled),
        "primary": float(report.primary),
        "details": {"per_fold": _per_fold(report.per_fold), **_plots(solution, predictions, task)},
        "losses": np.asarray(losses, dtype=np.float64),
    }


def _finite_metrics(pooled) -> dict[str, float]:
    items = pooled.items() if hasattr(pooled, "items") else vars(pooled).items()
    metrics = {}
    for name, value in items:
        if isinstance(value, int | float) and not isinstance(value, bool) and value == value:
            metrics[str(name)] = float(value)
    return metrics


def _per_fold(per_fold) -> list[dict[str, Any]]:
    if hasattr(per_fold, "to_dict") and hasattr(per_fold, "columns"):
        rows = per_fold.reset_index().to_dict(orient="records")
    elif isinstance(per_fold, dict):
        rows = [{"fold": fold, **dict(values)} for fold, values in per_fold.items()]
    else:
        rows = list(per_fold)
    return [{k: v for k, v in row.items() if isinstance(v, int | float | str)} for row in rows]


def _plots(solution, predictions, task) -> dict[str, Any]:
    if task.kind == "classification":
        target = task.targets[0]
        truth = solution[target].astype(str)
        guess = predictions[target].astype(str)
        labels = sorted(set(truth) | set(guess), key=_label_order(task))
        matrix = [[int(((truth == t) & (guess == p)).sum()) for p in labels] for t in labels]
        return {"confusion": {"labels": labels, "matrix": matrix}}
    import numpy as np

    step = max(1, len(solution) // MAX_SCATTER_POINTS)
    scatter = {}
    for target in task.targets:
        pairs = np.column_stack([solution[target].to_numpy(float), predictions[target].to_numpy(float)])
        pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))][::step].round(4)  # no id order kept
        scatter[target] = {"true": pairs[:, 0].tolist(), "pred": pairs[:, 1].tolist()}
    return {"scatter": scatter}


def _label_order(task):
    order = {label: i for i, label in enumerate(task.labels or ())}
    return lambda label: (order.get(label, len(order)), label)


if __name__ == "__main__":
    sys.exit(main())

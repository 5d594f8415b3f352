"""Benchmark: `misme-score score` on 1,000,000-row submissions, against a fair pandas scorer.

Run: .venv/bin/python bench/score.py [--rows N] [--runs 3] [--fair-runs 2]

For MER (regression) and SER (classification) it writes a solution shaped like the MiSME
builds' (Parquet: id, fold, the targets, a group column and a breakdown column: `group` and
`corpus` for MER, `actor` and `gender` for SER) and a shuffled CSV submission, and for MER
also the same solution without its group column (the bootstrap then resamples ids: beyond
65,536 of them, random blocks of ids, see benchmark.bootstrap), then times whole processes
(start-up included), all in this run:

- `misme-score score` with the defaults a user runs (`--bootstrap 1000`, resampling groups)
  and with `--bootstrap 0`, median of `--runs`;
- the fair reference: a vectorised pandas + scikit-learn script (`--fair`, below) doing the
  same checks (UTF-8 with or without BOM, id + exactly the target columns, ids as text, every
  solution id once and no other, no empty / NaN / inf / NA cells, labels and number ranges)
  and the same per-fold, pooled and per-group metrics, median of `--fair-runs`;
- the start-up alone (`misme-score tasks`, and the imports of the score path; a regression
  score also imports scipy.special, for Pearson's p-value, while it reads the files).

The speed-up is fair / ours with `--bootstrap 0` (the same work; the reference has no
bootstrap). Target: ours under 2 s and >= 5x. On a shared machine wall times vary with the
load; the ratios are measured within one run, and each line also gives the median CPU
seconds (user + system, of the process and its threads), which the load changes less.
Diebold-Mariano on N pairs is timed last.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
CONSOLE_SCRIPT = Path(PYTHON).with_name("misme-score")  # as installed in the venv
SCORE = (
    [str(CONSOLE_SCRIPT)]
    if CONSOLE_SCRIPT.exists()
    else [
        PYTHON,
        "-c",
        "import sys; from benchmark.cli import main; sys.argv[0] = 'misme-score'; main()",
    ]
)
LABELS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")


def _write(folder: Path, n: int, kind: str, grouped: bool = True) -> tuple[Path, Path]:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    ids = np.char.add("mix-", np.arange(n).astype(str)).astype(object)
    solution = pd.DataFrame({"id": ids, "fold": rng.integers(1, 7, n)})
    predictions = pd.DataFrame({"id": ids})
    if kind == "classification":
        actor = rng.integers(1, 25, n)
        solution["actor"] = actor.astype(str)
        solution["gender"] = np.where(actor % 2, "male", "female")
        truth = rng.integers(0, 8, n)
        solution["emotion"] = truth + 1
        guess = np.where(rng.random(n) < 0.4, truth, rng.integers(0, 8, n))
        predictions["emotion"] = np.asarray(LABELS)[guess]
    else:
        clip = rng.integers(0, 2000, n)
        solution["group"] = np.char.add("clip-", clip.astype(str))
        solution["corpus"] = np.array(["DEAM", "Soundtracks", "EMOPIA"])[clip % 3]
        for target in ("valence", "arousal"):
            solution[target] = rng.uniform(1, 9, n)
            predictions[target] = solution[target] + rng.normal(0, 1, n)
    if not grouped:
        solution = solution.drop(columns=["group", "actor"], errors="ignore")
    predictions = predictions.sample(frac=1, random_state=0)
    sol_path, pred_path = folder / f"{kind}-solution.parquet", folder / f"{kind}-pred.csv"
    solution.to_parquet(sol_path, index=False)
    predictions.to_csv(pred_path, index=False)
    return sol_path, pred_path


# ---------------------------------------------------------------- the fair reference scorer


def fair(sol_path: Path, pred_path: Path, task_name: str) -> float:
    """What a competent user would write with pandas + scikit-learn: vectorised checks, then
    per-fold, pooled and per-group metrics. Prints the problems and exits 2 when invalid;
    returns the pooled primary metric."""
    import numpy as np
    import pandas as pd
    from scipy import stats
    from sklearn import metrics as skm

    regression = "mer" in task_name
    targets = ["valence", "arousal"] if regression else ["emotion"]
    solution = pd.read_parquet(sol_path)
    solution["id"] = solution["id"].astype(str)
    try:  # utf-8-sig: UTF-8, a BOM is fine; invalid bytes raise
        pred = pd.read_csv(pred_path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError) as error:
        sys.exit(f"unreadable: {error}")
    problems = []
    if len(set(pred.columns)) != len(pred.columns) or set(pred.columns) != {"id", *targets}:
        sys.exit(f"columns must be exactly id, {', '.join(targets)}")
    ids = pred["id"]
    bad_id = (ids == "") | (ids.str.strip() != ids)
    problems += [f"row {i + 1}: bad id" for i in np.flatnonzero(bad_id)]
    problems += [f"row {i + 1}: duplicate id" for i in np.flatnonzero(ids.duplicated())]
    solution_ids = pd.Index(solution["id"])
    problems += [
        f"row {i + 1}: id not in the solution" for i in np.flatnonzero(~ids.isin(solution_ids))
    ]
    problems += [f"id {v} has no prediction" for v in solution_ids[~solution_ids.isin(ids)][:50]]
    values = {}
    for target in targets:
        text = pred[target]
        spaced = text.str.strip() != text
        if regression:
            number = pd.to_numeric(text, errors="coerce")
            bad = number.isna() | ~np.isfinite(number) | (number.abs() >= 1e100) | spaced
            values[target] = number
        else:
            lookup = {label: code for code, label in enumerate(LABELS)}
            lookup.update({str(code + 1): code for code in range(len(LABELS))})
            code = text.str.lower().map(lookup)
            bad = code.isna() | spaced
            values[target] = code
        problems += [f"row {i + 1}, column {target}: bad value" for i in np.flatnonzero(bad)]
    if problems:
        print("\n".join(problems[:50]), file=sys.stderr)
        sys.exit(2)
    aligned = pd.DataFrame(values).set_index(ids).reindex(solution_ids)
    frame = solution.join(aligned.reset_index(drop=True), rsuffix="_pred")

    def scores(part: pd.DataFrame) -> dict[str, float]:
        result = {}
        if not regression:
            t, p = part["emotion"].to_numpy() - 1, part["emotion_pred"].to_numpy().astype(int)
            precision, recall, f1, _ = skm.precision_recall_fscore_support(
                t, p, labels=range(8), average="weighted", zero_division=0
            )
            return {
                "accuracy": skm.accuracy_score(t, p),
                "uar": skm.balanced_accuracy_score(t, p),
                "macro_f1": skm.f1_score(t, p, average="macro", zero_division=0),
                "weighted_precision": precision,
                "weighted_recall": recall,
                "weighted_f1": f1,
                "confusion": skm.confusion_matrix(t, p, labels=range(8)),
            }
        for target in targets:
            t, p = part[target].to_numpy(), part[f"{target}_pred"].to_numpy()
            mt, mp, vt, vp = t.mean(), p.mean(), t.var(), p.var()
            covariance = ((t - mt) * (p - mp)).mean()
            r, pvalue = stats.pearsonr(t, p)
            n = len(t)
            result.update(
                {
                    f"rmse_{target}": skm.root_mean_squared_error(t, p),
                    f"mae_{target}": skm.mean_absolute_error(t, p),
                    f"r2_{target}": skm.r2_score(t, p),
                    f"pearson_r_{target}": r,
                    f"pearson_p_{target}": pvalue,
                    f"ccc_{target}": 2 * covariance / (vt + vp + (mt - mp) ** 2),
                    f"ccc_n1_{target}": 2
                    * covariance
                    * n
                    / (n - 1)
                    / ((vt + vp) * n / (n - 1) + (mt - mp) ** 2),
                }
            )
        for name in ("rmse", "mae", "r2", "pearson_r", "ccc", "ccc_n1"):
            result[name] = np.mean([result[f"{name}_{target}"] for target in targets])
        return result

    pooled = scores(frame)
    per_fold = {fold: scores(part) for fold, part in frame.groupby("fold")}
    per_group = {
        column: {value: scores(part) for value, part in frame.groupby(column)}
        for column in ("gender", "corpus")
        if column in frame
    }
    assert per_fold and per_group is not None
    return float(pooled["accuracy" if not regression else "rmse"])


# ---------------------------------------------------------------- timing


def _run(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one process (CPU: user + system, with its threads)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, argv))} failed ({done.returncode}):\n{done.stderr}")
    return elapsed, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def _median(runs: list[tuple[float, float]]) -> str:
    walls, cpus = [wall for wall, _ in runs], [cpu for _, cpu in runs]
    return (
        f"{statistics.median(walls):.2f} s (runs: {', '.join(f'{v:.2f}' for v in walls)}; "
        f"CPU {statistics.median(cpus):.2f} s)"
    )


def _wall(runs: list[tuple[float, float]]) -> float:
    return statistics.median(wall for wall, _ in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="runs of misme-score (median)")
    parser.add_argument("--fair-runs", type=int, default=2, help="runs of the fair scorer")
    parser.add_argument(
        "--fair", nargs=3, metavar=("SOLUTION", "PREDICTIONS", "TASK"), help=argparse.SUPPRESS
    )  # one run of the reference scorer, as a process
    args = parser.parse_args()
    if args.fair:
        print(json.dumps({"primary": fair(Path(args.fair[0]), Path(args.fair[1]), args.fair[2])}))
        return
    sys.path.insert(0, str(ROOT))
    n = args.rows
    startup = [_run(SCORE + ["tasks"]) for _ in range(args.runs)]
    imports = [
        _run([PYTHON, "-c", "import benchmark.cli, benchmark.scoring, benchmark.report"])
        for _ in range(args.runs)
    ]
    print(
        f"start-up: misme-score tasks {_median(startup)}; imports of the score path "
        f"{_median(imports)}"
    )
    with tempfile.TemporaryDirectory() as folder:
        for kind, task, grouped in (
            ("regression", "misme-mer", True),
            ("regression", "misme-mer", False),
            ("classification", "misme-ser", True),
        ):
            _case(Path(folder), n, args, kind, task, grouped)
    _diebold_mariano(n)


def _score_command(pred_path: Path, sol_path: Path, task: str, report: Path) -> list[str]:
    return SCORE + [
        "score",
        str(pred_path),
        "--solution",
        str(sol_path),
        "--task",
        task,
        "--json",
        str(report),
    ]


def _case(folder: Path, n: int, args, kind: str, task: str, grouped: bool) -> None:
    """Time one solution: misme-score with the default bootstrap and with --bootstrap 0, and
    the fair scorer; check that all agree on the primary metric."""
    sol_path, pred_path = _write(folder, n, kind, grouped)
    report, report_b0 = folder / "report.json", folder / "report-b0.json"
    command = _score_command(pred_path, sol_path, task, report)
    command_b0 = _score_command(pred_path, sol_path, task, report_b0) + ["--bootstrap", "0"]
    ours, ours_b0, reference = [], [], []
    for run in range(max(args.runs, args.fair_runs)):
        if run < args.runs:
            ours.append(_run(command))
            ours_b0.append(_run(command_b0))
        if run < args.fair_runs:
            reference.append(
                _run([PYTHON, __file__, "--fair", str(sol_path), str(pred_path), task])
            )
    scored = json.loads(report.read_text())
    out = subprocess.run(
        [PYTHON, __file__, "--fair", str(sol_path), str(pred_path), task],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    expected = json.loads(out.stdout)["primary"]
    assert abs(scored["primary"] - expected) < 1e-9, (scored["primary"], expected)
    b0, fair_time = _wall(ours_b0), _wall(reference)
    verdict = "OK" if fair_time / b0 >= 5 and b0 < 2 else "MISSED"
    from benchmark.bootstrap import resampled_unit

    unit = resampled_unit(scored["bootstrap"]["grouped_by"], scored["bootstrap"]["n_groups"])
    print(
        f"{kind} ({task}), {n:,} rows, {'with' if grouped else 'without'} a group column, "
        "whole processes:"
    )
    print(f"  misme-score score (default --bootstrap 1000): {_median(ours)}; resampling {unit}")
    print(f"  misme-score score --bootstrap 0:              {_median(ours_b0)}")
    print(f"  fair pandas + scikit-learn scorer:            {_median(reference)}")
    print(
        f"  speed-up (fair / --bootstrap 0): {fair_time / b0:.1f}x, with the default "
        f"bootstrap {fair_time / _wall(ours):.1f}x "
        f"(target >= 5x and < 2 s: {verdict})"
    )


def _diebold_mariano(n: int) -> None:
    import numpy as np

    from benchmark import stats

    rng = np.random.default_rng(1)
    e1, e2 = rng.normal(size=n), rng.normal(size=n) * 1.01
    for h in (1, 5):
        start = time.perf_counter()
        result = stats.diebold_mariano(e1, e2, h=h)
        elapsed = time.perf_counter() - start
        print(
            f"diebold-mariano h={h} on {n:,} pairs: {elapsed * 1000:.0f} ms "
            f"(DM = {result.statistic:.3f}, p = {result.pvalue:.3g})"
        )


if __name__ == "__main__":
    main()

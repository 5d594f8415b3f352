"""`misme-score`: validate, score and compare prediction files.

Exit status: 0 on success, 2 when an input is invalid (every problem is listed on
stderr), 1 on an internal error, 130 on Ctrl-C (SIGINT) and 143 on SIGTERM, with one line
and no report half-written. User mistakes never print a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import threading
from pathlib import Path

from benchmark.errors import BenchmarkError, InvalidSubmission
from benchmark.io import (
    DEFAULT_MAX_BYTES,
    read_id_list,
    read_prediction_arrays,
    read_predictions,
    read_solution,
    read_solution_arrays,
)
from benchmark.tasks import TASKS, get_task
from misme_console import internal_error, run_console_script

PROG = "misme-score"
MAX_BOOTSTRAP = 1_000_000


def _common(parser: argparse.ArgumentParser, ids: bool = False) -> None:
    if ids:  # validate: the solution, or only its ids (participants have no labels)
        given = parser.add_mutually_exclusive_group(required=True)
        given.add_argument("--solution", type=Path, help="solution file (CSV or Parquet)")
        given.add_argument(
            "--ids",
            type=Path,
            help="ids file (an `id` column; export-challenge writes one per task): "
            "check format, columns, labels and ids without the solution",
        )
    else:
        parser.add_argument(
            "--solution", required=True, type=Path, help="solution file (CSV or Parquet)"
        )
    parser.add_argument("--task", required=True, help="task name (see `misme-score tasks`)")
    parser.add_argument(
        "--max-bytes",
        type=int,
        default=DEFAULT_MAX_BYTES,
        help="size cap of a prediction file (default: %(default)s)",
    )


def _outputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", type=Path, help="also write the report as JSON")
    parser.add_argument("--markdown", type=Path, help="also write the report as Markdown")
    parser.add_argument(
        "--plot",
        type=Path,
        metavar="FILE.png|FILE.svg",
        help="also write the report's charts (PNG or SVG, by the suffix)",
    )


def _bootstrap_options(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--bootstrap",
        type=int,
        default=1000,
        metavar="N",
        help=f"bootstrap resamples for {what}, whole groups when the solution "
        "has a group column (0 to skip; default 1000)",
    )
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    validate = sub.add_parser("validate", help="check a prediction file; list every problem")
    validate.add_argument("predictions", type=Path)
    _common(validate, ids=True)
    score = sub.add_parser("score", help="score a prediction file per fold and pooled")
    score.add_argument("predictions", type=Path)
    _common(score)
    _bootstrap_options(score, "the primary metric's confidence interval")
    _outputs(score)
    compare = sub.add_parser("compare", help="Diebold-Mariano (and McNemar) test of A against B")
    compare.add_argument("a", type=Path)
    compare.add_argument("b", type=Path)
    _common(compare)
    compare.add_argument("--h", type=int, default=1, help="forecast horizon (default 1)")
    compare.add_argument("--power", type=float, default=2, help="loss |e|^power (default 2)")
    compare.add_argument(
        "--alternative",
        default="two-sided",
        choices=["two-sided", "less", "greater"],
        help="'less': A is more accurate than B (R dm.test's meaning)",
    )
    _bootstrap_options(compare, "confidence and rank intervals")
    _outputs(compare)
    sub.add_parser("tasks", help="list the registered tasks")
    return parser


def write_output(path: Path | None, text: str) -> None:
    if path is None:
        return
    shown = path
    try:
        if (
            path.exists() and not path.is_file()
        ):  # /dev/stdout, a pipe: write through, never replace
            if path.is_dir():
                raise IsADirectoryError(21, "Is a directory")
            with path.open("w", encoding="utf-8") as handle:
                handle.write(text)
            return
        path = Path(os.path.realpath(path))  # a symlink to a file: replace the file, keep the link
        _write_atomically(path, text)
    except OSError as error:
        raise BenchmarkError(f"cannot write {shown}: {error.strerror or error}") from None


def _write_atomically(path: Path, text: str) -> None:
    """Write a temporary sibling and rename it into place; an interrupted write leaves neither."""
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def _check_options(args) -> None:
    """Refuse option values that make no sense (exit 2, not a traceback or a silent report)."""
    if args.max_bytes < 1:
        raise BenchmarkError(f"--max-bytes must be positive, not {args.max_bytes}")
    if getattr(args, "power", None) is not None and not 0 < args.power < float("inf"):
        raise BenchmarkError(f"--power must be a positive number, not {args.power}")
    if getattr(args, "h", None) is not None and args.h < 1:
        raise BenchmarkError(f"--h must be a positive integer, not {args.h}")
    if getattr(args, "bootstrap", None) is not None and not 0 <= args.bootstrap <= MAX_BOOTSTRAP:
        raise BenchmarkError(
            f"--bootstrap must be between 0 and {MAX_BOOTSTRAP:,}, not {args.bootstrap}"
        )
    if getattr(args, "seed", None) is not None and not 0 <= args.seed < 2**63:
        raise BenchmarkError(f"--seed must be a non-negative integer, not {args.seed}")
    if getattr(args, "plot", None) is not None:
        from benchmark.plots import check_plot_path

        check_plot_path(args.plot)


def _run_validate(args) -> int:
    task = get_task(args.task)
    if args.ids is not None:
        solution = read_id_list(args.ids)
    else:
        solution = read_solution_arrays(args.solution, task)
    read_prediction_arrays(args.predictions, solution, task, max_bytes=args.max_bytes)
    against = ", those of the ids file; no labels seen" if args.ids is not None else ""
    print(
        f"OK: {args.predictions} is a valid {task.name} submission ({len(solution):,} ids{against})"
    )
    return 0


def _run_score(args) -> int:
    """Arrays all the way (:func:`benchmark.scoring.score_arrays`): the same report as
    :func:`benchmark.scoring.score` of the frames, without importing pandas."""
    from benchmark import report
    from benchmark.scoring import score_arrays, target_matrix

    task = get_task(args.task)
    if task.kind == "regression":
        _import_meanwhile("scipy.special")  # Pearson's p-value (benchmark.metrics)
    solution = read_solution_arrays(args.solution, task, group_columns=True)
    predictions = read_prediction_arrays(args.predictions, solution, task, max_bytes=args.max_bytes)
    result = score_arrays(
        target_matrix(predictions, task), solution, task, n_resamples=args.bootstrap, seed=args.seed
    )
    _warn(report.scale_warnings(result))
    write_output(args.json, report.to_json(result))
    write_output(args.markdown, report.to_markdown(result))
    if args.plot is not None:
        _plot_score(args.plot, result, solution, predictions, task)
    print(report.to_terminal(result), end="")
    return 0


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        print(f"{PROG}: warning: {warning}", file=sys.stderr)


def _import_meanwhile(name: str) -> None:
    """Import module ``name`` on a daemon thread while this one reads the files: Arrow reads
    them without holding the GIL, so with a second core the import (a quarter of a second
    for scipy.special) takes little or no time of its own. A failure is left to the import
    where the module is used, which raises it."""

    def run() -> None:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S110 - raised again where the module is imported
            pass

    try:
        threading.Thread(target=run, name=f"import {name}", daemon=True).start()
    except (
        RuntimeError
    ):  # no thread can start (a process limit): the import happens where it is used
        pass


def _plot_score(path: Path, result, solution, predictions: dict, task) -> None:
    from benchmark import plots

    scatter = None
    if task.kind == "regression":  # the predictions are in the solution's order
        scatter = {
            t: {"true": solution.targets[t].astype(float), "pred": predictions[t].astype(float)}
            for t in task.targets
        }
    plots.save(plots.report_figure(result, scatter), path)


def _run_compare(args) -> int:
    from benchmark import report
    from benchmark.compare import compare

    task = get_task(args.task)
    solution = read_solution(args.solution, task, group_columns=True)
    frames, errors = [], []
    for path in (args.a, args.b):
        try:
            frames.append(read_predictions(path, solution, task, max_bytes=args.max_bytes))
        except InvalidSubmission as error:
            errors.append(str(error))
    if errors:
        raise BenchmarkError("\n".join(errors))
    result = compare(
        *frames,
        solution,
        task,
        h=args.h,
        power=args.power,
        alternative=args.alternative,
        n_resamples=args.bootstrap,
        seed=args.seed,
    )
    result.files = (str(args.a), str(args.b))
    _warn(report.scale_warnings(result))
    write_output(args.json, report.to_json(result))
    write_output(args.markdown, report.to_markdown(result))
    if args.plot is not None:
        from benchmark import plots

        plots.save(plots.comparison_figure(result, compared_names(args.a, args.b)), args.plot)
    print(report.to_terminal(result), end="")
    return 0


def compared_names(a: Path, b: Path) -> tuple[str, str]:
    """``A: <file>`` and ``B: <file>``: the file names, or the paths when the names are alike."""
    first, second = (a.name, b.name) if a.name != b.name else (str(a), str(b))
    return f"A: {first}", f"B: {second}"


def _run_tasks(args) -> int:
    width = max(map(len, TASKS))
    for task in TASKS.values():
        direction = "higher" if task.higher_is_better else "lower"
        print(
            f"{task.name.ljust(width)}  {task.kind:<14}  columns: {', '.join(task.columns)}; "
            f"primary: {task.primary_metric} ({direction} is better)"
        )
        print(f"{''.ljust(width)}  {task.description}")
    return 0


COMMANDS = {
    "validate": _run_validate,
    "score": _run_score,
    "compare": _run_compare,
    "tasks": _run_tasks,
}


def main(argv: list[str] | None = None) -> int:
    """Run one command and return its exit status; as the console script (``argv`` None) the
    process leaves through :func:`misme_console.run_console_script` instead."""
    if argv is None:
        run_console_script(PROG, lambda: _main(None))
    return _main(argv)


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help(sys.stderr)
        return 2
    try:
        if args.command != "tasks":
            _check_options(args)
        return COMMANDS[args.command](args)
    except BenchmarkError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001 - a bug of ours; keep the traceback opt-in
        return internal_error(PROG, error)


if __name__ == "__main__":
    sys.exit(main())

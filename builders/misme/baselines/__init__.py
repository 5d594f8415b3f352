"""`misme-build misme baselines` (alias `misme-build baselines`): cross-validated baseline
predictions for experiments A-F.

Experiments (train audio -> test audio, docs/spec.md section 4 / thesis Table 3.1):
A single->single, B single->mixed, C single->BSS, D mixed->mixed, E mixed->BSS, F BSS->BSS.
SER uses the speech feature set on the views speech / mixed-window / bss-speech (target
``emotion``, RAVDESS code 1-8); MER uses the music feature set on music / mixed / bss-music
(targets ``valence`` and ``arousal``, 1-9).

Protocol: for each test fold k of the dataset's ``fold`` column, the model is trained on the
training view's clips of the other folds (imputer and StandardScaler fit on those only) and
predicts the test view's clips of fold k, so every prediction is out-of-fold. Models:
``rf`` = RandomForestClassifier(1000 trees, max_features="sqrt") for SER, one
RandomForestRegressor(100 trees, max_features=0.333) per target for MER; ``dummy`` =
DummyClassifier("stratified") / DummyRegressor("mean"). Random states derive from
``--seed`` via ``builders.common.seeding.derive_seed``.

Outputs under SUBMISSIONS (default ``OUT/baselines``):

- ``<task>/<experiment>-<model>.csv``: benchmark prediction files (``id`` + targets). Every
  experiment has a ``misme-ser`` / ``misme-mer`` file keyed by mix id; experiment A also has
  ``misme-ser-speech`` / ``misme-mer-music`` files keyed by source id, and its mix-level file
  is the single-source prediction broadcast to the mixes through the manifest. With oracle
  separation, C/E/F files are named ``C-oracle-rf.csv`` etc.
- ``results.csv`` (one row per file, metrics pooled over ids, scored with ``benchmark``),
  ``dm.csv`` (Diebold-Mariano between experiments per task and model, aligned by mix id,
  and rf vs dummy per experiment; Holm-adjusted within each family), ``reproduction.md``
  (our numbers beside the thesis's reference numbers).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from builders.common.atomic import atomic_file
from builders.engine import check_workers
from builders.errors import UserError
from builders.misme.baselines.data import load_manifests
from builders.misme.baselines.models import make_model
from builders.misme.baselines.report import (
    dm_rows,
    reproduction_table,
    result_row,
    score_file,
    solution_for,
)
from builders.misme.baselines.runs import (
    parse_list,
    plan_runs,
    predict_all,
    prediction_path,
    write_predictions,
)
from builders.misme.baselines.settings import (
    EXPERIMENTS,
    MODELS,
    PRESETS,
    add_feature_arguments,
    make_domains,
)

__all__ = [
    "add_arguments",
    "make_domains",
    "make_model",
    "plan_runs",
    "predict_all",
    "run",
    "run_baselines",
]


def run_baselines(
    out: Path,
    *,
    experiments: str = "all",
    models: str = "rf,dummy",
    tasks: str = "ser,mer",
    submissions: Path | None = None,
    workers: int = 1,
    seed: int = 0,
    bss: str = "auto",
    speech_set: str = "speech-is10",
    music_set: str = "music-essentia",
    preset: str = "thesis",
) -> dict:
    """Make every prediction file, score them, write results.csv, dm.csv and reproduction.md.

    Returns ``{"files": [...], "results": DataFrame, "dm": DataFrame, "notes": [...]}``.
    """
    out = Path(out)
    submissions = Path(submissions) if submissions else out / "baselines"
    all_domains = make_domains(speech_set, music_set)
    experiment_list, every = parse_list(experiments, EXPERIMENTS, "experiment")
    model_list, _ = parse_list(models, MODELS, "model")
    task_list, _ = parse_list(tasks, all_domains, "task")
    if bss not in ("auto", "spleeter", "oracle"):
        raise UserError(f"--bss must be auto, spleeter or oracle, not {bss!r}")
    check_workers(workers)
    if preset not in PRESETS:
        raise UserError(f"--preset must be one of {', '.join(PRESETS)}, not {preset!r}")
    if not (out / "manifests").is_dir():
        raise UserError(
            f"{out} is not a MiSME build folder (no manifests/); run `misme-build misme build` first"
        )
    if submissions.exists() and not submissions.is_dir():
        raise UserError(f"--out must be a folder, but {submissions} is a file")
    domains = {name: all_domains[name] for name in task_list}
    runs, notes = plan_runs(
        out, list(domains.values()), experiment_list, model_list, bss=bss, skip_missing=every
    )
    if not runs:
        raise UserError("no experiment can run: " + "; ".join(notes))
    predictions = predict_all(out, domains, runs, seed=seed, workers=workers, preset=preset)
    sources, mixes = load_manifests(out)
    solutions = {
        task: solution_for(out, task, sources, mixes, domains, submissions / ".solutions")
        for task in sorted({r.task for r in runs})
    }
    reports, files = {}, []
    for run, frame in predictions.items():
        path = prediction_path(submissions, run)
        write_predictions(frame, path)
        files.append(path)
        reports[run] = score_file(path, solutions[run.task], run.task)
    results = pd.DataFrame([result_row(run, reports[run]) for run in runs])
    dm = pd.DataFrame(dm_rows(reports))
    with atomic_file(submissions / "results.csv") as tmp:
        results.to_csv(tmp, index=False, float_format="%.6g")
    with atomic_file(submissions / "dm.csv") as tmp:
        dm.to_csv(tmp, index=False, float_format="%.6g")
    with atomic_file(submissions / "reproduction.md") as tmp:
        tmp.write_text(reproduction_table(results, preset))
    with atomic_file(submissions / "baselines.json") as tmp:
        tmp.write_text(
            json.dumps(
                {
                    "seed": seed,
                    "bss": bss,
                    "preset": preset,
                    "random_forest": asdict(PRESETS[preset]),
                    "speech_features": speech_set,
                    "music_features": music_set,
                    "notes": notes,
                    "files": [str(p.relative_to(submissions)) for p in files],
                },
                indent=2,
            )
        )
    return {
        "files": files,
        "results": results,
        "dm": dm,
        "notes": notes,
        "submissions": submissions,
    }


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, help="build folder (manifests/ and features/)")
    parser.add_argument(
        "--experiments",
        default="all",
        help="comma-separated A-F, or all (default; skips experiments whose views are missing)",
    )
    parser.add_argument(
        "--models", default="rf,dummy", help="comma-separated rf, dummy (default both)"
    )
    parser.add_argument("--tasks", default="ser,mer", help="ser, mer or both (default)")
    parser.add_argument(
        "--out",
        dest="submissions",
        type=Path,
        help="where prediction files go (default OUT/baselines)",
    )
    parser.add_argument("--workers", type=int, default=1, help="CPU cores for the random forests")
    parser.add_argument("--seed", type=int, default=0, help="seed of the models' random states")
    parser.add_argument(
        "--bss",
        default="auto",
        choices=("auto", "spleeter", "oracle"),
        help="separated views for C/E/F: Spleeter (bss-*), oracle (bss-oracle-*), or auto "
        "(Spleeter if its features exist)",
    )
    parser.add_argument(
        "--preset",
        default="thesis",
        choices=tuple(PRESETS),
        help="random-forest sizes: thesis (default: SER 1000 trees, MER 100 trees with "
        "max_features 0.333) or demo (SER 300 trees, MER max_features sqrt; faster)",
    )
    add_feature_arguments(parser)


def run(args: argparse.Namespace) -> int:
    summary = run_baselines(
        args.out,
        experiments=args.experiments,
        models=args.models,
        tasks=args.tasks,
        submissions=args.submissions,
        workers=args.workers,
        seed=args.seed,
        bss=args.bss,
        speech_set=args.speech_features,
        music_set=args.music_features,
        preset=args.preset,
    )
    for note in summary["notes"]:
        print(note)
    table = summary["results"][["task", "file", "primary_metric", "primary"]]
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(
        f"{len(summary['files'])} prediction files, results.csv, dm.csv and reproduction.md in "
        f"{summary['submissions']}"
    )
    return 0

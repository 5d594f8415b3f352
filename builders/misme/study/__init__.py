"""`misme-build misme experiments BUILD --out REPORT`: the thesis's experiments in full.

Stages, each a list of fits run on the engine and kept in ``REPORT/.cache`` (a finished fit
is never refit; progress lines go to stderr):

1. the six experiments A-F for every chosen model family (thesis Tables 4.1 SI, 4.2, 4.3,
   4.5, 4.6); the forest's fits on A, D and F also measure feature importance
   (permutation importance on the held-out fold, 5 repeats, in the thesis preset; the
   forest's impurity importance in the fast preset);
2. the candidate comparison's speaker-dependent column (Table 4.1): the SER families on
   speech with clips dealt to folds regardless of actor;
3. top-N retraining on experiment F's view (Tables 4.4, 4.7) for the forest and the D-NN.

Then ``REPORT/report.md`` (every table numbered as the thesis numbers it, the thesis's
values beside ours), ``REPORT/figures/*.png``, ``REPORT/tables/*.csv`` (the same numbers).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from builders.engine import Engine, engine_from_args
from builders.engine import add_arguments as add_engine_arguments
from builders.errors import UserError
from builders.misme.baselines.settings import add_feature_arguments

IMPORTANCE = {"thesis": "permutation", "fast": "impurity"}


def run_study(
    out: Path,
    report: Path,
    *,
    models: str = "all",
    preset: str = "thesis",
    tasks: str = "ser,mer",
    seed: int = 0,
    bss: str = "auto",
    speech_set: str = "speech-is10",
    music_set: str = "music-essentia",
    engine: Engine | None = None,
) -> dict:
    """Run every stage and write the report; returns the outcome (see ``report.write_report``)."""
    # imported here: `misme-build` imports every dataset's steps, and these import sklearn
    from builders.misme.baselines.runs import parse_list
    from builders.misme.baselines.settings import make_domains
    from builders.misme.study.families import check_preset, parse_models
    from builders.misme.study.plan import (
        candidate_fits,
        check_models_fit,
        experiment_fits,
        load_study_data,
        rank_columns,
        top_n_fits,
    )
    from builders.misme.study.report import write_report
    from builders.misme.study.runner import run_fits

    started = time.perf_counter()
    out, report = Path(out), Path(report)
    check_preset(preset)
    model_list = parse_models(models)
    all_domains = make_domains(speech_set, music_set)
    task_list, _ = parse_list(tasks, all_domains, "task")
    if bss not in ("auto", "spleeter", "oracle"):
        raise UserError(f"--bss must be auto, spleeter or oracle, not {bss!r}")
    if not (out / "manifests").is_dir():
        raise UserError(
            f"{out} is not a MiSME build folder (no manifests/); run `misme-build misme build` first"
        )
    if report.exists() and not report.is_dir():
        raise UserError(f"--out must be a folder, but {report} is a file")
    engine = engine or Engine()
    data = load_study_data(out, {t: all_domains[t] for t in task_list}, bss)
    check_models_fit(data, model_list)
    cache = report / ".cache"
    common = {"seed": seed, "preset": preset, "engine": engine}
    fits = experiment_fits(data, model_list, IMPORTANCE[preset])
    results, counts = run_fits(fits, data.views, cache, stage="experiments", **common)
    outcome = _collect_experiments(data, fits, results)
    outcome.update(
        build=str(out),
        preset=preset,
        seed=seed,
        models=model_list,
        notes=list(data.notes),
        data=data,
    )
    candidates = candidate_fits(data, model_list)
    cand_results, cand_counts = run_fits(
        candidates, data.views, cache, stage="candidates", **common
    )
    outcome["speaker_dependent"] = {
        f.model: r["predictions"][f.test_views[0]]
        for f, r in zip(candidates, cand_results, strict=True)
    }
    rankings = {
        domain: {t: rank_columns(imp) for t, imp in per_target.items()}
        for (domain, role), per_target in outcome["importance"].items()
        if role == ("bss" if "bss" in data.roles[domain] else "mixed")
    }
    top = top_n_fits(data, model_list, rankings)
    top_results, top_counts = run_fits(top, data.views, cache, stage="top-N", **common)
    outcome["top_n"] = {
        (f.domain, f.model, int(f.tag.removeprefix("top"))): r["predictions"][f.test_views[0]]
        for f, r in zip(top, top_results, strict=True)
    }
    outcome["counts"] = {
        k: counts[k] + cand_counts[k] + top_counts[k] for k in ("cached", "fitted")
    }
    outcome["report"] = write_report(report, outcome)
    outcome["seconds"] = time.perf_counter() - started
    return outcome


def _collect_experiments(data, fits, results) -> dict:
    """Predictions per (domain, model, experiment) and importances per (domain, role)."""
    from builders.misme.baselines.settings import EXPERIMENTS
    from builders.misme.study.plan import ROLES

    predictions, importance = {}, {}
    for fit, result in zip(fits, results, strict=True):
        role_of = {view: role for role, view in data.roles[fit.domain].items()}
        train = role_of[fit.train_view]
        for view, frame in result["predictions"].items():
            experiment = next(e for e, r in EXPERIMENTS.items() if r == (train, role_of[view]))
            predictions[fit.domain, fit.model, experiment] = frame
        if result["importance"] and train in ROLES:
            importance[fit.domain, train] = result["importance"]
    return {"experiments": predictions, "importance": importance}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, help="a MiSME build folder with features")
    parser.add_argument(
        "--out", dest="report", type=Path, help="report folder (default OUT/experiments)"
    )
    parser.add_argument(
        "--models",
        default="all",
        help="comma-separated svm (svr), mlp, rf, dnn, dummy-stratified, dummy-most-frequent, "
        "dummy-mean, or all (default)",
    )
    parser.add_argument(
        "--preset",
        default="thesis",
        choices=("thesis", "fast"),
        help="thesis: the thesis's settings (default); fast: smaller models, impurity "
        "importance (the demo's)",
    )
    parser.add_argument("--tasks", default="ser,mer", help="ser, mer or both (default)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the models' random states")
    parser.add_argument(
        "--bss",
        default="auto",
        choices=("auto", "spleeter", "oracle"),
        help="separated views for C/E/F (auto: Spleeter's if they have features, else oracle)",
    )
    add_feature_arguments(parser)
    add_engine_arguments(parser)


def run(args: argparse.Namespace) -> int:
    outcome = run_study(
        args.out,
        args.report or args.out / "experiments",
        models=args.models,
        preset=args.preset,
        tasks=args.tasks,
        seed=args.seed,
        bss=args.bss,
        speech_set=args.speech_features,
        music_set=args.music_features,
        engine=engine_from_args(args),
    )
    for note in outcome["notes"]:
        print(f"note: {note}")
    counts = outcome["counts"]
    print(
        f"{counts['fitted']} fits run, {counts['cached']} from the cache, in "
        f"{outcome['seconds']:.1f} s; report: {outcome['report']}"
    )
    sys.stdout.flush()
    return 0

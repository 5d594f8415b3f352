"""Scoring the prediction files: results rows, Diebold-Mariano tests, the reproduction table."""

from __future__ import annotations

import math
from itertools import combinations
from pathlib import Path

import pandas as pd

from builders.common.atomic import atomic_file
from builders.misme.baselines.data import labels
from builders.misme.baselines.runs import Run
from builders.misme.baselines.settings import PRESETS, Domain

# Thesis reference numbers (docs/spec.md section 4, seed 000): real data, speaker-independent.
THESIS = {
    "ser": {
        "A": {"accuracy_rf": 0.551, "accuracy_dnn": 0.610},
        "D": {"accuracy_rf": 0.301, "accuracy_dnn": 0.290},
        "F": {"accuracy_rf": 0.414, "accuracy_dnn": 0.431},
    },
    "mer": {
        "A": {
            "rmse_valence": 0.921,
            "rmse_arousal": 0.934,
            "r2_valence": 0.565,
            "r2_arousal": 0.595,
        },
        "D": {"rmse_valence": 0.942, "rmse_arousal": 0.931},
        "F": {"rmse_valence": 0.909, "rmse_arousal": 0.928},
    },
}


def solution_for(
    out: Path,
    task_name: str,
    sources: pd.DataFrame,
    mixes: pd.DataFrame,
    domains: dict[str, Domain],
    scratch: Path,
) -> pd.DataFrame:
    """The task's solution: OUT/solutions/<task>.parquet if rendered, else derived from the
    manifests (written to ``scratch``/<task>.parquet and read back through the benchmark)."""
    from benchmark.io import read_solution
    from benchmark.tasks import get_task

    task = get_task(task_name)
    path = Path(out) / "solutions" / f"{task_name}.parquet"
    if not path.is_file():
        domain = next(d for d in domains.values() if task_name in (d.mix_task, d.single_task))
        role = "single" if task_name == domain.single_task else "mix"
        path = Path(scratch) / f"{task_name}.parquet"
        with atomic_file(path) as tmp:
            labels(domain, role, sources, mixes).to_parquet(tmp, index=False)
    return read_solution(path, task)


def score_file(path: Path, solution: pd.DataFrame, task_name: str):
    """Validate and score one prediction file with the benchmark package -> ScoreReport."""
    from benchmark.io import read_predictions
    from benchmark.scoring import score
    from benchmark.tasks import get_task

    task = get_task(task_name)
    return score(read_predictions(path, solution, task), solution, task)


RESULT_METRICS = (
    "accuracy",
    "uar",
    "macro_f1",
    "rmse_valence",
    "rmse_arousal",
    "r2_valence",
    "r2_arousal",
    "pearson_r_valence",
    "pearson_r_arousal",
    "ccc_valence",
    "ccc_arousal",
)


def result_row(run: Run, report) -> dict:
    row = {
        "task": run.task,
        "experiment": run.experiment,
        "model": run.model,
        "file": f"{run.label}.csv",
        "train_view": run.train_view,
        "test_view": run.test_view,
        "n": report.n,
        "primary_metric": report.primary_metric,
        "primary": report.primary,
        "primary_fold_mean": report.fold_mean.get(report.primary_metric),
        "primary_fold_sd": report.fold_sd.get(report.primary_metric),
    }
    row.update({m: report.pooled.get(m, math.nan) for m in RESULT_METRICS})
    return row


def dm_rows(reports: dict[Run, object]) -> list[dict]:
    """Diebold-Mariano tests on per-id losses (aligned by id), Holm-adjusted per family.

    Families: (task, model) comparing experiments pairwise; (task, "rf-vs-dummy") per experiment.
    """
    from benchmark.errors import BenchmarkError
    from benchmark.stats import diebold_mariano_from_losses, holm

    families: dict[tuple[str, str], list[tuple[Run, Run]]] = {}
    by_key = {(r.task, r.label): r for r in reports}
    for task, model in sorted({(r.task, r.model) for r in reports}):
        members = sorted(
            (r for r in reports if r.task == task and r.model == model), key=lambda r: r.label
        )
        families[task, f"experiments-{model}"] = list(combinations(members, 2))
    for run in sorted(reports, key=lambda r: (r.task, r.label)):
        dummy = by_key.get((run.task, run.label.removesuffix("-rf") + "-dummy"))
        if run.model == "rf" and dummy is not None:
            families.setdefault((run.task, "rf-vs-dummy"), []).append((run, dummy))
    rows = []
    for (task, family), pairs in families.items():
        block = []
        for a, b in pairs:
            la, lb = reports[a].per_id_loss, reports[b].per_id_loss
            row = {
                "task": task,
                "family": family,
                "a": a.label,
                "b": b.label,
                "n": len(la),
                "mean_loss_a": float(la.mean()),
                "mean_loss_b": float(lb.loc[la.index].mean()),
            }
            try:
                result = diebold_mariano_from_losses(la.to_numpy(), lb.loc[la.index].to_numpy())
                row.update(statistic=result.statistic, pvalue=result.pvalue)
            except BenchmarkError as error:
                row.update(statistic=math.nan, pvalue=math.nan, note=str(error))
            block.append(row)
        pvalues = [r["pvalue"] for r in block]
        finite = [i for i, p in enumerate(pvalues) if not math.isnan(p)]
        adjusted = holm([pvalues[i] for i in finite]) if finite else []
        for row in block:
            row["pvalue_holm"] = math.nan
        for i, p in zip(finite, adjusted, strict=True):
            block[i]["pvalue_holm"] = float(p)
        rows.extend(block)
    return rows


# ---------------------------------------------------------------- reproduction table


def _fmt(value, percent: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{100 * value:.1f} %" if percent else f"{value:.3f}"


def reproduction_table(results: pd.DataFrame, preset: str = "thesis") -> str:
    """Markdown: our accuracy / RMSE / R² / PCC per experiment beside the thesis's numbers."""
    rf = PRESETS[preset]
    settings = (
        f"Our rf: RandomForestClassifier({rf.ser_trees} trees, max_features={rf.ser_max_features!r}) for "
        f"SER, RandomForestRegressor({rf.mer_trees} trees, max_features={rf.mer_max_features!r}) per "
        f"target for MER (preset `{preset}`"
        + ("" if preset == "thesis" else "; a deviation from the thesis's settings, for speed")
        + ")."
    )
    lines = [
        "# MiSME baselines: reproduction table",
        "",
        "Thesis numbers: Laugs 2020 (seed 000), real RAVDESS + DEAM/Soundtracks, speaker-independent "
        "6-fold CV (SPEC section 4); `–` = not reported. Ours: this build, pooled out-of-fold predictions "
        "on the mixes' ids for B-F and on the source clips for A (task misme-ser-speech / misme-mer-music). "
        "SER chance ≈ 12.5 %.",
        "",
        settings,
        "",
        "## SER (8 emotions, accuracy)",
        "",
        "| exp | train → test | model | accuracy | UAR | thesis RF | thesis DNN |",
        "|---|---|---|---|---|---|---|",
    ]
    ser = results[results["task"].isin(["misme-ser-speech", "misme-ser"])]
    ser = ser[(ser["experiment"] != "A") | (ser["task"] == "misme-ser-speech")]
    for _, row in ser.sort_values(["experiment", "file"]).iterrows():
        ref = THESIS["ser"].get(row["experiment"], {})
        lines.append(
            f"| {row['experiment']} | {row['train_view']} → {row['test_view']} | {row['model']} | "
            f"{_fmt(row['accuracy'], True)} | {_fmt(row['uar'], True)} | "
            f"{_fmt(ref.get('accuracy_rf'), True) if row['model'] == 'rf' else '–'} | "
            f"{_fmt(ref.get('accuracy_dnn'), True) if row['model'] == 'rf' else '–'} |"
        )
    lines += [
        "",
        "## MER (valence / arousal, 1-9 scale)",
        "",
        "| exp | train → test | model | RMSE V | RMSE A | R² V | R² A | PCC V | PCC A | thesis RMSE V / A | "
        "thesis R² V / A |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    mer = results[results["task"].isin(["misme-mer-music", "misme-mer"])]
    mer = mer[(mer["experiment"] != "A") | (mer["task"] == "misme-mer-music")]
    for _, row in mer.sort_values(["experiment", "file"]).iterrows():
        ref = THESIS["mer"].get(row["experiment"], {}) if row["model"] == "rf" else {}
        lines.append(
            f"| {row['experiment']} | {row['train_view']} → {row['test_view']} | {row['model']} | "
            f"{_fmt(row['rmse_valence'])} | {_fmt(row['rmse_arousal'])} | {_fmt(row['r2_valence'])} | "
            f"{_fmt(row['r2_arousal'])} | {_fmt(row['pearson_r_valence'])} | "
            f"{_fmt(row['pearson_r_arousal'])} | {_fmt(ref.get('rmse_valence'))} / "
            f"{_fmt(ref.get('rmse_arousal'))} | {_fmt(ref.get('r2_valence'))} / "
            f"{_fmt(ref.get('r2_arousal'))} |"
        )
    return "\n".join(lines) + "\n"

"""``REPORT/report.md``: every thesis table of Chapters 4-5 and the appendices, numbered as
the thesis numbers them, the thesis's values beside ours (``–`` where it reports none);
``REPORT/tables/*.csv`` with the same numbers and ``REPORT/figures/*.png``."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from builders.common.atomic import atomic_file
from builders.misme.study import analysis, figures, tables, thesis
from builders.misme.study.families import PRESETS

INTRO = """# MiSME experiments: the thesis's tables on this build

Build: `{build}`. Preset `{preset}`{deviation}; seed {seed}; models: {models}.
Thesis values: Laugs 2020 (seed 000) on the real RAVDESS + DEAM/Soundtracks corpus,
speaker-independent 6-fold cross-validation; `–` where the thesis reports none. Ours:
out-of-fold predictions of this build's folds (speaker-dependent: clips dealt to as many
folds regardless of actor). SER accuracy and precision/recall as fractions; MER on 1-9:
RMSE and Pearson's r pooled over clips, R² the mean (sd) over folds. Importance: {importance}
(in units of 1e-2, as the thesis). Top-N subsets use the forest's ranking on the same
folds they are scored on, as the thesis did (optimistic by construction).
{notes}"""


COUNTS = (
    "features",
    "n_top",
    "n_top50",
    "n",
)  # columns of counts (floats where a value is missing)


def _cell(value, percent: bool, count: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, str):
        return value
    if isinstance(value, int) or count:
        return str(int(value))
    if percent:
        return f"{100 * value:.1f} %"
    return f"{value:.3g}" if abs(value) < 0.001 and value != 0 else f"{value:.3f}"


def markdown(frame: pd.DataFrame, percent: Callable[[str], bool] = lambda c: False) -> str:
    if frame.empty:
        return "_(nothing to report: the experiments it needs did not run)_\n"
    columns = list(frame.columns)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for _, row in frame.iterrows():
        cells = [
            _cell(row[c] if not pd.isna(row[c]) else None, percent(c), c.split()[-1] in COUNTS)
            for c in columns
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


class Report:
    def __init__(self, folder: Path) -> None:
        self.folder, self.parts = folder, []

    def table(self, number: str, title: str, frame: pd.DataFrame, percent=lambda c: False) -> None:
        slug = number.replace(" ", "-").replace(".", "_").lower()
        with atomic_file(self.folder / "tables" / f"{slug}.csv") as tmp:
            frame.to_csv(tmp, index=False, float_format="%.6g")
        self.parts.append(f"## {number}: {title}\n\n{markdown(frame, percent)}")

    def figure(self, caption: str, path: Path) -> None:
        self.parts.append(
            f"![{caption}]({path.relative_to(self.folder).as_posix()})\n\n*{caption}*\n"
        )

    def text(self, text: str) -> None:
        self.parts.append(text)


def _accuracy_column(column: str) -> bool:
    return column not in ("exp", "model", "features", "train → test", "emotion")


def write_report(folder: Path, outcome: dict) -> Path:
    folder = Path(folder)
    report = Report(folder)
    preset = outcome["preset"]
    notes = "".join(f"\n- note: {n}" for n in outcome["notes"])
    report.text(
        INTRO.format(
            build=outcome["build"],
            preset=preset,
            deviation="" if preset == "thesis" else f" (a deviation for speed: {PRESETS[preset]})",
            seed=outcome["seed"],
            models=", ".join(outcome["models"]),
            importance="permutation importance on the held-out fold, 5 repeats"
            if preset == "thesis"
            else "the forest's impurity importance (fast preset; the thesis used permutation importance)",
            notes=notes,
        )
    )
    domains = outcome["data"].domains
    if "ser" in domains:
        _speech(report, outcome)
    if "mer" in domains:
        _music(report, outcome)
    _chapter_5(report, outcome)
    _appendices(report, outcome)
    path = folder / "report.md"
    with atomic_file(path) as tmp:
        tmp.write_text("\n".join(report.parts))
    return path


def _speech(report: Report, outcome: dict) -> None:
    report.table(
        "Table 4.1",
        "speaker-dependent (SD) and -independent (SI) accuracy of the candidate models on speech",
        tables.table_4_1(outcome),
        _accuracy_column,
    )
    report.table(
        "Table 4.2",
        "accuracy of every model on the six speech experiments",
        tables.table_4_2(outcome),
        _accuracy_column,
    )
    report.table(
        "Table 4.3a",
        "precision per emotion (S = speech only, M = mixed, B = separated)",
        tables.table_4_3(outcome, "precision"),
    )
    report.table("Table 4.3b", "recall per emotion", tables.table_4_3(outcome, "recall"))
    report.table(
        "Table 4.4",
        "accuracy with the top-N features of the forest's ranking (experiment F)",
        tables.table_4_4(outcome),
        _accuracy_column,
    )


def _music(report: Report, outcome: dict) -> None:
    report.table(
        "Table 4.5",
        "the candidate models on music-only audio (experiment A)",
        tables.table_4_5(outcome),
    )
    report.table("Table 4.6", "every model on the six music experiments", tables.table_4_6(outcome))
    report.table(
        "Table 4.7",
        "RMSE with the top-N features of the forest's ranking (experiment F)",
        tables.table_4_7(outcome),
    )


def _chapter_5(report: Report, outcome: dict) -> None:
    domains = outcome["data"].domains
    for domain, target in analysis.SHARED_TABLES:
        if domain not in domains:
            continue
        number = analysis.SHARED_TABLES[domain, target]
        report.table(
            f"Table {number}",
            f"features shared by the top-N rankings of the audio types ({target})",
            analysis.shared_table(outcome, domain, target),
        )
        stats_number = analysis.STAT_TABLES[domain, target]
        for role, frame in analysis.statistics_tables(outcome, domain, target).items():
            report.table(
                f"Table {stats_number} ({analysis.AUDIO[role]})",
                f"importance statistics per feature type ({target}; top 250)",
                frame,
            )
        if domain == "mer" and target == "valence":
            report.table(
                "Table 5.3",
                "RMSE of the six music experiments (a copy of Table 4.6)",
                tables.table_4_6(outcome, rmse_only=True),
            )


def _appendices(report: Report, outcome: dict) -> None:
    data = outcome["data"]
    figures_dir = report.folder / "figures"
    if "mer" in data.domains:
        report.text("## Appendix A: predicted against true values\n")
        _best_top_n_heatmap(report, outcome, figures_dir)
        for model in [m for m in ("rf", "dnn") if m in outcome["models"]]:
            for experiment in ("A", "D", "F"):
                pred = outcome["experiments"].get(("mer", model, experiment))
                if pred is None:
                    continue
                truth = tables.truth_of(outcome, "mer", experiment)
                path = figures.mer_heatmap(
                    pred,
                    truth,
                    f"{model} experiment {experiment}",
                    figures_dir / f"A-mer-{model}-{experiment}.png",
                )
                report.figure(f"Figure A: {model} on experiment {experiment}", path)
    if "ser" in data.domains:
        for model in [m for m in ("rf", "dnn") if m in outcome["models"]]:
            for experiment in ("A", "D", "F"):
                pred = outcome["experiments"].get(("ser", model, experiment))
                if pred is not None:
                    truth = tables.truth_of(outcome, "ser", experiment)
                    path = figures.ser_confusion(
                        pred,
                        truth,
                        f"SER {model} {experiment}",
                        figures_dir / f"A-ser-{model}-{experiment}.png",
                    )
                    report.figure(
                        f"Confusion matrix (not in the thesis): SER {model} on {experiment}", path
                    )
    for appendix, domain, target in (
        ("B", "ser", "emotion"),
        ("C", "mer", "valence"),
        ("C", "mer", "arousal"),
    ):
        if domain not in data.domains:
            continue
        report.text(f"## Appendix {appendix}: the most important features ({target})\n")
        for role, frame in analysis.top_features(outcome, domain, target).items():
            name = f"{appendix}-{target}-{role}"
            report.table(
                f"Appendix {appendix} ({target}, {analysis.AUDIO[role]})",
                "the 20 most and 5 least important features",
                frame,
            )
            report.figure(
                f"Figure {appendix}: {target}, {analysis.AUDIO[role]} audio",
                figures.importance_bars(
                    frame, f"{target}: {analysis.AUDIO[role]}", figures_dir / f"{name}.png"
                ),
            )
    for domain in data.domains:
        report.table(
            f"Table D.1 ({domain.upper()})",
            "Diebold-Mariano tests between models and experiments (per-clip loss on the mixes; A's predictions given to the mixes of its clips)",
            analysis.dm_table(outcome, domain),
        )
    if "mer" in data.domains:
        for target in ("valence", "arousal"):
            ours = analysis.shared_by_all(outcome, target)
            theirs = thesis.APPENDIX_E[target]
            report.text(
                f"## Appendix E ({target}): features shared by the top 50 of all three audio types\n\n"
                f"Ours ({len(ours)}): {', '.join(ours) or '–'}\n\nThesis ({len(theirs)}): {', '.join(theirs)}\n"
            )


def _best_top_n_heatmap(report: Report, outcome: dict, figures_dir: Path) -> None:
    """Figure A.1: the forest with the top-N features of lowest mean RMSE, on experiment F's
    view (the thesis: top 50 for valence, top 100 for arousal; here one N for both)."""
    from builders.misme.study.metrics import mer_scores

    data = outcome["data"]
    view = data.roles["mer"].get("bss", data.roles["mer"]["mixed"])
    truth = data.views[view].labels
    runs = {n: p for (d, m, n), p in outcome["top_n"].items() if d == "mer" and m == "rf"}
    if not runs:
        return

    def mean_rmse(n: int) -> float:
        scores = mer_scores(runs[n], truth, tables.TARGETS)
        return sum(scores[t]["rmse"] for t in tables.TARGETS) / len(tables.TARGETS)

    best = min(runs, key=lambda n: (mean_rmse(n), n))
    path = figures.mer_heatmap(
        runs[best], truth, f"rf, top {best} features, {view}", figures_dir / "A1-mer-rf-top.png"
    )
    report.figure(f"Figure A.1: the forest with its {best} most important features on {view}", path)

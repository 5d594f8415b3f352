"""The thesis's tables of Chapter 4 from a study's outcome, our values beside the thesis's.

Each function returns a DataFrame whose columns alternate ours / thesis (``–`` where the
thesis reports none); ``report`` renders them. The outcome is ``run_study``'s.
"""

from __future__ import annotations

import math

import pandas as pd

from builders.misme.study import thesis
from builders.misme.study.families import THESIS_NAMES, models_for
from builders.misme.study.metrics import mer_scores, ser_scores
from builders.misme.study.plan import top_n_sizes

TARGETS = ("valence", "arousal")


def truth_of(outcome: dict, domain: str, experiment: str) -> pd.DataFrame:
    """The labels of the experiment's test view (``id, fold`` + targets)."""
    from builders.misme.baselines.settings import EXPERIMENTS

    data = outcome["data"]
    return data.views[data.roles[domain][EXPERIMENTS[experiment][1]]].labels


def _models(outcome: dict, domain: str) -> list[str]:
    return models_for(domain, outcome["models"])


def _ser(outcome: dict, model: str, experiment: str) -> dict | None:
    pred = outcome["experiments"].get(("ser", model, experiment))
    return None if pred is None else ser_scores(pred, truth_of(outcome, "ser", experiment))


def _mer(outcome: dict, model: str, experiment: str) -> dict | None:
    pred = outcome["experiments"].get(("mer", model, experiment))
    return None if pred is None else mer_scores(pred, truth_of(outcome, "mer", experiment), TARGETS)


def table_4_1(outcome: dict) -> pd.DataFrame:
    rows = []
    for model in _models(outcome, "ser"):
        sd = outcome["speaker_dependent"].get(model)
        data = outcome["data"]
        ours_sd = (
            ser_scores(sd, data.views[data.roles["ser"]["single"]].labels)
            if sd is not None
            else None
        )
        ours_si = _ser(outcome, model, "A")
        ref = thesis.TABLE_4_1.get(model, (None, None))
        rows.append(
            {
                "model": THESIS_NAMES["ser"][model],
                "accuracy SD": ours_sd and ours_sd["accuracy"],
                "thesis SD": ref[0],
                "accuracy SI": ours_si and ours_si["accuracy"],
                "thesis SI": ref[1],
            }
        )
    for name, value in thesis.TABLE_4_1_PUBLISHED.items():
        rows.append({"model": name, "accuracy SD": None, "thesis SD": value})
    return pd.DataFrame(rows)


def table_4_2(outcome: dict) -> pd.DataFrame:
    from builders.misme.baselines.settings import EXPERIMENTS

    rows = []
    for experiment, (train, test) in EXPERIMENTS.items():
        row = {"exp": experiment, "train → test": f"{train} → {test}"}
        for model in _models(outcome, "ser"):
            scores = _ser(outcome, model, experiment)
            row[THESIS_NAMES["ser"][model]] = scores and scores["accuracy"]
            if model in ("rf", "dnn", "dummy-stratified"):
                row[f"thesis {THESIS_NAMES['ser'][model]}"] = thesis.TABLE_4_2[experiment][model]
        rows.append(row)
    return pd.DataFrame(rows)


def table_4_3(outcome: dict, measure: str) -> pd.DataFrame:
    """Precision or recall per emotion for S-S (A), S-M (B), M-M (D), B-B (F)."""
    rows = []
    combos = dict(zip(thesis.TABLE_4_3_COMBINATIONS, ("S-S", "S-M", "M-M", "B-B"), strict=True))
    for model in _models(outcome, "ser"):
        scores = {e: _ser(outcome, model, e) for e in combos}
        ref = thesis.TABLE_4_3[measure].get(model, {})
        for code, emotion in enumerate(thesis.EMOTIONS, start=1):
            row = {"model": THESIS_NAMES["ser"][model], "emotion": emotion}
            for i, (experiment, label) in enumerate(combos.items()):
                row[label] = scores[experiment] and scores[experiment][measure][code]
                row[f"thesis {label}"] = ref[emotion][i] if emotion in ref else None
            rows.append(row)
    return pd.DataFrame(rows)


def _top_rows(outcome: dict, domain: str, score) -> list[tuple[int, dict]]:
    """(N, {model: score}) for all features (N = 0, experiment F or D) and each top N."""
    data = outcome["data"]
    experiment = "F" if "bss" in data.roles[domain] else "D"
    models = [m for m in ("rf", "dnn") if m in outcome["models"]]
    view = data.roles[domain].get("bss", data.roles[domain]["mixed"])
    truth = data.views[view].labels
    rows = [
        (0, {m: score(outcome["experiments"].get((domain, m, experiment)), truth) for m in models})
    ]
    for n in top_n_sizes(len(data.names[view])):
        rows.append((n, {m: score(outcome["top_n"].get((domain, m, n)), truth) for m in models}))
    return rows


def table_4_4(outcome: dict) -> pd.DataFrame:
    def accuracy(pred, truth):
        return None if pred is None else ser_scores(pred, truth)["accuracy"]

    rows = []
    for n, scores in _top_rows(outcome, "ser", accuracy):
        row = {"features": "all" if n == 0 else f"top {n}"}
        for model, value in scores.items():
            row[THESIS_NAMES["ser"][model]] = value
            row[f"thesis {THESIS_NAMES['ser'][model]}"] = thesis.TABLE_4_4.get(n, {}).get(model)
        rows.append(row)
    return pd.DataFrame(rows)


def _mer_row(scores: dict | None, ref: dict | None) -> dict:
    row = {}
    for target in TARGETS:
        ours = scores[target] if scores else {}
        theirs = ref.get(target) if ref else None
        short = target[0].upper()
        row[f"RMSE {short}"] = ours.get("rmse")
        row[f"thesis RMSE {short}"] = theirs and theirs[0]
        row[f"R² {short} (sd)"] = _with_sd(ours.get("r2"), ours.get("r2_sd"))
        row[f"thesis R² {short} (sd)"] = theirs and _with_sd(theirs[1], theirs[2])
        row[f"PCC {short}"] = ours.get("pcc")
        row[f"thesis PCC {short}"] = theirs and theirs[3]
    return row


def _with_sd(value, sd) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return f"{value:.3f} ({sd:.3f})"


def table_4_5(outcome: dict) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"model": THESIS_NAMES["mer"][m]}
            | _mer_row(_mer(outcome, m, "A"), thesis.TABLE_4_5.get(m))
            for m in _models(outcome, "mer")
        ]
    )


def table_4_6(outcome: dict, rmse_only: bool = False) -> pd.DataFrame:
    from builders.misme.baselines.settings import EXPERIMENTS

    rows = []
    for model in _models(outcome, "mer"):
        for experiment, (train, test) in EXPERIMENTS.items():
            ref = thesis.TABLE_4_6.get(model, {}).get(experiment)
            row = {
                "model": THESIS_NAMES["mer"][model],
                "exp": experiment,
                "train → test": f"{train} → {test}",
            }
            row |= _mer_row(_mer(outcome, model, experiment), ref)
            if rmse_only:
                row = {k: v for k, v in row.items() if "R²" not in k and "PCC" not in k}
            rows.append(row)
    return pd.DataFrame(rows)


def table_4_7(outcome: dict) -> pd.DataFrame:
    def rmse(pred, truth):
        return None if pred is None else mer_scores(pred, truth, TARGETS)

    rows = []
    for n, scores in _top_rows(outcome, "mer", rmse):
        row = {"features": "all" if n == 0 else f"top {n}"}
        for model, value in scores.items():
            name = THESIS_NAMES["mer"][model]
            for i, target in enumerate(TARGETS):
                row[f"{name} RMSE {target[0].upper()}"] = value and value[target]["rmse"]
                if model == "rf":
                    ref = thesis.TABLE_4_7.get(n)
                    row[f"thesis RFR RMSE {target[0].upper()}"] = ref and ref[i]
        rows.append(row)
    return pd.DataFrame(rows)

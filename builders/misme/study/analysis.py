"""Chapter 5 and the appendices from a study's outcome: shared features (Tables 5.1, 5.4,
5.6), importance statistics per feature type (5.2, 5.5, 5.7), the most important features
(Appendices B, C), Diebold-Mariano tests (Table D.1, Section 5.3) and the features shared by
all three audio types (Appendix E)."""

from __future__ import annotations

import pandas as pd

from builders.misme.baselines.models import broadcast
from builders.misme.study import thesis
from builders.misme.study.importance import ranking, shared_counts, type_statistics
from builders.misme.study.metrics import dm_test, losses

AUDIO = {"single": "single-source", "mixed": "mixed", "bss": "separated"}
SHARED_TABLES = {("ser", "emotion"): "5.1", ("mer", "valence"): "5.4", ("mer", "arousal"): "5.6"}
STAT_TABLES = {("ser", "emotion"): "5.2", ("mer", "valence"): "5.5", ("mer", "arousal"): "5.7"}
THESIS_SHARED = {"5.1": thesis.TABLE_5_1, "5.4": thesis.TABLE_5_4, "5.6": thesis.TABLE_5_6}


def importances(outcome: dict, domain: str, target: str) -> dict[str, tuple[list[str], object]]:
    """Audio role -> (feature names, importance per feature) of the forest on A, D, F."""
    data = outcome["data"]
    found = {}
    for role in AUDIO:
        per_target = outcome["importance"].get((domain, role))
        if per_target and target in per_target:
            found[role] = (data.names[data.roles[domain][role]], per_target[target])
    return found


def shared_table(outcome: dict, domain: str, target: str) -> pd.DataFrame:
    found = importances(outcome, domain, target)
    ours = shared_counts({role: ranking(imp, names) for role, (names, imp) in found.items()})
    reference = THESIS_SHARED[SHARED_TABLES[domain, target]]
    for n_index, column in enumerate([c for c in ours.columns if c.startswith("top")]):
        ours.insert(
            list(ours.columns).index(column) + 1,
            f"thesis {column}",
            [reference.get(b, (None,) * 4)[n_index] for b in ours["between"]],
        )
    return ours


def statistics_tables(outcome: dict, domain: str, target: str) -> dict[str, pd.DataFrame]:
    """Audio role -> per-type statistics with the thesis's beside them (1e-2 units)."""
    tables = {}
    reference = thesis.TABLE_5_2 if domain == "ser" else thesis.TABLE_5_5_7[target]
    for role, (names, imp) in importances(outcome, domain, target).items():
        ours = type_statistics(imp, names, domain)
        ref = reference.get(role, {})
        if domain == "ser":  # (features, mean all, mean top 250, n top 250, contribution %)
            pick = {"mean_all": 1, "mean_top": 2, "n_top": 3, "contribution": 4}
        else:  # (features, mean all, n top 250, mean top 250, contribution %, n top 50)
            pick = {"mean_all": 1, "n_top": 2, "mean_top": 3, "contribution": 4, "n_top50": 5}
        for column, index in pick.items():
            values = [ref[k][index] if k in ref else None for k in ours["type"]]
            if column == "contribution":
                values = [None if v is None else v / 100 for v in values]
            ours.insert(list(ours.columns).index(column) + 1, f"thesis {column}", values)
        ours.insert(3, "thesis features", [ref[k][0] if k in ref else None for k in ours["type"]])
        tables[role] = ours
    return tables


def top_features(outcome: dict, domain: str, target: str, n: int = 20) -> dict[str, pd.DataFrame]:
    """Audio role -> its ``n`` most important and 5 least important features (Appendix B/C)."""
    tables = {}
    for role, (names, imp) in importances(outcome, domain, target).items():
        order = ranking(imp, names)
        value = dict(zip(names, imp, strict=True))
        chosen = [*order[:n], *order[-5:]] if len(order) > n + 5 else order
        tables[role] = pd.DataFrame(
            {
                "rank": [order.index(f) + 1 for f in chosen],
                "feature": chosen,
                "importance": [value[f] for f in chosen],
            }
        )
    return tables


def shared_by_all(outcome: dict, target: str, n: int = 50) -> list[str]:
    found = importances(outcome, "mer", target)
    if len(found) < 3:
        return []
    tops = [set(ranking(imp, names)[:n]) for names, imp in found.values()]
    return sorted(set.intersection(*tops))


def _mix_level(outcome: dict, domain: str, model: str, experiment: str) -> pd.DataFrame | None:
    pred = outcome["experiments"].get((domain, model, experiment))
    if pred is None or experiment != "A":
        return pred
    data = outcome["data"]
    return broadcast(pred, data.mixes, data.domains[domain])


def dm_table(outcome: dict, domain: str) -> pd.DataFrame:
    """Table D.1's pairs (and, for SER, the same pairs on 0/1 loss): p-values per target."""
    data = outcome["data"]
    truth = data.views[data.roles[domain]["mixed"]].labels
    targets = data.domains[domain].targets
    rows = []
    for (a, b), reference in thesis.TABLE_D_1.items():
        pred_a, pred_b = _mix_level(outcome, domain, *a), _mix_level(outcome, domain, *b)
        if pred_a is None or pred_b is None:
            continue
        row = {"a": f"{a[0]} {a[1]}", "b": f"{b[0]} {b[1]}"}
        for i, target in enumerate(targets):
            loss = {
                k: losses(p, truth, target, domain == "ser")
                for k, p in (("a", pred_a), ("b", pred_b))
            }
            test = dm_test(loss["a"], loss["b"])
            row[f"DM {target}"] = test["statistic"]
            row[f"p {target}"] = test["pvalue"]
            row[f"thesis p {target}"] = reference[i] if domain == "mer" else None
        row["n"] = test["n"]
        rows.append(row)
    return pd.DataFrame(rows)

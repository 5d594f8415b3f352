"""The study's inputs (labels and feature matrices per view) and the fits of each stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from builders.errors import UserError
from builders.features.matrix import feature_names
from builders.misme.baselines.data import check_folds, labels, load_features, load_manifests
from builders.misme.baselines.runs import bss_role
from builders.misme.baselines.settings import EXPERIMENTS, Domain
from builders.misme.study.families import models_for
from builders.misme.study.fits import SPEAKER_DEPENDENT, SPEAKER_INDEPENDENT, Fit, ViewData

ROLES = ("single", "mixed", "bss")
TOP_N = (20, 50, 100, 250, 500)


@dataclass
class StudyData:
    domains: dict[str, Domain]
    views: dict[str, ViewData] = field(default_factory=dict)
    names: dict[str, list[str]] = field(default_factory=dict)  # view -> feature columns
    roles: dict[str, dict[str, str]] = field(default_factory=dict)  # domain -> role -> view
    mixes: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    def experiments(self, domain: str) -> list[str]:
        """The experiments A-F whose two views the build has for ``domain``."""
        have = self.roles[domain]
        return [e for e, roles in EXPERIMENTS.items() if all(r in have for r in roles)]


def load_study_data(out: Path, domains: dict[str, Domain], bss: str) -> StudyData:
    """Labels and features of every view with features (a missing separated view skips
    experiments C, E and F with a note; a missing single or mixed view is an error)."""
    sources, mixes = load_manifests(out)
    check_folds(sources, mixes)
    data = StudyData(
        domains, mixes=mixes.sort_values("mix_id", kind="stable").reset_index(drop=True)
    )
    for name, domain in domains.items():
        data.roles[name] = {}
        choice = bss_role(out, domain, bss)
        for role in ROLES:
            if role == "bss" and choice is None:
                data.notes.append(
                    f"{name.upper()}: no separated view has {domain.feature_set} features; "
                    "experiments C, E and F are skipped (run `misme-build misme separate`, "
                    "then `misme-build features`)"
                )
                continue
            view = domain.views[choice if role == "bss" else role]
            frame = labels(domain, "single" if role == "single" else "mix", sources, data.mixes)
            x = load_features(out, domain, view, frame)
            data.views[view] = ViewData(frame, x)
            data.names[view] = feature_names(out, domain.feature_set, view)
            data.roles[name][role] = view
    return data


def experiment_fits(data: StudyData, models: list[str], importance: str) -> list[Fit]:
    """Per domain, model and training view: one fit tested on every view its experiments
    test (A, B, C from single; D, E from mixed; F from separated); the forest's fits on A, D
    and F also measure each feature's importance."""
    fits = []
    for name, domain in data.domains.items():
        roles = data.roles[name]
        for model in models_for(name, models):
            for train in ROLES:
                tests = [
                    t for e in data.experiments(name) for r, t in [EXPERIMENTS[e]] if r == train
                ]
                if not tests:
                    continue
                fits.append(
                    Fit(
                        name,
                        domain.targets,
                        model,
                        roles[train],
                        tuple(roles[t] for t in tests),
                        SPEAKER_INDEPENDENT,
                        importance=importance if model == "rf" else "none",
                    )
                )
    return fits


def candidate_fits(data: StudyData, models: list[str]) -> list[Fit]:
    """Table 4.1's speaker-dependent column: each SER family on speech, clips dealt to folds
    regardless of actor (the speaker-independent column is experiment A)."""
    if "ser" not in data.domains:
        return []
    view = data.roles["ser"]["single"]
    targets = data.domains["ser"].targets
    return [
        Fit("ser", targets, model, view, (view,), SPEAKER_DEPENDENT)
        for model in models_for("ser", models)
    ]


def top_n_sizes(n_features: int) -> list[int]:
    """20, 50, 100, 250, 500 clipped to the feature count (each size once)."""
    return sorted({min(n, n_features) for n in TOP_N})


def top_n_fits(
    data: StudyData, models: list[str], rankings: dict[str, dict[str, list[int]]]
) -> list[Fit]:
    """Tables 4.4 and 4.7: the forest and the D-NN retrained on experiment F's view (D's
    without separation) with only the N most important features of the forest's ranking
    there (per target). ``rankings``: domain -> target -> column indices by importance."""
    fits = []
    for name, domain in data.domains.items():
        if name not in rankings:
            continue
        view = data.roles[name].get("bss", data.roles[name]["mixed"])
        for model in [m for m in ("rf", "dnn") if m in models]:
            for n in top_n_sizes(len(data.names[view])):
                columns = {t: tuple(sorted(rankings[name][t][:n])) for t in domain.targets}
                fits.append(
                    Fit(name, domain.targets, model, view, (view,), columns=columns, tag=f"top{n}")
                )
    return fits


def check_models_fit(data: StudyData, models: list[str]) -> None:
    if not any(models_for(name, models) for name in data.domains):
        raise UserError("none of the chosen models applies to the chosen tasks")


def rank_columns(importance: np.ndarray) -> list[int]:
    """Column indices from most to least important (ties by index)."""
    return sorted(range(len(importance)), key=lambda i: (-importance[i], i))

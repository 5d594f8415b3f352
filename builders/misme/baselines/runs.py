"""Which prediction files to make (experiments x models x views), and making them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from builders.common.atomic import atomic_file
from builders.errors import UserError
from builders.misme.baselines.data import (
    check_folds,
    feature_hint,
    has_features,
    labels,
    load_features,
    load_manifests,
)
from builders.misme.baselines.models import CrossValidation, broadcast, run_cross_validations
from builders.misme.baselines.settings import EXPERIMENTS, Domain


@dataclass(frozen=True)
class Run:
    """One prediction file: experiment, model, which views, which task."""

    domain: str
    experiment: str
    model: str
    train_view: str
    test_view: str
    task: str
    label: str  # file stem, e.g. "C-oracle-rf"


def parse_list(text: str, allowed: Iterable[str], what: str) -> tuple[list[str], bool]:
    """Comma-separated choices; ``all`` = every allowed value. Returns (values, was_all)."""
    allowed = list(allowed)
    if text.strip().lower() == "all":
        return allowed, True
    values = [v.strip() for v in text.split(",") if v.strip()]
    unknown = [v for v in values if v not in allowed]
    if unknown or not values:
        raise UserError(
            f"unknown {what} {', '.join(unknown) or repr(text)}; choose from {', '.join(allowed)} or all"
        )
    return sorted(set(values), key=allowed.index), False


def bss_role(out: Path, domain: Domain, bss: str) -> str | None:
    """Which separated view C/E/F use: 'bss' (Spleeter) or 'bss-oracle'; None if neither has features."""
    if bss in ("spleeter", "oracle"):
        return "bss" if bss == "spleeter" else "bss-oracle"
    for role in ("bss", "bss-oracle"):
        if has_features(out, domain, domain.views[role]):
            return role
    return None


def view_for(domain: Domain, role: str, bss_choice: str | None) -> str:
    return domain.views[bss_choice if role == "bss" else role]


def plan_runs(
    out: Path,
    domains: list[Domain],
    experiments: list[str],
    models: list[str],
    *,
    bss: str = "auto",
    skip_missing: bool = False,
) -> tuple[list[Run], list[str]]:
    """The prediction files to make, and notes about skipped experiments.

    An experiment whose views lack features is an error naming the missing step, or a
    note when ``skip_missing`` (the user asked for ``all``).
    """
    runs, notes = [], []
    for domain in domains:
        choice = bss_role(out, domain, bss)
        for experiment in experiments:
            roles = EXPERIMENTS[experiment]
            if "bss" in roles and choice is None:
                message = (
                    f"experiment {experiment} ({domain.name.upper()}) needs separated audio: "
                    f"{feature_hint(out, domain, domain.views['bss'])}"
                )
                if not skip_missing:
                    raise UserError(message)
                notes.append(f"skipped: {message}")
                continue
            train_view, test_view = (view_for(domain, r, choice) for r in roles)
            missing = [v for v in (train_view, test_view) if not has_features(out, domain, v)]
            if missing:
                message = f"experiment {experiment} ({domain.name.upper()}): {feature_hint(out, domain, missing[0])}"
                if not skip_missing:
                    raise UserError(
                        f"no {domain.feature_set} features for view '{missing[0]}'; {message}"
                    )
                notes.append(f"skipped: {message}")
                continue
            suffix = "-oracle" if "bss" in roles and choice == "bss-oracle" else ""
            for model in models:
                label = f"{experiment}{suffix}-{model}"
                runs.append(
                    Run(
                        domain.name,
                        experiment,
                        model,
                        train_view,
                        test_view,
                        domain.mix_task,
                        label,
                    )
                )
                if experiment == "A":
                    runs.append(
                        Run(
                            domain.name,
                            experiment,
                            model,
                            train_view,
                            test_view,
                            domain.single_task,
                            label,
                        )
                    )
    return runs, notes


# ---------------------------------------------------------------- running


def predict_all(
    out: Path,
    domains: dict[str, Domain],
    runs: list[Run],
    *,
    seed: int = 0,
    workers: int = 1,
    preset: str = "thesis",
) -> dict[Run, pd.DataFrame]:
    """Out-of-fold prediction frames for every run (each train view fit once per fold and model)."""
    sources, mixes = load_manifests(out)
    check_folds(sources, mixes)
    mixes = mixes.sort_values("mix_id", kind="stable").reset_index(drop=True)
    results: dict[Run, pd.DataFrame] = {}
    data: dict[tuple[str, str], tuple[pd.DataFrame, np.ndarray]] = {}

    def view_data(domain: Domain, view: str) -> tuple[pd.DataFrame, np.ndarray]:
        if (domain.name, view) not in data:
            role = "single" if view == domain.views["single"] else "mix"
            frame = labels(domain, role, sources, mixes)
            data[domain.name, view] = (frame, load_features(out, domain, view, frame))
        return data[domain.name, view]

    groups: dict[tuple[str, str, str], list[Run]] = {}
    for run in runs:
        groups.setdefault((run.domain, run.model, run.train_view), []).append(run)
    validations = [
        CrossValidation(
            domains[name],
            model,
            view_data(domains[name], train_view),
            {v: view_data(domains[name], v) for v in sorted({r.test_view for r in group})},
            seed,
            preset,
        )
        for (name, model, train_view), group in groups.items()
    ]
    for group, predictions in zip(
        groups.values(), run_cross_validations(validations, workers), strict=True
    ):
        for run in group:
            domain = domains[run.domain]
            frame = predictions[run.test_view]
            if run.experiment == "A" and run.task == domain.mix_task:
                frame = broadcast(frame, mixes, domain)
            results[run] = frame
    return results


def prediction_path(submissions: Path, run: Run) -> Path:
    return Path(submissions) / run.task / f"{run.label}.csv"


def write_predictions(frame: pd.DataFrame, path: Path) -> None:
    with atomic_file(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.10g")

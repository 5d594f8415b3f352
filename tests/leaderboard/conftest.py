"""Shared fixtures: a tiny challenge (solution files + TOML) in a temporary folder."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leaderboard.challenge.config import ChallengeConfig, load_config

EMOTIONS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
DEV_START = datetime(2025, 1, 1, tzinfo=UTC)
IN_DEV = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)
AFTER_DEV = datetime(2025, 2, 2, tzinfo=UTC)


class Clock:
    """An injectable clock that only moves when told."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def ser_solution(n_actors: int = 8, clips: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = []
    for actor in range(1, n_actors + 1):
        for clip in range(clips):
            rows.append(
                {
                    "id": f"a{actor:02d}-c{clip:02d}",
                    "fold": 6,
                    "emotion": int(rng.integers(1, 9)),
                    "actor": f"{actor:02d}",
                    "gender": "male" if actor % 2 else "female",
                }
            )
    return pd.DataFrame(rows)


def mer_solution(n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    return pd.DataFrame(
        {
            "id": [f"m{i:03d}" for i in range(n)],
            "fold": 6,
            "valence": rng.uniform(1, 9, n).round(3),
            "arousal": rng.uniform(1, 9, n).round(3),
        }
    )


CONFIG_TEMPLATE = """
name = "Tiny MiSME challenge"
description = "A test challenge."
max_file_bytes = {max_file_bytes}
time_limit_s = {time_limit_s}

[quotas]
per_day = {per_day}
total = {total}
count_failed = {count_failed}

[[tasks]]
name = "misme-ser"
solution = "solutions/misme-ser.parquet"

[[tasks]]
name = "misme-mer"
solution = "solutions/misme-mer.parquet"

[[phases]]
name = "dev"
start = "2025-01-01T00:00:00Z"
end = "2025-02-01T00:00:00Z"
public_fraction = 0.5
seed = 3

[[phases]]
name = "test"
start = "2025-02-01T00:00:00Z"
end = "2025-03-01T00:00:00Z"
public_fraction = 0.5
seed = 4
"""


def write_challenge(
    folder: Path,
    per_day: int = 5,
    total: int = 50,
    count_failed: bool = False,
    max_file_bytes: int = 1_000_000,
    time_limit_s: float = 60,
    open_now: bool = False,
) -> Path:
    """A challenge folder; `open_now` moves the dev phase to 2020-2099 (for the live app)."""
    (folder / "solutions").mkdir(parents=True, exist_ok=True)
    ser_solution().to_parquet(folder / "solutions" / "misme-ser.parquet", index=False)
    mer_solution().to_parquet(folder / "solutions" / "misme-mer.parquet", index=False)
    path = folder / "challenge.toml"
    path.write_text(
        CONFIG_TEMPLATE.format(
            per_day=per_day,
            total=total,
            count_failed=str(count_failed).lower(),
            max_file_bytes=max_file_bytes,
            time_limit_s=time_limit_s,
        ),
        encoding="utf-8",
    )
    if open_now:
        text = path.read_text().replace(
            'start = "2025-01-01T00:00:00Z"', 'start = "2020-01-01T00:00:00Z"'
        )
        text = text.replace("2025-02-01T00:00:00Z", "2099-01-01T00:00:00Z")
        path.write_text(text.replace("2025-03-01T00:00:00Z", "2099-06-01T00:00:00Z"))
    return path


@pytest.fixture
def challenge(tmp_path: Path) -> ChallengeConfig:
    from leaderboard.store.schema import init_store

    config = load_config(write_challenge(tmp_path))
    init_store(config, now=DEV_START)
    return config


def ser_predictions(path: Path, correct: int, seed: int = 0) -> Path:
    """A SER prediction file with exactly the first `correct` ids (sorted) right."""
    solution = ser_solution().sort_values("id").reset_index(drop=True)
    predicted = solution["emotion"].copy()
    wrong = np.arange(len(solution)) >= correct
    predicted[wrong] = predicted[wrong] % 8 + 1
    frame = pd.DataFrame({"id": solution["id"], "emotion": predicted})
    frame = frame.sample(frac=1.0, random_state=seed)
    frame.to_csv(path, index=False)
    return path


def mer_predictions(path: Path, noise: float, seed: int = 0) -> Path:
    solution = mer_solution()
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "id": solution["id"],
            "valence": solution["valence"] + rng.normal(0, noise, len(solution)),
            "arousal": solution["arousal"] + rng.normal(0, noise, len(solution)),
        }
    )
    frame.to_csv(path, index=False)
    return path


def stale_pending_row(config: ChallengeConfig, token: str) -> None:
    """A pending submission created an hour ago, as a submit killed while scoring leaves it."""
    from datetime import timedelta

    from leaderboard.store.sessions import utc_now
    from leaderboard.submissions.submit import _reserve

    _reserve(
        config,
        token,
        "misme-ser",
        config.phase("dev"),
        "0" * 64,
        "p.csv",
        "",
        utc_now() - timedelta(hours=1),
    )


# ---------------------------------------------------------------- every task of the demo

ALL_TASKS = ("misme-ser", "misme-mer", "mer-quadrant", "mer-va", "muse-vad")
LONG_NAMES = (
    "RF A: speech alone (a very long baseline team name, 60+ characters)",
    "Dummy A: speech alone",
    "<b>x</b> | $x$ | =cmd",
)


def _task_solutions(n: int = 48) -> dict[str, pd.DataFrame]:
    """Small solutions with the extra columns the builders write (groups, gender, corpus)."""
    rng = np.random.default_rng(3)
    corpora = np.array(["deam", "soundtracks", "emopia"])[np.arange(n) % 3]
    prefix = np.char.add(np.array(["d_", "s_", "e_"])[np.arange(n) % 3], np.arange(n).astype(str))
    va = {"valence": rng.uniform(-1, 1, n).round(3), "arousal": rng.uniform(-1, 1, n).round(3)}
    ser = ser_solution(8, n // 8)
    mer = mer_solution(n).assign(group=[f"music{i % 12}" for i in range(n)], corpus=corpora)
    quadrant = pd.DataFrame(
        {
            "id": prefix,
            "fold": 6,
            "quadrant": rng.choice(["Q1", "Q2", "Q3", "Q4"], n),
            "group": [f"artist{i % 10}" for i in range(n)],
            "corpus": corpora,
        }
    )
    va_frame = pd.DataFrame(
        {"id": prefix, "fold": 6, **va, "group": quadrant["group"], "corpus": corpora}
    )
    vad = pd.DataFrame(
        {
            "id": [f"t{i:04d}-0000" for i in range(n)],
            "fold": 6,
            **{t: rng.uniform(0, 1, n).round(3) for t in ("valence", "arousal", "dominance")},
            "scale": "[0,1]",
            "group": [f"artist{i % 9}" for i in range(n)],
        }
    )
    return {
        "misme-ser": ser,
        "misme-mer": mer,
        "mer-quadrant": quadrant,
        "mer-va": va_frame,
        "muse-vad": vad,
    }


def write_all_tasks_challenge(folder: Path) -> Path:
    """A challenge with every task of the demo board, its dev phase open now."""
    (folder / "solutions").mkdir(parents=True, exist_ok=True)
    tasks = ""
    for task, frame in _task_solutions().items():
        frame.to_parquet(folder / "solutions" / f"{task}.parquet", index=False)
        tasks += f'[[tasks]]\nname = "{task}"\nsolution = "solutions/{task}.parquet"\n\n'
    path = folder / "challenge.toml"
    path.write_text(
        f'name = "Every task"\nbootstrap_resamples = 300\n\n{tasks}'
        '[[phases]]\nname = "dev"\nstart = "2020-01-01T00:00:00Z"\n'
        'end = "2099-01-01T00:00:00Z"\npublic_fraction = 0.5\nseed = 3\n',
        encoding="utf-8",
    )
    return path


def task_predictions(folder: Path, task: str, quality: float, seed: int = 0) -> Path:
    """Predictions of ``task`` for the all-tasks challenge: right with probability ``quality``
    (classification) or with noise 1 - quality (regression)."""
    solution = _task_solutions()[task]
    rng = np.random.default_rng(seed)
    frame = solution[["id"]].copy()
    if task in ("misme-ser", "mer-quadrant"):
        target = "emotion" if task == "misme-ser" else "quadrant"
        labels = list(EMOTIONS) if task == "misme-ser" else ["Q1", "Q2", "Q3", "Q4"]
        truth = solution[target].map(lambda v: labels[v - 1] if task == "misme-ser" else v)
        wrong = rng.random(len(frame)) >= quality
        frame[target] = np.where(
            wrong, [labels[(labels.index(t) + 1) % len(labels)] for t in truth], truth
        )
    else:
        targets = [c for c in ("valence", "arousal", "dominance") if c in solution.columns]
        for target in targets:
            frame[target] = solution[target] + rng.normal(0, 1.0 - quality, len(frame))
    path = folder / f"{task}-{quality}-{seed}.csv"
    frame.to_csv(path, index=False)
    return path

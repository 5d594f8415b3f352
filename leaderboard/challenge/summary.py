"""What a participant may know of the challenge before submitting: its tasks (the file
format a prediction needs, the metric it is ranked by), its phases (status, time left,
quotas) and its limits. Read from the config only; no database, no labels."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from benchmark.tasks import get_task
from leaderboard.challenge.config import ChallengeConfig, PhaseConfig, primary_metric

SAMPLE_ID = "<an id of the test data>"


def task_format(name: str) -> dict[str, Any]:
    """The columns a prediction file of ``name`` has, the labels it accepts and one sample row."""
    task = get_task(name)
    if task.labels is not None:
        example: object = task.labels[0]
    elif task.value_range is not None:
        example = (task.value_range[0] + task.value_range[1]) / 2
    else:
        example = 0.5
    return {
        "kind": task.kind,
        "columns": list(task.columns),
        "labels": list(task.labels) if task.labels else None,
        "codes": (
            [task.code_base, task.code_base + len(task.labels) - 1]
            if task.code_base is not None and task.labels
            else None
        ),
        "value_range": list(task.value_range) if task.value_range else None,
        "sample_row": {"id": SAMPLE_ID, **{target: example for target in task.targets}},
        "file_types": ["csv", "parquet"],
    }


def phase_status(phase: PhaseConfig, now: datetime) -> dict[str, Any]:
    """upcoming / open / ended, and the seconds until it opens or closes."""
    if now < phase.start:
        status, seconds = "upcoming", (phase.start - now).total_seconds()
    elif phase.is_open(now):
        status, seconds = "open", (phase.end - now).total_seconds()
    else:
        status, seconds = "ended", 0.0
    return {"status": status, "seconds_left": int(seconds)}


def challenge_summary(config: ChallengeConfig, now: datetime) -> dict[str, Any]:
    """The challenge as plain data (JSON-ready)."""
    tasks = []
    for task in config.tasks:
        metric, higher = primary_metric(config, task.name)
        tasks.append(
            {
                "name": task.name,
                "description": get_task(task.name).description,
                "primary_metric": metric,
                "higher_is_better": higher,
                "format": task_format(task.name),
            }
        )
    phases = [
        {
            "name": phase.name,
            "start": phase.start.isoformat(),
            "end": phase.end.isoformat(),
            **phase_status(phase, now),
            "public_fraction": phase.public_fraction,
            "quota": phase.quota.model_dump(),
        }
        for phase in config.phases
    ]
    return {
        "name": config.name,
        "description": config.description,
        "max_file_bytes": config.max_file_bytes,
        "time_limit_s": config.time_limit_s,
        "final_submissions": config.final_submissions,
        "tasks": tasks,
        "phases": phases,
    }

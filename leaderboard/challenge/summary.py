"""What a participant may know of the challenge before submitting: its tasks (the file
format a prediction needs, the metric it is ranked by), its phases (status, time left,
quotas) and its limits. Read from the config only; no database, no labels."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

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


def evaluation_text(config: ChallengeConfig, task: str) -> str:
    """How a task is ranked and what the board's statistics are, in a few sentences."""
    metric, higher = primary_metric(config, task)
    return (
        f"Ranked by {metric} ({'higher' if higher else 'lower'} is better), computed once over "
        "all the ranked ids together (pooled), not as a mean of per-fold values; the "
        "submission page also shows each fold's value and their mean ± sd (fold mean). "
        "During a phase the board ranks on its public ids; the private ids decide the final "
        "board once the phase has ended. Each row carries a 95 % paired-bootstrap interval "
        "of the metric and of the rank, the top group (teams whose rank interval overlaps "
        "the leader's) and a Diebold-Mariano test against the leader on per-id losses, "
        "Holm-corrected at 0.05."
    )


def phase_ids(config: ChallengeConfig, task: str, phase: str) -> list[str]:
    """The ids a submission of ``task`` in ``phase`` must cover, read from the solution's
    ``id`` and ``fold`` columns only (the labels are never read here)."""
    path = config.task(task).solution
    columns = ["id", "fold"]
    if path.suffix == ".parquet":
        table = pq.read_table(path, columns=columns)
    else:
        options = pa_csv.ConvertOptions(
            include_columns=columns, column_types={"id": pa.string(), "fold": pa.int64()}
        )
        table = pa_csv.read_csv(path, convert_options=options)
    folds = config.phase(phase).folds
    if folds is not None:
        table = table.filter(pc.is_in(table.column("fold"), pa.array(folds, pa.int64())))
    return sorted(str(i) for i in table.column("id").to_pylist())


def sample_rows(task: str, ids: list[str]) -> tuple[list[str], list[list[object]]]:
    """The header and rows of a valid submission of ``task`` for ``ids``: dummy predictions
    (labels in turn, or the middle of the scale)."""
    known = get_task(task)
    example = task_format(task)["sample_row"]
    rows = [
        [
            identifier,
            *(
                known.labels[n % len(known.labels)] if known.labels else example[target]
                for target in known.targets
            ),
        ]
        for n, identifier in enumerate(ids)
    ]
    return list(known.columns), rows


def csv_text(header: list[str], rows: list[list[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def sample_submission(config: ChallengeConfig, task: str, phase: str) -> str:
    """A valid submission of ``task`` for ``phase`` as CSV text (every id of the phase)."""
    return csv_text(*sample_rows(task, phase_ids(config, task, phase)))

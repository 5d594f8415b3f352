"""Challenge configuration (TOML), validated into frozen dataclasses with clear errors."""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from leaderboard.errors import LeaderboardError

DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024
DEFAULT_TIME_LIMIT_S = 120.0
DEFAULT_MEMORY_LIMIT_MB = 4096
DATABASE_DIALECTS = ("sqlite", "postgresql")


@dataclass(frozen=True)
class Quota:
    per_day: int | None = None  # per UTC day, per team, task and phase
    total: int | None = None
    count_failed: bool = False  # do invalid / failed / timed-out submissions use quota?


@dataclass(frozen=True)
class TaskConfig:
    name: str
    solution: Path
    primary_metric: str | None = None  # None: the benchmark task's default
    higher_is_better: bool | None = None


@dataclass(frozen=True)
class PhaseConfig:
    name: str
    start: datetime
    end: datetime
    public_fraction: float = 0.5
    seed: int = 0
    folds: tuple[int, ...] | None = None  # None: every fold in the solution file
    quota: Quota = Quota()

    def is_open(self, now: datetime) -> bool:
        return self.start <= now < self.end

    def has_ended(self, now: datetime) -> bool:
        return now >= self.end


@dataclass(frozen=True)
class ChallengeConfig:
    name: str
    path: Path
    database_url: str
    tasks: tuple[TaskConfig, ...]
    phases: tuple[PhaseConfig, ...]
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    time_limit_s: float = DEFAULT_TIME_LIMIT_S
    memory_limit_mb: int = DEFAULT_MEMORY_LIMIT_MB
    description: str = ""

    def task(self, name: str) -> TaskConfig:
        return _named(self.tasks, name, "task")

    def phase(self, name: str) -> PhaseConfig:
        return _named(self.phases, name, "phase")

    def open_phase(self, now: datetime) -> PhaseConfig:
        for phase in self.phases:
            if phase.is_open(now):
                return phase
        raise LeaderboardError(f"no phase is open at {now.isoformat()}")

    def current_or_last_phase(self, now: datetime) -> PhaseConfig:
        """The open phase, else the last one that started, else the first."""
        started = [p for p in self.phases if p.start <= now]
        for phase in started:
            if phase.is_open(now):
                return phase
        return started[-1] if started else self.phases[0]


def _named(items, name: str, kind: str):
    """The item called ``name``, or a LeaderboardError listing the known names."""
    for item in items:
        if item.name == name:
            return item
    known = ", ".join(item.name for item in items)
    raise LeaderboardError(f"unknown {kind} {name!r} in this challenge ({kind}s: {known})")


def load_config(path: str | Path, database_url: str | None = None) -> ChallengeConfig:
    """Read and validate a challenge TOML file; `database_url` overrides the file's."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LeaderboardError(f"config file not found: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise LeaderboardError(f"{path}: not valid TOML: {error}") from None
    except OSError as error:
        raise LeaderboardError(f"cannot read config file {path}: {error.strerror or error}") from None
    return parse_config(raw, path, database_url)


def parse_config(raw: dict[str, Any], path: Path, database_url: str | None = None) -> ChallengeConfig:
    where = str(path)
    _reject_unknown(raw, {"name", "database", "description", "max_file_bytes", "time_limit_s",
                          "memory_limit_mb", "tasks", "phases", "quotas"}, where)
    default_quota = _parse_quota(raw.get("quotas", {}), f"{where} [quotas]", Quota())
    tasks = tuple(_parse_task(t, path.parent, f"{where} tasks[{i}]")
                  for i, t in enumerate(_table_list(raw, "tasks", where)))
    phases = tuple(_parse_phase(p, f"{where} phases[{i}]", default_quota)
                   for i, p in enumerate(_table_list(raw, "phases", where)))
    _check_unique([t.name for t in tasks], "task", where)
    _check_unique([p.name for p in phases], "phase", where)
    _check_no_overlap(phases, where)
    for index, task in enumerate(tasks):
        _check_task_against_benchmark(task, f"{where} tasks[{index}]")
    return ChallengeConfig(
        name=_text(raw, "name", where),
        path=path,
        database_url=_check_dialect(database_url, "--db") if database_url else _database_url(raw.get("database"), path),
        tasks=tasks,
        phases=tuple(sorted(phases, key=lambda p: p.start)),
        max_file_bytes=_positive_int(raw, "max_file_bytes", where, DEFAULT_MAX_FILE_BYTES),
        time_limit_s=_positive_float(raw, "time_limit_s", where, DEFAULT_TIME_LIMIT_S),
        memory_limit_mb=_positive_int(raw, "memory_limit_mb", where, DEFAULT_MEMORY_LIMIT_MB),
        description=str(raw.get("description", "")),
    )


def _database_url(value: Any, config_path: Path) -> str:
    if value is None:
        return f"sqlite:///{config_path.resolve().with_suffix('.db')}"
    if not isinstance(value, str) or "://" not in value:
        raise LeaderboardError(f"{config_path}: database must be a URL such as sqlite:///x.db")
    _check_dialect(value, f"{config_path}: database")
    if value.startswith("sqlite:///") and not value.startswith("sqlite:////"):
        relative = value.removeprefix("sqlite:///")
        if relative and relative != ":memory:":
            return f"sqlite:///{(config_path.parent / relative).resolve()}"
    return value


def _check_no_overlap(phases: tuple[PhaseConfig, ...], where: str) -> None:
    """At most one phase is open at any time (a submission belongs to exactly one phase)."""
    ordered = sorted(phases, key=lambda p: p.start)
    for earlier, later in zip(ordered, ordered[1:]):
        if later.start < earlier.end:
            raise LeaderboardError(f"{where}: phases {earlier.name!r} and {later.name!r} overlap "
                                   f"({earlier.name} ends {earlier.end.isoformat()}, "
                                   f"{later.name} starts {later.start.isoformat()})")


def shown_url(url: str) -> str:
    """A database URL for messages: the password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _check_dialect(url: str, where: str) -> str:
    """The URL's database must be one the store supports (sqlite or postgresql, any driver)."""
    dialect = url.split("://", 1)[0].split("+", 1)[0] if "://" in url else ""
    if dialect not in DATABASE_DIALECTS:
        raise LeaderboardError(f"{where}: {shown_url(url)!r} is not a sqlite:/// or postgresql:// database URL")
    return url


def _parse_task(raw: dict[str, Any], base: Path, where: str) -> TaskConfig:
    _reject_unknown(raw, {"name", "solution", "primary_metric", "higher_is_better"}, where)
    higher = raw.get("higher_is_better")
    if higher is not None and not isinstance(higher, bool):
        raise LeaderboardError(f"{where}: higher_is_better must be true or false")
    metric = raw.get("primary_metric")
    if metric is not None and not isinstance(metric, str):
        raise LeaderboardError(f"{where}: primary_metric must be a metric name")
    solution = (base / _text(raw, "solution", where)).resolve()
    if not solution.is_file():  # else every submission would be stored as invalid, charged to the team
        raise LeaderboardError(f"{where}: solution file not found: {solution}")
    return TaskConfig(
        name=_text(raw, "name", where),
        solution=solution,
        primary_metric=metric,
        higher_is_better=higher,
    )


def _check_task_against_benchmark(task: TaskConfig, where: str) -> None:
    from benchmark.errors import BenchmarkError
    from benchmark.scoring import CLASSIFICATION_METRICS, REGRESSION_METRICS
    from benchmark.tasks import get_task

    try:
        known = get_task(task.name)
    except BenchmarkError as error:
        raise LeaderboardError(f"{where}: {error}") from None
    if task.primary_metric is None:
        return
    if known.kind == "classification":
        metrics = CLASSIFICATION_METRICS
    else:
        metrics = REGRESSION_METRICS + tuple(f"{m}_{t}" for m in REGRESSION_METRICS
                                             for t in known.targets)
    if task.primary_metric not in metrics:
        raise LeaderboardError(f"{where}: primary_metric {task.primary_metric!r} is not a metric "
                               f"of {task.name}; choose one of {', '.join(metrics)}")


def _parse_phase(raw: dict[str, Any], where: str, default_quota: Quota) -> PhaseConfig:
    _reject_unknown(raw, {"name", "start", "end", "public_fraction", "seed", "folds", "quotas"},
                    where)
    start, end = _utc(raw, "start", where), _utc(raw, "end", where)
    if end <= start:
        raise LeaderboardError(f"{where}: end must be after start")
    fraction = raw.get("public_fraction", 0.5)
    if not isinstance(fraction, int | float) or isinstance(fraction, bool) or not 0 < fraction <= 1:
        raise LeaderboardError(f"{where}: public_fraction must be a number in (0, 1]")
    folds = raw.get("folds")
    if folds is not None and (not isinstance(folds, list) or not all(
            isinstance(f, int) and not isinstance(f, bool) for f in folds) or not folds):
        raise LeaderboardError(f"{where}: folds must be a non-empty list of fold numbers")
    seed = raw.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise LeaderboardError(f"{where}: seed must be an integer")
    return PhaseConfig(
        name=_text(raw, "name", where), start=start, end=end, public_fraction=float(fraction),
        seed=seed, folds=tuple(folds) if folds is not None else None,
        quota=_parse_quota(raw.get("quotas", {}), f"{where} quotas", default_quota),
    )


def _parse_quota(raw: Any, where: str, default: Quota) -> Quota:
    if not isinstance(raw, dict):
        raise LeaderboardError(f"{where}: must be a table")
    _reject_unknown(raw, {"per_day", "total", "count_failed"}, where)
    count_failed = raw.get("count_failed", default.count_failed)
    if not isinstance(count_failed, bool):
        raise LeaderboardError(f"{where}: count_failed must be true or false")
    return Quota(
        per_day=_positive_int(raw, "per_day", where, default.per_day),
        total=_positive_int(raw, "total", where, default.total),
        count_failed=count_failed,
    )


def _utc(raw: dict[str, Any], key: str, where: str) -> datetime:
    value = raw.get(key)
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise LeaderboardError(f"{where}: {key} {value!r} is not an ISO date-time") from None
    else:
        raise LeaderboardError(f"{where}: {key} is required (UTC ISO date-time, e.g. 2025-01-31T00:00:00Z)")
    if moment.tzinfo is None:
        raise LeaderboardError(f"{where}: {key} must carry a time zone (write ...Z for UTC)")
    return moment.astimezone(UTC)


def _table_list(raw: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    tables = raw.get(key)
    if not isinstance(tables, list) or not tables or not all(isinstance(t, dict) for t in tables):
        raise LeaderboardError(f"{where}: needs at least one [[{key}]] table")
    return tables


def _text(raw: dict[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise LeaderboardError(f"{where}: {key} is required (non-empty text)")
    return value.strip()


def _positive_int(raw: dict[str, Any], key: str, where: str, default: int | None) -> int | None:
    value = raw.get(key, default)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise LeaderboardError(f"{where}: {key} must be a positive integer")
    return value


def _positive_float(raw: dict[str, Any], key: str, where: str, default: float) -> float:
    value = raw.get(key, default)
    if not isinstance(value, int | float) or isinstance(value, bool) or not 0 < value < math.inf:
        raise LeaderboardError(f"{where}: {key} must be a positive number")
    return float(value)


def _reject_unknown(raw: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise LeaderboardError(f"{where}: unknown key(s) {', '.join(unknown)}; "
                               f"allowed: {', '.join(sorted(allowed))}")


def _check_unique(names: list[str], kind: str, where: str) -> None:
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise LeaderboardError(f"{where}: duplicate {kind} name(s): {', '.join(duplicates)}")

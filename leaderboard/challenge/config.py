"""Challenge configuration (TOML), validated by frozen pydantic models with clear errors.

The models mirror the file (unknown keys, wrong types and non-finite numbers are
refused); every mistake reaches the user as one LeaderboardError line naming the file,
the table and the key, e.g. ``challenge.toml phases[0]: end must be after start``.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from sqlalchemy import make_url
from sqlalchemy.exc import ArgumentError

from leaderboard.errors import LeaderboardError

DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024
DEFAULT_TIME_LIMIT_S = 120.0
DEFAULT_MEMORY_LIMIT_MB = 4096
DATABASE_DIALECTS = ("sqlite", "postgresql")
DEFAULT_BOOTSTRAP_RESAMPLES = 1000
DEFAULT_INVALID_PER_DAY = 10
MAX_BOOTSTRAP_RESAMPLES = 100_000

PositiveInt = Annotated[int, Field(gt=0)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
TIME_HINT = "is required (UTC ISO date-time, e.g. 2025-01-31T00:00:00Z)"


class _Table(BaseModel):
    """A TOML table: frozen, strict types (an int is still a valid float), no unknown keys."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class Quota(_Table):
    per_day: PositiveInt | None = None  # per UTC day, per team, task and phase
    total: PositiveInt | None = None
    count_failed: bool = False  # do invalid / failed / timed-out submissions use quota?
    # invalid / failed / timed-out submissions per UTC day, per team, task and phase, counted
    # whatever count_failed says; once reached, the team's next submission waits for the day
    invalid_per_day: PositiveInt | None = DEFAULT_INVALID_PER_DAY


class TaskConfig(_Table):
    name: Text
    solution: Path  # resolved against the config file's folder
    primary_metric: str | None = None  # None: the benchmark task's default
    higher_is_better: bool | None = None

    @field_validator("solution", mode="before")
    @classmethod
    def _existing_file(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str) or not value.strip():
            return value  # the type check reports it
        solution = (Path((info.context or {}).get("base", ".")) / value.strip()).resolve()
        if (
            not solution.is_file()
        ):  # else every submission would be stored as invalid, charged to the team
            raise ValueError(f"solution file not found: {solution}")
        return solution

    @model_validator(mode="after")
    def _known_to_the_benchmark(self) -> TaskConfig:
        _check_task_against_benchmark(self)
        return self


class PhaseConfig(_Table):
    name: Text
    start: datetime
    end: datetime
    public_fraction: Annotated[float, Field(gt=0, le=1)] = 0.5
    seed: int = 0
    folds: Annotated[tuple[int, ...], Field(min_length=1)] | None = None  # None: every fold
    quota: Quota = Field(default_factory=Quota, alias="quotas")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _utc(cls, value: Any, info: ValidationInfo) -> datetime:
        return _utc(value, info.field_name)

    @field_validator("folds", mode="before")
    @classmethod
    def _tuple(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    @model_validator(mode="after")
    def _ordered(self) -> PhaseConfig:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self

    def is_open(self, now: datetime) -> bool:
        return self.start <= now < self.end

    def has_ended(self, now: datetime) -> bool:
        return now >= self.end


class ChallengeConfig(_Table):
    """The challenge file; ``path`` and ``database_url`` come from where it was read."""

    name: Text
    database: str | None = None
    description: str = ""  # Markdown (shown without HTML) on the landing page
    rules: str = ""  # Markdown, as description
    data_url: str = ""  # where participants get the data (a link on the landing page)
    max_file_bytes: PositiveInt = DEFAULT_MAX_FILE_BYTES
    time_limit_s: Annotated[float, Field(gt=0)] = DEFAULT_TIME_LIMIT_S
    memory_limit_mb: PositiveInt = DEFAULT_MEMORY_LIMIT_MB
    quotas: Quota = Field(default_factory=Quota)  # the default of every phase, key by key
    # paired bootstrap of every board (0: no intervals); the same draws for every submission
    bootstrap_resamples: Annotated[int, Field(ge=0, le=MAX_BOOTSTRAP_RESAMPLES)] = (
        DEFAULT_BOOTSTRAP_RESAMPLES
    )
    bootstrap_seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    final_submissions: PositiveInt = 1  # how many submissions a team may select for the final board
    tasks: Annotated[tuple[TaskConfig, ...], Field(min_length=1)]
    phases: Annotated[tuple[PhaseConfig, ...], Field(min_length=1)]  # sorted by start
    _path: Path = PrivateAttr(default=Path("."))
    _database_url: str = PrivateAttr(default="")

    @model_validator(mode="before")
    @classmethod
    def _phase_quotas_default_to_the_file_s(cls, raw: Any) -> Any:
        if not isinstance(raw, dict) or not isinstance(raw.get("phases"), list):
            return raw
        default = raw.get("quotas", {})
        phases = [
            {**phase, "quotas": {**default, **phase.get("quotas", {})}}
            if isinstance(phase, dict)
            and isinstance(default, dict)
            and isinstance(phase.get("quotas", {}), dict)
            else phase
            for phase in raw["phases"]
        ]
        return {**raw, "phases": phases}

    @field_validator("tasks", "phases", mode="before")
    @classmethod
    def _tuple(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value

    @field_validator("phases", mode="after")
    @classmethod
    def _by_start(cls, phases: tuple[PhaseConfig, ...]) -> tuple[PhaseConfig, ...]:
        return tuple(sorted(phases, key=lambda p: p.start))

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> ChallengeConfig:
        _check_unique([t.name for t in self.tasks], "task")
        _check_unique([p.name for p in self.phases], "phase")
        _check_no_overlap(self.phases)
        context = info.context or {}
        self._path = Path(context.get("path", "challenge.toml"))
        self._database_url = context.get("database_url") or _database_url(self.database, self._path)
        return self

    @property
    def path(self) -> Path:
        return self._path

    @property
    def database_url(self) -> str:
        return self._database_url

    def with_database(self, url: str) -> ChallengeConfig:
        """The same challenge in another database."""
        copy = self.model_copy()
        copy._database_url = url
        return copy

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
        raise LeaderboardError(
            f"cannot read config file {path}: {error.strerror or error}"
        ) from None
    return parse_config(raw, path, database_url)


def parse_config(
    raw: dict[str, Any], path: Path, database_url: str | None = None
) -> ChallengeConfig:
    """Validate a parsed TOML document; `database_url` overrides the file's database."""
    if database_url:
        _check_dialect(database_url, "--db")
    context = {"path": path, "base": path.parent, "database_url": database_url}
    try:
        return ChallengeConfig.model_validate(raw, context=context)
    except ValidationError as error:
        raise LeaderboardError(first_problem(error, str(path))) from None


def _database_url(value: str | None, config_path: Path) -> str:
    if value is None:
        return f"sqlite:///{config_path.resolve().with_suffix('.db')}"
    if "://" not in value:
        raise ValueError("database must be a URL such as sqlite:///x.db")
    _check_dialect(value, "database")
    if value.startswith("sqlite:///") and not value.startswith("sqlite:////"):
        relative = value.removeprefix("sqlite:///")
        if relative and relative != ":memory:":
            return f"sqlite:///{(config_path.parent / relative).resolve()}"
    return value


def _check_no_overlap(phases: tuple[PhaseConfig, ...]) -> None:
    """At most one phase is open at any time (a submission belongs to exactly one phase)."""
    for earlier, later in zip(phases, phases[1:]):
        if later.start < earlier.end:
            raise ValueError(
                f"phases {earlier.name!r} and {later.name!r} overlap "
                f"({earlier.name} ends {earlier.end.isoformat()}, "
                f"{later.name} starts {later.start.isoformat()})"
            )


def shown_url(url: str) -> str:
    """A database URL for messages: the password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def primary_metric(config: ChallengeConfig, task: str) -> tuple[str, bool]:
    """(metric name, higher is better) of a task: the config's choice, else the benchmark's
    (the direction as ``benchmark.tasks`` declares it for the metric)."""
    from benchmark.tasks import get_task, higher_is_better

    task_config = config.task(task)
    known = get_task(task)
    metric = task_config.primary_metric or known.primary_metric
    if task_config.higher_is_better is not None:
        return metric, task_config.higher_is_better
    return metric, higher_is_better(known, metric)


def _check_dialect(url: str, where: str) -> str:
    """The URL's database must be one the store supports (sqlite or postgresql, any driver)."""
    dialect = url.split("://", 1)[0].split("+", 1)[0] if "://" in url else ""
    if dialect not in DATABASE_DIALECTS:
        message = f"{where}: {shown_url(url)!r} is not a sqlite:/// or postgresql:// database URL"
        raise LeaderboardError(message) if where == "--db" else ValueError(message)
    return url


def _check_task_against_benchmark(task: TaskConfig) -> None:
    from benchmark.errors import BenchmarkError
    from benchmark.scoring import CLASSIFICATION_METRICS, REGRESSION_METRICS
    from benchmark.tasks import get_task

    try:
        known = get_task(task.name)
    except BenchmarkError as error:
        raise ValueError(str(error)) from None
    if task.primary_metric is None:
        return
    if known.kind == "classification":
        metrics = CLASSIFICATION_METRICS
    else:
        metrics = REGRESSION_METRICS + tuple(
            f"{m}_{t}" for m in REGRESSION_METRICS for t in known.targets
        )
    if task.primary_metric not in metrics:
        raise ValueError(
            f"primary_metric {task.primary_metric!r} is not a metric "
            f"of {task.name}; choose one of {', '.join(metrics)}"
        )


def _utc(value: Any, key: str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{key} {value!r} is not an ISO date-time") from None
    if not isinstance(value, datetime):
        raise ValueError(f"{key} {TIME_HINT}")
    if value.tzinfo is None:
        raise ValueError(f"{key} must carry a time zone (write ...Z for UTC)")
    return value.astimezone(UTC)


def _check_unique(names: list[str], kind: str) -> None:
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"duplicate {kind} name(s): {', '.join(duplicates)}")


# What each key must be, said whatever pydantic's error type (missing, wrong type, range).
_RULES = {
    "name": "is required (non-empty text)",
    "solution": "is required (non-empty text)",
    "start": TIME_HINT,
    "end": TIME_HINT,
    "public_fraction": "must be a number in (0, 1]",
    "seed": "must be an integer",
    "folds": "must be a non-empty list of fold numbers",
    "per_day": "must be a positive integer",
    "total": "must be a positive integer",
    "max_file_bytes": "must be a positive integer",
    "memory_limit_mb": "must be a positive integer",
    "time_limit_s": "must be a positive number",
    "count_failed": "must be true or false",
    "invalid_per_day": "must be a positive integer",
    "higher_is_better": "must be true or false",
    "primary_metric": "must be a metric name",
    "description": "must be text",
    "rules": "must be text",
    "data_url": "must be text (a URL)",
    "database": "must be a URL such as sqlite:///x.db",
    "quotas": "must be a table",
    "bootstrap_resamples": f"must be an integer from 0 to {MAX_BOOTSTRAP_RESAMPLES:,}",
    "bootstrap_seed": "must be a non-negative integer",
    "final_submissions": "must be a positive integer",
}
_TABLE_ARRAYS = ("tasks", "phases")


def first_problem(error: ValidationError, source: str) -> str:
    """One line for the first problem: unknown keys first (all of one table), then in
    field order; the file, the table (``phases[0] quotas``) and the key are named."""
    problems = error.errors()
    unknown = [p for p in problems if p["type"] == "extra_forbidden"]
    if unknown:
        return _unknown_keys(unknown, source)
    problem = problems[0]
    loc = tuple(problem["loc"])
    keys = [index for index, part in enumerate(loc) if isinstance(part, str)]
    if problem["type"] == "value_error":  # our own validators' messages name their key
        table = loc[:-1] if loc and isinstance(loc[-1], str) else loc
        return f"{_where(source, table)}: {problem['ctx']['error']}"
    if loc and loc[0] in _TABLE_ARRAYS and len(loc) <= 2:
        return f"{source}: needs at least one [[{loc[0]}]] table"
    if not keys:
        return f"{source}: {problem['msg']}"
    key = str(loc[keys[-1]])  # ('phases', 0, 'folds', 2): the key is folds
    return f"{_where(source, loc[: keys[-1]])}: {key} {_RULES.get(key, problem['msg'])}"


def _where(source: str, loc: tuple) -> str:
    """``challenge.toml``, ``challenge.toml [quotas]``, ``challenge.toml phases[0] quotas``."""
    if loc == ("quotas",):
        return f"{source} [quotas]"
    return source + "".join(f"[{part}]" if isinstance(part, int) else f" {part}" for part in loc)


def _unknown_keys(problems: list[dict], source: str) -> str:
    scope = tuple(problems[0]["loc"][:-1])
    names = sorted(str(p["loc"][-1]) for p in problems if tuple(p["loc"][:-1]) == scope)
    named = [part for part in scope if isinstance(part, str)]
    model = _TABLES[named[-1]] if named else ChallengeConfig
    allowed = sorted(field.alias or name for name, field in model.model_fields.items())
    return (
        f"{_where(source, scope)}: unknown key(s) {', '.join(names)}; allowed: {', '.join(allowed)}"
    )


_TABLES: dict[str, type[BaseModel]] = {"quotas": Quota, "tasks": TaskConfig, "phases": PhaseConfig}

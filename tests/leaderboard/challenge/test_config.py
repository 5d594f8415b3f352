from __future__ import annotations

from pathlib import Path

import pytest

from leaderboard.challenge.config import load_config, primary_metric
from leaderboard.errors import LeaderboardError
from tests.leaderboard.conftest import AFTER_DEV, IN_DEV, write_challenge


def test_config_defaults_and_paths(tmp_path: Path) -> None:
    config = load_config(write_challenge(tmp_path))
    assert config.name == "Tiny MiSME challenge"
    assert config.database_url == f"sqlite:///{(tmp_path / 'challenge.db').resolve()}"
    assert config.task("misme-ser").solution == (tmp_path / "solutions/misme-ser.parquet").resolve()
    assert config.task("misme-ser").primary_metric is None
    assert [p.name for p in config.phases] == ["dev", "test"]
    assert config.open_phase(IN_DEV).name == "dev"
    assert config.open_phase(AFTER_DEV).name == "test"
    assert config.phase("dev").quota.per_day == 5
    assert config.phase("dev").quota.count_failed is False
    assert config.phase("dev").quota.invalid_per_day == 10


def test_database_url_override_and_relative_sqlite(tmp_path: Path) -> None:
    path = write_challenge(tmp_path)
    assert load_config(path, "sqlite:////tmp/x.db").database_url == "sqlite:////tmp/x.db"
    path.write_text('database = "sqlite:///db/board.db"\n' + path.read_text())
    assert load_config(path).database_url == f"sqlite:///{(tmp_path / 'db/board.db').resolve()}"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace('name = "Tiny MiSME challenge"', ""), "name is required"),
        (
            lambda t: t.replace('end = "2025-02-01T00:00:00Z"', 'end = "2024-12-01T00:00:00Z"'),
            "end must be after start",
        ),
        (
            lambda t: t.replace('start = "2025-01-01T00:00:00Z"', 'start = "2025-01-01T00:00:00"'),
            "time zone",
        ),
        (
            lambda t: t.replace('start = "2025-01-01T00:00:00Z"', 'start = "yesterday"'),
            "not an ISO date-time",
        ),
        (
            lambda t: t.replace(
                "public_fraction = 0.5\nseed = 3", "public_fraction = 1.5\nseed = 3"
            ),
            "public_fraction",
        ),
        (lambda t: t.replace("per_day = 5", "per_day = -1"), "per_day must be a positive integer"),
        (lambda t: t + "\ncolour = 'red'\n", "unknown key(s) colour"),
        (lambda t: t.replace('name = "test"', 'name = "dev"'), "duplicate phase name"),
        (lambda t: t + "\n[[tasks\n", "not valid TOML"),
        (
            lambda t: t.replace('name = "misme-mer"', 'name = "misme-xyz"'),
            "unknown task 'misme-xyz'",
        ),
        (
            lambda t: t.replace(
                'name = "misme-mer"', 'name = "misme-mer"\nprimary_metric = "accuracy"'
            ),
            "primary_metric 'accuracy' is not a metric of misme-mer",
        ),
        (
            lambda t: t.replace("time_limit_s = 60", "time_limit_s = nan"),
            "time_limit_s must be a positive number",
        ),
        (
            lambda t: t.replace("time_limit_s = 60", "time_limit_s = inf"),
            "time_limit_s must be a positive number",
        ),
        (
            lambda t: 'database = "mysql://host/db"\n' + t,
            "not a sqlite:/// or postgresql:// database URL",
        ),
        (
            lambda t: t.replace('start = "2025-02-01T00:00:00Z"', 'start = "2025-01-15T00:00:00Z"'),
            "phases 'dev' and 'test' overlap",
        ),
        (
            lambda t: t.replace("solutions/misme-ser.parquet", "solutions/nope.parquet"),
            "solution file not found",
        ),
        (
            lambda t: t.replace("solutions/misme-ser.parquet", "solutions"),
            "solution file not found",
        ),
    ],
)
def test_config_errors_are_clear(tmp_path: Path, edit, message: str) -> None:
    path = write_challenge(tmp_path)
    path.write_text(edit(path.read_text()))
    with pytest.raises(LeaderboardError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_config(path)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t: t.replace("per_day = 5", "per_day = '5'"),
            "[quotas]: per_day must be a positive integer",
        ),
        (
            lambda t: t.replace("per_day = 5", "per_day = 5\ninvalid_per_day = 0"),
            "[quotas]: invalid_per_day must be a positive integer",
        ),
        (
            lambda t: t.replace("seed = 3", "seed = 3\nquotas = {invalid_per_day = 2.5}"),
            "phases[0] quotas: invalid_per_day must be a positive integer",
        ),
        (
            lambda t: t.replace("count_failed = false", "count_failed = 1"),
            "[quotas]: count_failed must be true or false",
        ),
        (lambda t: t.replace("seed = 3", "seed = 3.5"), "phases[0]: seed must be an integer"),
        (
            lambda t: t.replace("seed = 3", "seed = 3\nfolds = []"),
            "phases[0]: folds must be a non-empty list of fold numbers",
        ),
        (
            lambda t: t.replace("seed = 3", "seed = 3\nfolds = [true]"),
            "phases[0]: folds must be a non-empty list of fold numbers",
        ),
        (
            lambda t: t.replace("seed = 3", "seed = 3\nquota = {per_day = 1}"),
            "phases[0]: unknown key(s) quota; allowed: end, folds, name, public_fraction, quotas, seed, start",
        ),
        (
            lambda t: t.replace("seed = 3", "seed = 3\nquotas = {per_dy = 1}"),
            "phases[0] quotas: unknown key(s) per_dy; allowed: count_failed, invalid_per_day, "
            "per_day, total",
        ),
        (
            lambda t: t.replace("seed = 3", "seed = 3\nquotas = 4"),
            "phases[0]: quotas must be a table",
        ),
        (
            lambda t: t.replace('start = "2025-01-01T00:00:00Z"', "start = 5"),
            "phases[0]: start is required (UTC ISO date-time",
        ),
        (
            lambda t: t.replace('description = "A test challenge."', "description = 5"),
            ": description must be text",
        ),
        (
            lambda t: t.replace('solution = "solutions/misme-ser.parquet"', "solution = 3"),
            "tasks[0]: solution is required (non-empty text)",
        ),
        (
            lambda t: t.replace("[[phases]]", "[[phasex]]", 1).split("[[phases]]")[0],
            "unknown key(s) phasex",
        ),
        (lambda t: t.split("[[phases]]")[0], "needs at least one [[phases]] table"),
        (lambda t: "database = 5\n" + t, "database must be a URL such as sqlite:///x.db"),
    ],
)
def test_schema_errors_are_one_line_naming_the_table_and_key(
    tmp_path: Path, edit, message: str
) -> None:
    """The pydantic schema's errors reach the user as our one-line messages, never a dump."""
    path = write_challenge(tmp_path)
    path.write_text(edit(path.read_text()))
    with pytest.raises(LeaderboardError) as caught:
        load_config(path)
    text = str(caught.value)
    assert message in text and text.startswith(str(path)), text
    assert "\n" not in text and "Input should" not in text and "validation error" not in text


def test_phase_quotas_override_the_default_key_by_key(tmp_path: Path) -> None:
    path = write_challenge(tmp_path)
    path.write_text(path.read_text().replace("seed = 4", "seed = 4\nquotas = {total = 7}"))
    config = load_config(path)
    assert config.phase("test").quota.total == 7 and config.phase("test").quota.per_day == 5
    assert config.phase("dev").quota.total == 50


def test_invalid_per_day_is_a_quota_key_like_the_others(tmp_path: Path) -> None:
    path = write_challenge(tmp_path)
    text = path.read_text().replace("per_day = 5", "per_day = 5\ninvalid_per_day = 3")
    path.write_text(text.replace("seed = 4", "seed = 4\nquotas = {invalid_per_day = 1}"))
    config = load_config(path)
    assert config.phase("dev").quota.invalid_per_day == 3
    assert config.phase("test").quota.invalid_per_day == 1


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(LeaderboardError, match="config file not found"):
        load_config(tmp_path / "nope.toml")


def test_config_path_is_a_folder(tmp_path: Path) -> None:
    with pytest.raises(LeaderboardError, match="cannot read config file"):
        load_config(tmp_path)


@pytest.mark.parametrize("url", ["mysql://host/db", "nonsense", "sqlite3:///x.db"])
def test_database_override_with_an_unknown_scheme(tmp_path: Path, url: str) -> None:
    with pytest.raises(LeaderboardError, match="not a sqlite:/// or postgresql:// database URL"):
        load_config(write_challenge(tmp_path), url)


def test_unknown_database_url_is_not_echoed_with_its_credentials(tmp_path: Path) -> None:
    with pytest.raises(LeaderboardError) as caught:
        load_config(write_challenge(tmp_path), "mysql://organizer:s3cret@db.example/x")
    assert "s3cret" not in str(caught.value) and "db.example/x" in str(caught.value)


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        ("", ("rmse", False)),
        ('primary_metric = "ccc"', ("ccc", True)),
        ('primary_metric = "mae_valence"', ("mae_valence", False)),
        ('primary_metric = "r2_arousal"', ("r2_arousal", True)),
        ('primary_metric = "ccc"\nhigher_is_better = false', ("ccc", False)),
    ],
)
def test_the_primary_metric_direction_is_the_benchmarks_or_the_configs(
    tmp_path: Path, chosen: str, expected: tuple[str, bool]
) -> None:
    path = write_challenge(tmp_path)
    path.write_text(path.read_text().replace('name = "misme-mer"', f'name = "misme-mer"\n{chosen}'))
    assert primary_metric(load_config(path), "misme-mer") == expected

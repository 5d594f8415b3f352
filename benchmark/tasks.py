"""The task registry: what a solution and a prediction file contain for each task.

Adding a task is one :func:`register` call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from benchmark.errors import BenchmarkError
from benchmark.metrics import CLASSIFICATION_DIRECTIONS, REGRESSION_DIRECTIONS

RAVDESS_EMOTIONS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
QUADRANTS = ("Q1", "Q2", "Q3", "Q4")


@dataclass(frozen=True)
class Task:
    """A benchmark task.

    ``labels`` is the ordered label set of a classification task (None for regression);
    when ``code_base`` is an int, the 1-based codes ``code_base .. code_base+len(labels)-1``
    are accepted as well as the names (RAVDESS emotion codes 1-8). ``value_range`` is the
    documented scale of regression targets (informative; predictions are not clipped).
    """

    name: str
    kind: Literal["classification", "regression"]
    targets: tuple[str, ...]
    labels: tuple[str, ...] | None
    primary_metric: str
    higher_is_better: bool
    description: str
    code_base: int | None = None
    value_range: tuple[float, float] | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """Columns of a prediction file."""
        return ("id", *self.targets)


TASKS: dict[str, Task] = {}


def register(task: Task) -> Task:
    """Add ``task`` to :data:`TASKS` (names are unique)."""
    if task.name in TASKS:
        raise ValueError(f"task {task.name!r} is already registered")
    if (task.kind == "classification") != (task.labels is not None):
        raise ValueError("classification tasks need labels; regression tasks must not have them")
    if task.kind == "classification" and len(task.targets) != 1:
        raise ValueError("classification tasks have exactly one target")
    TASKS[task.name] = task
    return task


def get_task(name: str) -> Task:
    """Return the task called ``name``; BenchmarkError listing the known tasks otherwise."""
    try:
        return TASKS[name]
    except KeyError:
        known = ", ".join(sorted(TASKS))
        raise BenchmarkError(f"unknown task {name!r}; known tasks: {known}") from None


def metric_directions(task: Task) -> dict[str, bool]:
    """Every metric a score of ``task`` can carry, with whether higher is better: the
    classification metrics, or each regression metric over all targets (``rmse``) and per
    target (``rmse_valence``)."""
    if task.kind == "classification":
        return dict(CLASSIFICATION_DIRECTIONS)
    per_target = {
        f"{name}_{target}": higher
        for name, higher in REGRESSION_DIRECTIONS.items()
        for target in task.targets
    }
    return {**REGRESSION_DIRECTIONS, **per_target}


def higher_is_better(task: Task, metric: str) -> bool:
    """Whether a higher ``metric`` is better on ``task``, as declared, never guessed."""
    directions = metric_directions(task)
    if metric not in directions:
        raise BenchmarkError(
            f"{metric!r} is not a metric of {task.name}; known: {', '.join(directions)}"
        )
    return directions[metric]


def _ser(name: str, what: str) -> Task:
    return register(
        Task(
            name,
            "classification",
            ("emotion",),
            RAVDESS_EMOTIONS,
            "accuracy",
            True,
            f"8-class speech emotion recognition on {what}; `emotion` as name or RAVDESS code 1-8",
            code_base=1,
        )
    )


def _mer(name: str, targets: tuple[str, ...], scale: tuple[float, float] | None, what: str) -> Task:
    where = f" on [{scale[0]:g}, {scale[1]:g}]" if scale else " on the lexicon's scale"
    return register(
        Task(
            name,
            "regression",
            targets,
            None,
            "rmse",
            False,
            f"{what}; {', '.join(targets)}{where}",
            value_range=scale,
        )
    )


_ser("misme-ser", "the MiSME speech+music mixes (SER window)")
_ser("misme-ser-speech", "the RAVDESS speech clips alone")
_mer("misme-mer", ("valence", "arousal"), (1, 9), "music emotion regression on the MiSME mixes")
_mer(
    "misme-mer-music", ("valence", "arousal"), (1, 9), "music emotion regression on the music alone"
)


def _quadrant(name: str, what: str) -> Task:
    return register(
        Task(
            name,
            "classification",
            ("quadrant",),
            QUADRANTS,
            "accuracy",
            True,
            f"instrumental MER: valence/arousal quadrant Q1-Q4{what}",
        )
    )


_quadrant("mer-quadrant", "")
_mer("mer-va", ("valence", "arousal"), (-1, 1), "instrumental MER regression")
# Protocols of the instrumental-MER corpus beside its folds (builders.instrumental_mer.protocols)
LOCO = ", leave one corpus out (fold = held-out corpus: deam 1, soundtracks 2, emopia 3)"
THESIS = ", the thesis's 65/15/20 split (its test clips)"
_quadrant("mer-quadrant-loco", LOCO)
_mer("mer-va-loco", ("valence", "arousal"), (-1, 1), "instrumental MER regression" + LOCO)
_quadrant("mer-quadrant-thesis", THESIS)
_mer("mer-va-thesis", ("valence", "arousal"), (-1, 1), "instrumental MER regression" + THESIS)
_mer(
    "muse-vad",
    ("valence", "arousal", "dominance"),
    None,
    "MuSe-style soundtrack VAD regression (NRC-VAD [0, 1] or Warriner 1-9)",
)

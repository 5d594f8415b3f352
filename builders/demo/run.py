"""`misme-build demo`: the whole chain on the synthetic demo corpora, end to end.

MiSME: demo sources -> plan -> render -> separate (oracle; Spleeter when its environment
and a model exist) -> features -> baselines (experiments A-F); instrumental-MER and
MuSe-VAD: their demo sources -> build -> features -> baselines; then one demo challenge
with every task of the three datasets (teams = baselines) and its leaderboards, and a
table of the time each step took. Everything goes under one folder (default
``demo-output/``); re-running reuses what is built.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

from builders.engine import check_workers
from builders.engine.background import Background, cpu_seconds_used
from builders.errors import UserError
from builders.hf.digest import read_digests

DEMO_CHALLENGE = """# The demo challenge: the toolkit's baselines compete on the three demo corpora.
name = "MiSME toolkit demo challenge"
description = "Synthetic demo corpora (MiSME, instrumental MER, MuSe-style VAD); teams are the toolkit's baselines."
database = "sqlite:///{database}"
max_file_bytes = 20000000
time_limit_s = 120

[quotas]
per_day = 100
total = 1000
count_failed = false
{tasks}
[[phases]]
name = "dev"
start = "2020-01-01T00:00:00Z"
end = "2099-12-31T00:00:00Z"
public_fraction = 0.5
seed = 1
"""
TASK_ENTRY = """
[[tasks]]
name = "{name}"
solution = "{solution}"
"""
MISME_TASKS = ("misme-ser", "misme-mer")
MODEL_NAMES = {"rf": "RF", "dummy": "Dummy"}
# The demo's size: Essentia on every music clip, mix and separated copy dominates `make demo`
# and costs in proportion to their seconds, hence music just longer than the 4.5 s window
# (4.6-5.2 s, one window each); two speech clips per actor keep SER learnable (with one, RF
# accuracy fell to 0.28). The standard recipe (K = 5 mixes per speech clip) is used
# unchanged. The MuSe tracks are shorter than two 15 s frames, so each gives one frame, and
# two per artist (25 frames) still let the forest beat the dummy clearly (RMSE 0.149 vs 0.238).
DEMO_SIZE = {
    "clips_per_actor": 2,
    "n_deam": 24,
    "n_soundtracks": 12,
    "deam_duration_range": (4.6, 5.2),
    "soundtracks_duration_s": 4.6,
}
MUSE_DEMO_SIZE = {"duration_range": (16.0, 28.0), "tracks_per_artist": 2}
EXPERIMENT_NAMES = {
    "A": "single->single",
    "B": "single->mixed",
    "C": "single->BSS",
    "D": "mixed->mixed",
    "E": "mixed->BSS",
    "F": "BSS->BSS",
}


def default_size(seed: int, recipe_path: Path | None = None) -> dict:
    """:data:`DEMO_SIZE`, with Soundtracks clips added while this seed's draws leave fewer
    usable music clips (at least the window long) than the recipe's folds need: with
    ``mixes_per_speech`` distinct clips per fold and fold sizes within one of each other,
    that is ``mixes_per_speech * n_folds``. Seed 0 needs none added."""
    from builders.demo.sources import soundtracks_draws
    from builders.misme.recipe import load_recipe

    recipe, _ = load_recipe(recipe_path)
    needed = recipe.mixing.mixes_per_speech * recipe.folds.n_folds
    size = dict(DEMO_SIZE)

    def usable_music(n_soundtracks: int) -> int:
        _, lengths = soundtracks_draws(seed, n_soundtracks, size["soundtracks_duration_s"])
        return size["n_deam"] + sum(s >= recipe.mixing.window_s for s in lengths.values())

    while usable_music(size["n_soundtracks"]) < needed:
        size["n_soundtracks"] += 1
    return size


def demo_sources_step(root: Path, seed: int, size: dict) -> Path:
    from builders.demo.sources import write_demo_sources

    src = root / "sources"
    if (src / ".misme-demo-sources.json").is_file():
        print(f"   reusing {src}")
    else:
        summary = write_demo_sources(src, seed=seed, **size)
        print(f"   wrote {src}: {json.dumps(summary, default=str)[:300]}")
    return src


def build_step(src: Path, build: Path, workers: int, recipe_path: Path | None = None) -> None:
    from builders.misme.plan import plan_dataset, summarise
    from builders.misme.render import render_dataset

    plan = plan_dataset(
        ravdess=src / "RAVDESS",
        deam=src / "DEAM",
        soundtracks=src / "Soundtracks",
        out=build,
        workers=workers,
        recipe_path=recipe_path,
    )
    print(summarise(plan))
    summary = render_dataset(build, workers=workers)
    print(getattr(summary, "text", summary))


def separation_step(build: Path, workers: int) -> list[str]:
    from builders.misme.separation import separate_dataset
    from builders.misme.spleeter_client import resolve_model_dir, spleeter_python

    backends = ["oracle"]
    separate_dataset(build, backend="oracle", workers=workers)
    model_dir = os.environ.get("MODEL_PATH")
    try:
        spleeter_python()
        resolve_model_dir(model_dir)
    except UserError as reason:
        print(f"   Spleeter skipped: {reason}")
    else:
        separate_dataset(build, backend="spleeter", model_dir=model_dir, workers=workers)
        backends.append("spleeter")
    return backends


def features_step(build: Path, workers: int) -> None:
    from builders.features.extract import extract_features
    from builders.misme.spec import spec_for_build

    spec = spec_for_build(build)
    for feature_set in ("speech-is10", "music-essentia"):
        for path in extract_features(build, spec, feature_set, workers=workers):
            print(f"   {path.relative_to(build)}")


def baselines_step(build: Path, submissions: Path, workers: int) -> dict:
    from builders.misme.baselines import run_baselines

    result = run_baselines(build, submissions=submissions, workers=workers, preset="demo")
    for note in result["notes"]:
        print(f"   note: {note}")
    return result


def _team_name(label: str) -> str:
    experiment, *rest = label.split("-")
    model = rest[-1] if rest else "?"
    variant = "-".join(rest[:-1])
    suffix = f" ({variant})" if variant else ""
    return f"{model.upper()} {experiment}: {EXPERIMENT_NAMES.get(experiment, experiment)}{suffix}"


def challenge_step(root: Path, boards: list[dict]) -> Path:
    """Write the demo challenge for every task of ``boards`` and submit each baseline file.

    ``boards``: one entry per dataset, ``{"solutions": {task: path}, "entries": [(team,
    task, file), ...]}``; each team is created once and submits its files.
    """
    from leaderboard.challenge.config import load_config
    from leaderboard.store.schema import init_store
    from leaderboard.store.sessions import utc_now
    from leaderboard.store.teams import add_team
    from leaderboard.submissions.submit import refresh_intervals, submit

    config_path = root / "challenge.toml"
    database = (root / "leaderboard.db").resolve()
    _reset_database(database)  # the demo board is rebuilt from the current baselines every run
    tasks = "".join(
        TASK_ENTRY.format(name=task, solution=Path(path).resolve())
        for board in boards
        for task, path in board["solutions"].items()
    )
    config_path.write_text(DEMO_CHALLENGE.format(database=database, tasks=tasks))
    config = load_config(config_path)
    init_store(config)
    tokens: dict[str, str] = {}
    for board in boards:
        for team, task, path in board["entries"]:
            if team not in tokens:
                tokens[team] = add_team(config, team)
            outcome = submit(
                config,
                Path(path),
                task,
                tokens[team],
                note=f"baseline {Path(path).stem}",
                refresh=False,
            )
            if outcome.status != "scored":
                print(f"   {team} {task}: {outcome.status}: {outcome.message}")
    now = utc_now()
    for task in dict.fromkeys(task for board in boards for task in board["solutions"]):
        refresh_intervals(config, task, config.open_phase(now).name, now)
    return config_path


def misme_board(build: Path, submissions: Path) -> dict:
    """MiSME's tasks and baseline entries: one team per experiment and model."""
    labels = sorted({p.stem for task in MISME_TASKS for p in (submissions / task).glob("*.csv")})
    entries = [
        (_team_name(label), task, submissions / task / f"{label}.csv")
        for label in labels
        for task in MISME_TASKS
        if (submissions / task / f"{label}.csv").is_file()
    ]
    return {
        "solutions": {task: build / "solutions" / f"{task}.parquet" for task in MISME_TASKS},
        "entries": entries,
    }


def dataset_board(result: dict, dataset: str) -> dict:
    """A dataset step's tasks (``result`` of its demo step) with one team per baseline model."""
    entries = [
        (f"{MODEL_NAMES.get(Path(path).stem, Path(path).stem)} ({dataset})", task, path)
        for task in result["tasks"]
        for path in result["files"].get(task, [])
    ]
    return {
        "solutions": {
            task: Path(result["build"]) / "solutions" / f"{task}.parquet"
            for task in result["tasks"]
        },
        "entries": entries,
    }


def _reset_database(database: Path) -> None:
    """Delete the demo's SQLite database and its WAL files, after closing this process's
    connections to it (``leaderboard.store.sessions.close_engines``)."""
    from leaderboard.store.sessions import close_engines

    close_engines()
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)


def print_leaderboards(config_path: Path, tasks: list[str]) -> None:
    from leaderboard.cli import main as leaderboard_main

    for task in tasks:
        print(f"\n-- leaderboard {task} (public ids of the dev phase)")
        leaderboard_main(["show", "--config", str(config_path), "--task", task])


class StepClock:
    """Numbered steps with their wall and CPU times, printed as a table at the end.

    CPU time is this process's plus that of its finished child processes (the engine's
    workers are joined within their step), so CPU / wall shows how busy each step keeps the
    cores (2.0 = both of two). Steps timed in another process are added with ``add``; the
    table's total is the wall time since the clock started, not the sum of the steps."""

    def __init__(self, total: int, first: int = 1, background: Background | None = None) -> None:
        self.total, self.first, self.times = total, first, []
        self.started = time.perf_counter()
        self.background = background  # its CPU is not this clock's: see step()

    @property
    def next_number(self) -> int:
        return self.first + len(self.times)

    @contextlib.contextmanager
    def step(self, title: str) -> Iterator[None]:
        print(f"\n== {self.next_number}/{self.total} {title}", flush=True)
        running = self.background is not None and not self.background.finished()
        started, cpu_started = time.perf_counter(), cpu_seconds_used()
        yield
        seconds, cpu = time.perf_counter() - started, cpu_seconds_used() - cpu_started
        if running and self.background.finished():
            # reaped during this step (an engine pool reaps every finished child when it starts),
            # so RUSAGE_CHILDREN now holds the background process's CPU, which it reports itself
            cpu -= self.background.cpu_seconds()
        self.add(title, seconds, cpu)
        print(f"   done in {seconds:.1f} s ({cpu:.1f} s CPU)", flush=True)

    def add(self, title: str, seconds: float, cpu: float, beside: bool = False) -> None:
        """Record a step; ``beside``: it ran in another process, beside this one's steps."""
        self.times.append((title.split(" (")[0] + (" *" if beside else ""), seconds, cpu))

    def table(self) -> str:
        beside = any(title.endswith(" *") for title, _, _ in self.times)
        total = "total (wall time; * ran beside the others)" if beside else "total"
        width = max(len(title) for title, _, _ in [*self.times, (total, 0, 0)])
        lines = [f"  {'step':<{width}}  seconds    CPU s", f"  {'-' * width}  -------  -------"]
        lines += [
            f"  {title:<{width}}  {seconds:7.1f}  {cpu:7.1f}" for title, seconds, cpu in self.times
        ]
        lines.append(
            f"  {total:<{width}}  {time.perf_counter() - self.started:7.1f}  "
            f"{sum(cpu for _, _, cpu in self.times):7.1f}"
        )
        return "\n".join(lines)


SIDE_STEPS = (
    "instrumental MER (sources, both modes, features, baselines)",
    "MuSe-style VAD (sources, build, features, baselines)",
)


def side_chain(
    root: Path, workers: int, seed: int, instrumental_size: dict | None, muse_size: dict | None
) -> dict:
    """The instrumental-MER and MuSe-VAD steps, which need nothing of MiSME's: run in a process
    of their own beside the MiSME steps (``Background``), they use the CPU time that the MiSME
    steps leave idle. Returns their results and ``times`` (title, seconds, CPU seconds)."""
    from builders.demo.instrumental_demo import instrumental_demo_step
    from builders.demo.muse_demo import muse_demo_step

    clock = StepClock(10, first=6)
    with clock.step(SIDE_STEPS[0]):
        instrumental = instrumental_demo_step(root, workers, seed=seed, size=instrumental_size)
    with clock.step(SIDE_STEPS[1]):
        muse = muse_demo_step(root, workers, seed=seed, size=muse_size or MUSE_DEMO_SIZE)
    return {"instrumental": instrumental, "muse": muse, "times": clock.times}


def run_demo(
    root: Path,
    *,
    workers: int = 2,
    seed: int = 0,
    size: dict | None = None,
    recipe_path: Path | None = None,
    instrumental_size: dict | None = None,
    muse_size: dict | None = None,
) -> Path:
    """Run every step under ``root``; returns the challenge config path.

    ``size`` overrides the MiSME demo corpus size (``write_demo_sources`` arguments) and
    ``recipe_path`` the MiSME recipe (default: the standard recipe, v2); ``instrumental_size``
    and ``muse_size`` the other two demo corpora's sizes.
    """
    root = Path(root).resolve()
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise UserError(f"--seed must be a non-negative integer, got {seed!r}")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(
            f"cannot create the demo folder {root}: {error.strerror or error}"
        ) from error
    build, submissions = root / "build", root / "submissions"
    side_log = root / "instrumental-and-muse.log"
    print(
        f"steps 6-7 (instrumental MER, MuSe-style VAD) run beside steps 1-5; their output: {side_log}"
    )
    with Background(
        side_chain, root, workers, seed, instrumental_size, muse_size, log=side_log
    ) as side:
        clock = StepClock(10, background=side)
        with clock.step(
            "MiSME demo sources (synthetic RAVDESS, DEAM, Soundtracks in their real formats)"
        ):
            src = demo_sources_step(root, seed, size or default_size(seed, recipe_path))
        with clock.step("MiSME plan + render"):
            build_step(src, build, workers, recipe_path)
        with clock.step("MiSME source separation"):
            print(f"   backends: {', '.join(separation_step(build, workers))}")
        with clock.step("MiSME features (openSMILE IS10, Essentia MusicExtractor)"):
            features_step(build, workers)
        with clock.step("MiSME baselines for experiments A-F (rf, dummy)"):
            baselines_step(build, submissions, workers)
            print(f"   prediction files and results under {submissions}")
        print(
            f"\n== 6-7/10 instrumental MER and MuSe-style VAD (beside steps 1-5; from {side_log.name}):",
            flush=True,
        )
        result = side.result()
        print(side.output().rstrip())
    for title, seconds, cpu in result["times"]:
        clock.add(title, seconds, cpu, beside=True)
    instrumental, muse = result["instrumental"], result["muse"]
    boards = [
        misme_board(build, submissions),
        dataset_board(instrumental, "instrumental MER"),
        dataset_board(muse, "MuSe VAD"),
    ]
    tasks = [task for board in boards for task in board["solutions"]]
    with clock.step(
        "demo challenge (teams = baselines, submitted through the leaderboard service)"
    ):
        config_path = challenge_step(root, boards)
    with clock.step("leaderboards"):
        print_leaderboards(config_path, tasks)
    with clock.step("where to look"):
        _where_to_look(build, submissions, instrumental, muse, config_path)
    print("\nTime per step:")
    print(clock.table())
    return config_path


def _where_to_look(
    build: Path, submissions: Path, instrumental: dict, muse: dict, config_path: Path
) -> None:
    print(
        f"  MiSME dataset:   {build}  (datasets.load_dataset('{build}', 'mixed'); card {build / 'README.md'})"
    )
    digests = read_digests(build) or {}
    print(
        f"  MiSME digests:   dataset {digests.get('dataset')}, audio {digests.get('audio')}  "
        f"(misme-build verify {build} --digest ...)"
    )
    print(f"  MiSME baselines: {submissions / 'results.csv'}, {submissions / 'reproduction.md'}")
    print(
        f"  instrumental MER: {instrumental['build']} (config 'clips'), baselines {instrumental['submissions']}"
    )
    print(f"  MuSe-style VAD:  {muse['build']} (config 'frames'), baselines {muse['submissions']}")
    print(
        f"  leaderboard:     .venv/bin/misme-leaderboard serve --config {config_path}  "
        "(then open http://127.0.0.1:8501)"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", type=Path, default=Path("demo-output"), help="demo folder (default demo-output)"
    )
    parser.add_argument("--workers", type=int, default=2, help="parallel processes (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic sources")
    parser.add_argument(
        "--recipe",
        type=Path,
        help="MiSME recipe TOML (default manifests/misme-v2/recipe.toml; "
        "manifests/misme-v1/recipe.toml rebuilds the v1 demo corpus)",
    )


def run(args: argparse.Namespace) -> int:
    check_workers(args.workers)
    run_demo(args.out, workers=args.workers, seed=args.seed, recipe_path=args.recipe)
    return 0

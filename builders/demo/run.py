"""`misme-build demo`: the whole chain on the synthetic demo corpus, end to end.

demo sources -> plan -> render -> separate (oracle; Spleeter when its environment and a
model exist) -> features -> baselines -> demo challenge (teams = baselines) -> leaderboard.
Everything goes under one folder (default ``demo-output/``); re-running reuses what is built.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from builders.engine import check_workers
from builders.errors import UserError

DEMO_CHALLENGE = """# The demo challenge: the baselines of experiments A-F compete on the demo corpus.
name = "MiSME demo challenge"
description = "Synthetic demo corpus; teams are the toolkit's baselines (experiment and model)."
database = "sqlite:///{database}"
max_file_bytes = 20000000
time_limit_s = 120

[quotas]
per_day = 100
total = 1000
count_failed = false

[[tasks]]
name = "misme-ser"
solution = "{ser_solution}"

[[tasks]]
name = "misme-mer"
solution = "{mer_solution}"

[[phases]]
name = "dev"
start = "2020-01-01T00:00:00Z"
end = "2099-12-31T00:00:00Z"
public_fraction = 0.5
seed = 1
"""
# The demo's size: small enough for `make demo` to finish in minutes on 2 cores (Essentia on
# every mix dominates), large enough for the baselines to be meaningful. The standard v1
# recipe (K = 5 mixes per speech clip) is used unchanged.
DEMO_SIZE = {"clips_per_actor": 2, "n_deam": 36, "n_soundtracks": 24, "deam_duration_range": (10.0, 25.0),
             "soundtracks_duration_s": 15.0}
EXPERIMENT_NAMES = {"A": "single->single", "B": "single->mixed", "C": "single->BSS",
                    "D": "mixed->mixed", "E": "mixed->BSS", "F": "BSS->BSS"}


def _step(title: str) -> float:
    print(f"\n== {title}", flush=True)
    return time.perf_counter()


def _done(start: float) -> None:
    print(f"   done in {time.perf_counter() - start:.1f} s", flush=True)


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
    from builders.misme.plan import plan_corpus, summarise
    from builders.misme.render import render_dataset

    plan = plan_corpus(ravdess=src / "RAVDESS", deam=src / "DEAM", soundtracks=src / "Soundtracks", out=build,
                       workers=workers, recipe_path=recipe_path)
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


def challenge_step(root: Path, build: Path, submissions: Path) -> Path:
    from leaderboard.config import load_config
    from leaderboard.service import submit
    from leaderboard.store import add_team, init_store

    config_path = root / "challenge.toml"
    database = (root / "leaderboard.db").resolve()
    _reset_database(config_path, database)  # the demo board is rebuilt from the current baselines every run
    config_path.write_text(DEMO_CHALLENGE.format(
        database=database, ser_solution=(build / "solutions" / "misme-ser.parquet").resolve(),
        mer_solution=(build / "solutions" / "misme-mer.parquet").resolve()))
    config = load_config(config_path)
    init_store(config)
    labels = sorted({p.stem for task in ("misme-ser", "misme-mer") for p in (submissions / task).glob("*.csv")})
    for label in labels:
        token = add_team(config, _team_name(label))
        for task in ("misme-ser", "misme-mer"):
            path = submissions / task / f"{label}.csv"
            if path.is_file():
                outcome = submit(config, path, task, token, note=f"baseline {label}")
                if outcome.status != "scored":
                    print(f"   {label} {task}: {outcome.status}: {outcome.message}")
    return config_path


def _reset_database(config_path: Path, database: Path) -> None:
    """Delete the demo's SQLite database, its WAL files and any engine this process holds on it."""
    from leaderboard.config import load_config
    from leaderboard.store import engine_for

    if config_path.is_file() and database.exists():
        engine_for(load_config(config_path).database_url).dispose()
    engine_for.cache_clear()
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)


def print_leaderboards(config_path: Path) -> None:
    from leaderboard.cli import main as leaderboard_main

    for task in ("misme-ser", "misme-mer"):
        print(f"\n-- leaderboard {task} (public ids of the dev phase)")
        leaderboard_main(["show", "--config", str(config_path), "--task", task])


def run_demo(root: Path, *, workers: int = 2, seed: int = 0, size: dict | None = None,
             recipe_path: Path | None = None) -> Path:
    """Run every step under ``root``; returns the challenge config path.

    ``size`` overrides the demo corpus size (``write_demo_sources`` arguments) and
    ``recipe_path`` the MiSME recipe (default: the standard v1 recipe).
    """
    root = Path(root).resolve()
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise UserError(f"--seed must be a non-negative integer, got {seed!r}")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create the demo folder {root}: {error.strerror or error}") from error
    build, submissions = root / "build", root / "submissions"
    started = time.perf_counter()
    t = _step("1/7 demo sources (synthetic RAVDESS, DEAM, Soundtracks in their real formats)")
    src = demo_sources_step(root, seed, size or DEMO_SIZE)
    _done(t)
    t = _step("2/7 plan + render the MiSME corpus")
    build_step(src, build, workers, recipe_path)
    _done(t)
    t = _step("3/7 source separation")
    backends = separation_step(build, workers)
    print(f"   backends: {', '.join(backends)}")
    _done(t)
    t = _step("4/7 features (openSMILE IS10, Essentia MusicExtractor)")
    features_step(build, workers)
    _done(t)
    t = _step("5/7 baselines for experiments A-F (rf, dummy)")
    baselines_step(build, submissions, workers)
    print(f"   prediction files and results under {submissions}")
    _done(t)
    t = _step("6/7 demo challenge: teams = baselines, submitted through the leaderboard service")
    config_path = challenge_step(root, build, submissions)
    _done(t)
    _step("7/7 leaderboards")
    print_leaderboards(config_path)
    print(f"\nDemo finished in {time.perf_counter() - started:.0f} s. Where to look:")
    print(f"  dataset:        {build}  (datasets.load_dataset('{build}', 'mixed'); card {build / 'README.md'})")
    print(f"  digest:         {(build / 'digest.txt').read_text().strip()}  "
          f"(misme-build verify {build} --digest ...)")
    print(f"  baselines:      {submissions / 'results.csv'}, {submissions / 'reproduction.md'}")
    print(f"  leaderboard:    .venv/bin/misme-leaderboard serve --config {config_path}  "
          "(then open http://127.0.0.1:8501)")
    return config_path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("demo-output"), help="demo folder (default demo-output)")
    parser.add_argument("--workers", type=int, default=2, help="parallel processes (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic sources")


def run(args: argparse.Namespace) -> int:
    check_workers(args.workers)
    run_demo(args.out, workers=args.workers, seed=args.seed)
    return 0

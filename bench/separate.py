"""Real-time factor of BSS on CPU: Spleeter per worker count, and the oracle for reference.

RTF = wall-clock seconds / seconds of mixed audio (lower is faster; < 1 is faster than
real time). Uses $MODEL_PATH/2stems when it holds a model with a .probe, otherwise a
tiny model trained for 2 steps with `spleeter train` (same U-Net, tiny STFT: its RTF
is only indicative). Mixes: the render tests' 12 demo mixes (9.5-13.5 s each).
Prints figures; asserts nothing. Without .venv-spleeter only the oracle is timed.

    .venv/bin/python bench/separate.py [--workers 1 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pyarrow.parquet as pq  # noqa: E402
from _args import at_least  # noqa: E402

from builders.errors import UserError  # noqa: E402
from builders.misme import separation  # noqa: E402
from builders.misme.render import render_dataset  # noqa: E402
from tests.builders.misme.render_support import make_build  # noqa: E402
from tests.builders.misme.spleeter_model import spleeter_python, train_tiny_model  # noqa: E402


def audio_seconds(out: Path) -> float:
    return float(
        sum(
            pq.read_table(out / "manifests" / "mixes.parquet", columns=["music_duration_s"])
            .column("music_duration_s")
            .to_pylist()
        )
    )


def fresh_copy(rendered: Path, base: Path, name: str) -> Path:
    out = base / name
    shutil.copytree(rendered, out)
    return out


def find_model(base: Path) -> tuple[Path, str]:
    real = Path(os.environ.get("MODEL_PATH", "pretrained_models")) / "2stems"
    if (real / ".probe").exists() and (real / "checkpoint").exists():
        kind = (
            "custom model (params.json)" if (real / "params.json").exists() else "pretrained model"
        )
        return real, f"{kind} {real}"
    start = time.perf_counter()
    model = train_tiny_model(base / "models")
    return (
        model,
        f"tiny model (trained in {time.perf_counter() - start:.1f} s; RTF only indicative)",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=at_least(1), nargs="+", default=[1, 2])
    args = parser.parse_args()
    os.environ.setdefault("MISME_NO_PROGRESS", "1")
    with tempfile.TemporaryDirectory(prefix="bench-separate-") as tmp:
        base = Path(tmp)
        rendered, _ = make_build(base / "build")
        render_dataset(rendered, progress=False)
        seconds = audio_seconds(rendered)
        print(f"{seconds:.1f} s of mixes, {os.cpu_count()} CPUs")
        start = time.perf_counter()
        separation.separate_dataset(
            fresh_copy(rendered, base, "oracle"), backend="oracle", progress=False
        )
        wall = time.perf_counter() - start
        print(
            f"oracle, 1 worker: {wall:.1f} s, RTF {wall / seconds:.3f} (incl. re-mixing the true stems)"
        )
        if spleeter_python() is None:
            print("spleeter: skipped (no .venv-spleeter: run `make spleeter-env`)")
            return
        model, label = find_model(base)
        print(f"spleeter: {label}")
        for workers in args.workers:
            out = fresh_copy(rendered, base, f"spleeter-{workers}")
            start = time.perf_counter()
            try:
                summary = separation.separate_dataset(
                    out,
                    backend="spleeter",
                    model_dir=model,
                    workers=workers,
                    progress=False,
                    quality=False,
                )
            except UserError as error:
                print(f"spleeter, {workers} worker(s): failed: {error}")
                continue
            wall = time.perf_counter() - start
            print(
                f"spleeter, {workers} worker(s): {summary.clips} mixes in {wall:.1f} s, RTF {wall / seconds:.3f} "
                "(incl. loading TensorFlow and the model once per worker)"
            )


if __name__ == "__main__":
    main()

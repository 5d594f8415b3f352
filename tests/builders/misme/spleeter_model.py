"""Train a tiny Spleeter model with Spleeter's own `spleeter train` (for tests and the bench).

The model has the real U-Net architecture but tiny STFT settings (frame 512, T = F = 64)
and is trained for a couple of steps on generated stems, so it separates badly but
exercises every real code path: checkpoint, `.probe`, params, the worker's session.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[3]
SPLEETER_PYTHON = REPO / ".venv-spleeter" / "bin" / "python"
RATE = 44100
ADAPTER = "builders.misme.spleeter_worker.SoundfileAudioAdapter"


def spleeter_python() -> Path | None:
    """The Spleeter environment's interpreter (env MISME_SPLEETER_PYTHON overrides), or None."""
    override = os.environ.get("MISME_SPLEETER_PYTHON")
    path = Path(override) if override else SPLEETER_PYTHON
    return path if path.exists() else None


def tiny_params(model_dir: Path, data_dir: Path, instruments: list[str], steps: int = 2) -> dict:
    return {
        "train_csv": str(data_dir / "train.csv"),
        "validation_csv": str(data_dir / "validation.csv"),
        "model_dir": str(model_dir),
        "mix_name": "mix",
        "instrument_list": instruments,
        "sample_rate": RATE,
        "frame_length": 512,
        "frame_step": 256,
        "T": 64,
        "F": 64,
        "n_channels": 2,
        "separation_exponent": 2,
        "mask_extension": "zeros",
        "learning_rate": 1e-4,
        "batch_size": 1,
        "chunk_duration": 1.0,
        "n_chunks_per_song": 1,
        "train_max_steps": steps,
        "throttle_secs": 600,
        "random_seed": 0,
        "save_checkpoints_steps": steps,
        "save_summary_steps": steps,
        "model": {"type": "unet.unet", "params": {}},
    }


def write_training_data(data_dir: Path, instruments: list[str], songs: int = 2) -> None:
    """Generated stems (tones + noise) and their sums, with Spleeter's train/validation CSVs."""
    data_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    frames = 2 * RATE
    t = np.arange(frames) / RATE
    rows = []
    for song in range(songs):
        stems = {}
        for k, name in enumerate(instruments):
            tone = 0.2 * np.sin(2 * np.pi * (220.0 * (k + 1) + 50 * song) * t)
            noise = 0.02 * rng.standard_normal(frames)
            stems[name] = np.stack([tone + noise, tone - noise], axis=1).astype(np.float32)
        mix = sum(stems.values())
        row = {"mix_path": f"song{song}/mix.wav", "duration": 2.0}
        sf.write(_mk(data_dir, row["mix_path"]), mix, RATE)
        for name, stem in stems.items():
            row[f"{name}_path"] = f"song{song}/{name}.wav"
            sf.write(_mk(data_dir, row[f"{name}_path"]), stem, RATE)
        rows.append(row)
    columns = ["mix_path", *[f"{n}_path" for n in instruments], "duration"]
    lines = [",".join(columns)] + [",".join(str(r[c]) for c in columns) for r in rows]
    for name in ("train.csv", "validation.csv"):
        (data_dir / name).write_text("\n".join(lines) + "\n")


def _mk(data_dir: Path, relative: str) -> Path:
    path = data_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def train_tiny_model(
    model_path: Path, name: str = "2stems", instruments: list[str] | None = None, steps: int = 2
) -> Path:
    """Train ``model_path/name`` with `spleeter train`; returns the model folder.

    The folder ends up with the checkpoint, ``params.json`` and ``.probe`` (which
    `spleeter train` writes itself), i.e. Spleeter's offline model layout.
    """
    python = spleeter_python()
    if python is None:
        raise RuntimeError("no .venv-spleeter: run `make spleeter-env`")
    instruments = instruments or ["vocals", "accompaniment"]
    folder = (Path(model_path) / name).resolve()
    work = folder.parent / f".{name}-training"
    write_training_data(work / "data", instruments)
    params = tiny_params(folder, work / "data", instruments, steps)
    params_file = work / "params.json"
    params_file.write_text(json.dumps(params, indent=2))
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="")
    command = [
        str(python),
        "-m",
        "spleeter",
        "train",
        "-p",
        str(params_file),
        "-d",
        str(work / "data"),
        "-a",
        ADAPTER,
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, cwd=work)
    if result.returncode != 0 or not (folder / "checkpoint").exists():
        raise RuntimeError(f"spleeter train failed ({result.returncode}):\n{result.stderr[-4000:]}")
    (folder / "params.json").write_text(json.dumps(params, indent=2))
    _keep_latest_checkpoint(folder)
    if not (folder / ".probe").exists():
        raise RuntimeError(f"spleeter train wrote no .probe in {folder}")
    return folder


def _keep_latest_checkpoint(folder: Path) -> None:
    """Drop older checkpoints and training logs (the model files are ~240 MB each)."""
    latest = (folder / "checkpoint").read_text().split('"')[1]
    for path in folder.glob("model.ckpt-*"):
        if not path.name.startswith(latest + "."):
            path.unlink()
    (folder / "checkpoint").write_text(
        f'model_checkpoint_path: "{latest}"\nall_model_checkpoint_paths: "{latest}"\n'
    )
    for path in [*folder.glob("events.out.*"), folder / "graph.pbtxt"]:
        path.unlink(missing_ok=True)


if __name__ == "__main__":
    print(train_tiny_model(Path(sys.argv[1])))

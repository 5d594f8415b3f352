"""The Spleeter side of this environment: finding Spleeter's own venv and the 2-stem model,
and the client of ``spleeter_worker.py``, which runs in that venv (TensorFlow 2.12, numpy<2).

Spleeter never downloads: the model folder (checkpoint + ``.probe``) is the user's. (Not
named ``spleeter.py``: next to the worker script it would shadow the ``spleeter`` package.)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from builders.common.hashing import file_sha256
from builders.errors import UserError

MODEL_NAME = "2stems"
MODEL_URL = "https://github.com/deezer/spleeter/releases/download/v1.4.0/2stems.tar.gz"
EXPECTED_INSTRUMENTS = ("vocals", "accompaniment")
REPO = Path(__file__).resolve().parents[2]
WORKER_SCRIPT = Path(__file__).with_name("spleeter_worker.py")


def spleeter_python() -> Path:
    """The Spleeter environment's interpreter: $MISME_SPLEETER_PYTHON, else .venv-spleeter."""
    override = os.environ.get("MISME_SPLEETER_PYTHON")
    candidates = (
        [Path(override)]
        if override
        else [
            REPO / ".venv-spleeter" / "bin" / "python",
            Path.cwd() / ".venv-spleeter" / "bin" / "python",
        ]
    )
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    where = candidates[0]
    raise UserError(
        f"Spleeter environment not found ({where}): run `make spleeter-env` "
        "(or set MISME_SPLEETER_PYTHON to its python)"
    )


def resolve_model_dir(model_dir: Path | str | None) -> Path:
    """The 2-stem model folder: ``--model-dir`` (the folder itself or its parent holding
    ``2stems/``), else ``$MODEL_PATH/2stems``, else ``./pretrained_models/2stems``.

    It must hold a TensorFlow checkpoint and Spleeter's ``.probe`` marker (so Spleeter
    never downloads); a ``params.json`` naming other instruments is refused here, the
    worker also counts the U-Nets in the checkpoint.
    """
    if model_dir is None:
        folder = Path(os.environ.get("MODEL_PATH", "pretrained_models")) / MODEL_NAME
    else:
        folder = Path(model_dir)
        if not (folder / "checkpoint").exists() and (folder / MODEL_NAME).is_dir():
            folder = folder / MODEL_NAME
    folder = folder.resolve()
    how = (
        f"download {MODEL_URL}, extract it into {folder} (so that {folder / 'checkpoint'} exists), "
        f"run `touch {folder / '.probe'}`, then pass --model-dir {folder} or set MODEL_PATH={folder.parent}"
    )
    if not (folder / "checkpoint").is_file():
        raise UserError(f"no Spleeter 2-stem model at {folder}: {how}")
    if not (folder / ".probe").exists():
        raise UserError(
            f"Spleeter model at {folder} has no .probe file (Spleeter would try to download): "
            f"if the model is complete, run `touch {folder / '.probe'}`"
        )
    _check_params_instruments(folder)
    return folder


def _check_params_instruments(folder: Path) -> None:
    params = folder / "params.json"
    if not params.is_file():
        return
    try:
        instruments = tuple(json.loads(params.read_text()).get("instrument_list", ()))
    except (OSError, ValueError, AttributeError) as error:
        raise UserError(f"cannot read {params}: {error}") from error
    if instruments != EXPECTED_INSTRUMENTS:
        raise UserError(
            f"{folder} is a {len(instruments)}-stem model {list(instruments)}: "
            f"BSS needs Spleeter's 2-stem model (vocals, accompaniment), e.g. {MODEL_URL}"
        )


def model_files(folder: Path) -> dict[str, str]:
    """sha256 of every model file (checkpoint, weights, index, meta, params.json).

    Hidden files (``.probe``), training logs and sub-folders are left out.
    """
    skip = ("events.out.", "graph.pbtxt")
    return {
        p.name: file_sha256(p)
        for p in sorted(folder.iterdir())
        if p.is_file() and not p.name.startswith(".") and not p.name.startswith(skip)
    }


def spleeter_version(python: Path) -> str:
    """Spleeter's version in its environment (without importing TensorFlow)."""
    code = "import importlib.metadata as m; print(m.version('spleeter'))"
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    if result.returncode != 0:
        raise UserError(f"Spleeter is not installed in {python}: run `make spleeter-env`")
    return result.stdout.strip()


# ---------------------------------------------------------------- the worker client


class SpleeterWorker:
    """One `spleeter_worker.py` process: model loaded once, jobs over JSON lines."""

    def __init__(self, python: Path, model_folder: Path, log_dir: Path, threads: int = 0) -> None:
        env = dict(
            os.environ,
            MODEL_PATH=str(model_folder.parent),
            CUDA_VISIBLE_DEVICES="",
            TF_CPP_MIN_LOG_LEVEL="2",
            PYTHONNOUSERSITE="1",
        )
        env.pop("PYTHONPATH", None)
        self.log_path = Path(
            tempfile.mkstemp(prefix="spleeter-worker-", suffix=".log", dir=log_dir)[1]
        )
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in close()
        command = [
            str(python),
            str(WORKER_SCRIPT),
            "--model",
            model_folder.name,
            "--threads",
            str(threads),
        ]
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            env=env,
            cwd=log_dir,
        )
        ready = self._read()
        if not ready.get("ready"):
            self.close()
            if ready.get("kind") == "model":
                raise UserError(f"unusable Spleeter model: {ready.get('error')}")
            raise UserError(
                f"the Spleeter worker could not start: {ready.get('error')} (log: {self.log_path})"
            )
        self.info = ready

    def _read(self) -> dict:
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line:
            tail = (
                self.log_path.read_text(errors="replace")[-800:] if self.log_path.exists() else ""
            )
            return {
                "ready": False,
                "ok": False,
                "error": f"worker exited ({self.process.poll()}): {tail.strip()}",
            }
        try:
            return json.loads(line)
        except ValueError:
            return {"ready": False, "ok": False, "error": f"bad worker output: {line[:200]!r}"}

    def separate(self, mix_path: Path, vocals: Path, accompaniment: Path, job_id: str = "") -> dict:
        """Run one job; raise UserError if the worker fails it."""
        job = {
            "id": job_id,
            "input": str(mix_path),
            "vocals": str(vocals),
            "accompaniment": str(accompaniment),
        }
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(job) + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            pass
        answer = self._read()
        if not answer.get("ok"):
            raise UserError(
                f"Spleeter failed on {mix_path}: {answer.get('error')} (log: {self.log_path})"
            )
        return answer

    def close(self) -> None:
        if self.process.stdin and not self.process.stdin.closed:
            try:
                self.process.stdin.close()
            except BrokenPipeError:
                pass
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
        self._log.close()


class SpleeterSession:
    """One engine worker's Spleeter: a worker process and its private scratch folder."""

    def __init__(self, python: Path, model_folder: Path, threads: int = 0) -> None:
        self.scratch = Path(tempfile.mkdtemp(prefix="misme-spleeter-"))
        try:
            self.worker = SpleeterWorker(python, model_folder, self.scratch, threads=threads)
        except BaseException:
            shutil.rmtree(self.scratch, ignore_errors=True)
            raise

    @property
    def sample_rate(self) -> int:
        return int(self.worker.info["sample_rate"])

    def close(self) -> None:
        self.worker.close()
        shutil.rmtree(self.scratch, ignore_errors=True)


@dataclass(frozen=True)
class SpleeterSessionFactory:
    """Picklable per-worker state factory for ``builders.engine.map_units``."""

    python: str
    model_folder: str
    threads: int = 0

    def __call__(self) -> SpleeterSession:
        return SpleeterSession(Path(self.python), Path(self.model_folder), self.threads)

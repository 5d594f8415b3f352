"""`misme-build misme separate OUT --backend spleeter|oracle`: the BSS copies of the mixes.

Both backends separate the *full* rendered mix (``OUT/audio/mixed/<mix_id>.flac``) and
then crop the speech estimate to the mix's SER window ``[window_start_frame,
+window_frames)``:

* ``spleeter``: Spleeter's 2-stem model (``accompaniment`` = BSS-music, ``vocals`` =
  BSS-speech), run in its own environment (``make spleeter-env``) by
  ``builders/spleeter_worker.py`` over a pipe; views ``bss-music`` / ``bss-speech``,
  config ``bss``.
* ``oracle``: ideal ratio masks from the true stems (see :func:`oracle_separate`); views
  ``bss-oracle-music`` / ``bss-oracle-speech``, config ``bss-oracle``.

Clips follow the render rule (44.1 kHz stereo, ``np.rint(x * 32767)`` 16-bit, a peak
over full scale is scaled down and the gain recorded, checksum = sha256 of the int16
PCM). Per-clip SI-SDR/SDR against the true stems (``builders.separation_quality``) go to
``OUT/manifests/separation-<backend>.parquet``; the identity of the separation (backend,
Spleeter version, sha256 of every model file, method parameters) and its digest to
``OUT/manifests/separation-<backend>.json``. Clips are a resumable cache keyed by that
identity and the mix's checksum; the Hugging Face config folder is replaced atomically
only when every clip is done, so a failed run never leaves a half-written variant.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import scipy.fft
from tqdm import tqdm

from builders import audio_io, separation_quality
from builders.atomic import atomic_file
from builders.errors import UserError

BACKENDS = ("spleeter", "oracle")
VIEWS = {"spleeter": ("bss-music", "bss-speech"), "oracle": ("bss-oracle-music", "bss-oracle-speech")}
CONFIGS = {"spleeter": "bss", "oracle": "bss-oracle"}
MODEL_NAME = "2stems"
MODEL_URL = "https://github.com/deezer/spleeter/releases/download/v1.4.0/2stems.tar.gz"
EXPECTED_INSTRUMENTS = ("vocals", "accompaniment")
ORACLE_N_FFT = 4096  # Spleeter's frame length ...
ORACLE_HOP = 1024  # ... and hop, so the oracle bounds a Spleeter-like STFT masker
REPO = Path(__file__).resolve().parents[1]
WORKER_SCRIPT = Path(__file__).with_name("spleeter_worker.py")
STARTUP_TIMEOUT_S = 600

StemsFn = Callable[[Mapping], tuple[np.ndarray, np.ndarray]]


@dataclass
class SeparationSummary:
    """What :func:`separate_dataset` did."""

    out: Path
    backend: str
    config: str
    clips: int
    separated: int
    resumed: int
    digest: str
    quality: list[dict]

    @property
    def text(self) -> str:
        overall = next((r for r in self.quality if r["fold"] == "all"), {})
        scores = ", ".join(f"{k} {overall.get(k + '_mean', float('nan')):.2f} dB"
                           for k in ("music_si_sdr", "speech_si_sdr"))
        return (f"{self.backend}: {self.clips} mixes ({self.separated} separated, {self.resumed} resumed) "
                f"-> config {self.config!r}; mean {scores}; separation digest {self.digest[:16]}")


# ---------------------------------------------------------------- oracle


def _hann(n_fft: int) -> np.ndarray:
    """Periodic Hann window (the STFT-friendly one, as scipy's ``get_window('hann')``)."""
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)


def _stft(x: np.ndarray) -> np.ndarray:
    """Hann STFT of ``x`` [channels, frames]: ``[channels, n_frames, n_fft/2+1]`` complex64.

    The signal is zero-padded by n_fft/2 at both ends (centred frames) and at the end to
    a whole number of hops, as scipy.signal.stft(boundary="zeros", padded=True) does.
    """
    n_fft, hop = ORACLE_N_FFT, ORACLE_HOP
    length = x.shape[-1] + n_fft
    extra = (-(length - n_fft)) % hop
    padded = np.pad(x.astype(np.float32), ((0, 0), (n_fft // 2, n_fft // 2 + extra)))
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft, axis=-1)[:, ::hop]
    return scipy.fft.rfft(frames * _hann(n_fft), axis=-1).astype(np.complex64, copy=False)


def _istft(spec: np.ndarray, frames: int) -> np.ndarray:
    """Inverse of ``_stft`` by weighted overlap-add; returns [frames, channels] float32."""
    n_fft, hop = ORACLE_N_FFT, ORACLE_HOP
    window = _hann(n_fft)
    blocks = scipy.fft.irfft(spec, n=n_fft, axis=-1).astype(np.float32, copy=False) * window
    channels, n_frames, _ = blocks.shape
    per_hop = n_fft // hop  # n_fft is a whole number of hops: overlap-add hop-sized pieces
    pieces = blocks.reshape(channels, n_frames, per_hop, hop)
    signal = np.zeros((channels, n_frames + per_hop - 1, hop), dtype=np.float32)
    norm = np.zeros((n_frames + per_hop - 1, hop), dtype=np.float32)
    squared = (window**2).reshape(per_hop, hop)
    for k in range(per_hop):
        signal[:, k: k + n_frames] += pieces[:, :, k]
        norm[k: k + n_frames] += squared[k]
    signal = (signal / np.where(norm > 1e-8, norm, 1.0)).reshape(channels, -1)
    signal = signal[:, n_fft // 2: n_fft // 2 + frames]
    return audio_io.fit_length(np.ascontiguousarray(signal.T), frames)


def ideal_ratio_mask(target: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Power-ratio mask ``|T|² / (|T|² + |O|²)`` per bin; 0.5 where both are silent."""
    pt, po = np.abs(target) ** 2, np.abs(other) ** 2
    total = pt + po
    mask = np.full(total.shape, 0.5, dtype=np.float32)
    np.divide(pt, total, out=mask, where=total > 0)
    return mask


def oracle_separate(mix: np.ndarray, music: np.ndarray, speech: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(music, speech) estimates of ``mix`` by ideal ratio masks from the true stems.

    Per channel: Hann STFT (4096 / hop 1024, Spleeter's frame), speech mask
    ``|S|² / (|S|² + |M|²)`` and music mask ``1 - speech mask`` (a Wiener-like power
    ratio), applied to the *mix* STFT, inverse STFT, trimmed to the mix length. Pure
    numpy, deterministic. All arrays are float32 ``[frames, channels]``.
    """
    frames = len(mix)
    mask = ideal_ratio_mask(_stft(speech.T), _stft(music.T))
    spec = _stft(mix.T)
    speech_out = _istft(spec * mask, frames)
    music_out = _istft(spec * (1.0 - mask), frames)
    return music_out, speech_out


# ---------------------------------------------------------------- finding Spleeter and its model


def spleeter_python() -> Path:
    """The Spleeter environment's interpreter: $MISME_SPLEETER_PYTHON, else .venv-spleeter."""
    override = os.environ.get("MISME_SPLEETER_PYTHON")
    candidates = [Path(override)] if override else [REPO / ".venv-spleeter" / "bin" / "python",
                                                    Path.cwd() / ".venv-spleeter" / "bin" / "python"]
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    where = candidates[0]
    raise UserError(f"Spleeter environment not found ({where}): run `make spleeter-env` "
                    "(or set MISME_SPLEETER_PYTHON to its python)")


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
    how = (f"download {MODEL_URL}, extract it into {folder} (so that {folder / 'checkpoint'} exists), "
           f"run `touch {folder / '.probe'}`, then pass --model-dir {folder} or set MODEL_PATH={folder.parent}")
    if not (folder / "checkpoint").is_file():
        raise UserError(f"no Spleeter 2-stem model at {folder}: {how}")
    if not (folder / ".probe").exists():
        raise UserError(f"Spleeter model at {folder} has no .probe file (Spleeter would try to download): "
                        f"if the model is complete, run `touch {folder / '.probe'}`")
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
        raise UserError(f"{folder} is a {len(instruments)}-stem model {list(instruments)}: "
                        f"BSS needs Spleeter's 2-stem model (vocals, accompaniment), e.g. {MODEL_URL}")


def model_files(folder: Path) -> dict[str, str]:
    """sha256 of every model file (checkpoint, weights, index, meta, params.json).

    Hidden files (``.probe``), training logs and sub-folders are left out.
    """
    skip = ("events.out.", "graph.pbtxt")
    return {p.name: audio_io.file_sha256(p) for p in sorted(folder.iterdir())
            if p.is_file() and not p.name.startswith(".") and not p.name.startswith(skip)}


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
        env = dict(os.environ, MODEL_PATH=str(model_folder.parent), CUDA_VISIBLE_DEVICES="",
                   TF_CPP_MIN_LOG_LEVEL="2", PYTHONNOUSERSITE="1")
        env.pop("PYTHONPATH", None)
        self.log_path = Path(tempfile.mkstemp(prefix="spleeter-worker-", suffix=".log", dir=log_dir)[1])
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in close()
        command = [str(python), str(WORKER_SCRIPT), "--model", model_folder.name, "--threads", str(threads)]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self._log, text=True, env=env, cwd=log_dir)
        ready = self._read()
        if not ready.get("ready"):
            self.close()
            if ready.get("kind") == "model":
                raise UserError(f"unusable Spleeter model: {ready.get('error')}")
            raise UserError(f"the Spleeter worker could not start: {ready.get('error')} (log: {self.log_path})")
        self.info = ready

    def _read(self) -> dict:
        line = self.process.stdout.readline() if self.process.stdout else ""
        if not line:
            tail = self.log_path.read_text(errors="replace")[-800:] if self.log_path.exists() else ""
            return {"ready": False, "ok": False, "error": f"worker exited ({self.process.poll()}): {tail.strip()}"}
        try:
            return json.loads(line)
        except ValueError:
            return {"ready": False, "ok": False, "error": f"bad worker output: {line[:200]!r}"}

    def separate(self, mix_path: Path, vocals: Path, accompaniment: Path, job_id: str = "") -> dict:
        """Run one job; raise UserError if the worker fails it."""
        job = {"id": job_id, "input": str(mix_path), "vocals": str(vocals), "accompaniment": str(accompaniment)}
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(job) + "\n")
            self.process.stdin.flush()
        except BrokenPipeError:
            pass
        answer = self._read()
        if not answer.get("ok"):
            raise UserError(f"Spleeter failed on {mix_path}: {answer.get('error')} (log: {self.log_path})")
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


# ---------------------------------------------------------------- per-clip work


def _write(path: Path, x: np.ndarray) -> tuple[np.ndarray, str, float]:
    """Peak-guard, quantise and write a clip atomically; (decoded float, sha256, gain dB)."""
    x, gain_db = audio_io.peak_normalise(np.ascontiguousarray(x, dtype=np.float32))
    pcm = audio_io.quantise(x)
    sha = audio_io.write_clip(path, pcm, path.suffix.lstrip("."))
    return pcm.astype(np.float32) / audio_io.FULL_SCALE, sha, gain_db


def window_of(x: np.ndarray, row: Mapping) -> np.ndarray:
    """The SER window ``[window_start_frame, +window_frames)`` of a full-length clip."""
    start, length = int(row["window_start_frame"]), int(row["window_frames"])
    return audio_io.fit_length(x[start : start + length], length)


def finish_clip(row: Mapping, music_est: np.ndarray, speech_est: np.ndarray, paths: tuple[Path, Path],
                stems: tuple[np.ndarray, np.ndarray] | None) -> dict:
    """Write one mix's separated music (full) and speech (SER window); checksums and quality.

    ``stems`` = the true (music, speech) of the full mix, or None to skip quality.
    """
    frames = int(row["music_frames"])
    music_est = audio_io.fit_length(audio_io.to_stereo(music_est), frames)
    speech_est = audio_io.fit_length(audio_io.to_stereo(speech_est), frames)
    music_clip, music_sha, music_gain = _write(paths[0], music_est)
    speech_clip, speech_sha, speech_gain = _write(paths[1], window_of(speech_est, row))
    result: dict[str, Any] = {"mix_id": row["mix_id"], "fold": int(row["fold"]), "audio_sha256": music_sha,
                              "audio_window_sha256": speech_sha, "music_clip_gain_db": music_gain,
                              "speech_clip_gain_db": speech_gain}
    nan = float("nan")
    result.update(dict.fromkeys(separation_quality.METRIC_COLUMNS, nan))
    if stems is not None:
        result.update(separation_quality.clip_quality(music_clip, stems[0], speech_clip, window_of(stems[1], row)))
    return result


def mix_clip(audio_dir: Path, mix_id: str) -> Path:
    """The rendered mix (FLAC, or WAV for a `--format wav` build)."""
    for ext in ("flac", "wav"):
        path = audio_dir / "mixed" / f"{mix_id}.{ext}"
        if path.is_file():
            return path
    raise UserError(f"rendered mix missing: {audio_dir / 'mixed' / mix_id}.flac "
                    "(run `misme-build misme render OUT` first)")


def _clip_paths(audio_dir: Path, backend: str, mix_id: str, ext: str) -> tuple[Path, Path]:
    music_view, speech_view = VIEWS[backend]
    return audio_dir / music_view / f"{mix_id}.{ext}", audio_dir / speech_view / f"{mix_id}.{ext}"


def read_mix(path: Path) -> np.ndarray:
    """Decoded rendered mix, float32 ``[frames, 2]``."""
    pcm, _ = audio_io.decode_pcm(path)
    return pcm.astype(np.float32) / audio_io.FULL_SCALE


_PROCESS_STEMS: StemsFn | None = None


def _set_process_stems(stems_fn: StemsFn) -> None:
    """Pool initializer: the stems function is sent once per process, not once per task."""
    global _PROCESS_STEMS
    _PROCESS_STEMS = stems_fn


def _oracle_unit(task: tuple[dict, str, str]) -> dict:
    row, mix_path, ext = task
    assert _PROCESS_STEMS is not None
    music, speech = _PROCESS_STEMS(row)
    mix = read_mix(Path(mix_path))
    music_est, speech_est = oracle_separate(mix, music, speech)
    paths = _clip_paths(Path(mix_path).parents[1], "oracle", row["mix_id"], ext)
    return finish_clip(row, music_est, speech_est, paths, (music, speech))


# ---------------------------------------------------------------- true stems from the build


class BuildStems:
    """Picklable ``row -> (music_stem, speech_stem)`` from the build's sources (render.mix_stems)."""

    def __init__(self, out: Path, roots: Mapping[str, Path] | None = None) -> None:
        from builders.render import read_manifest, resolve_roots

        sources = read_manifest(Path(out) / "manifests" / "sources.parquet").to_pylist()
        self.sources = {s["source_id"]: s for s in sources}
        self.roots = resolve_roots(Path(out), roots, (s["corpus"] for s in sources))

    def __call__(self, row: Mapping) -> tuple[np.ndarray, np.ndarray]:
        from builders.render import mix_stems

        return mix_stems(row, self.sources[row["speech_id"]], self.sources[row["music_id"]], self.roots)


# ---------------------------------------------------------------- resumable clip records


def _record(audio_dir: Path, backend: str, mix_id: str) -> Path:
    return audio_dir / VIEWS[backend][0] / f"{mix_id}.json"


def _done(audio_dir: Path, backend: str, row: Mapping, key: str, ext: str) -> dict | None:
    try:
        saved = json.loads(_record(audio_dir, backend, row["mix_id"]).read_text())
    except (OSError, ValueError):
        return None
    clips = _clip_paths(audio_dir, backend, row["mix_id"], ext)
    if saved.get("key") != key or not all(p.is_file() for p in clips):
        return None
    return saved["result"]


def _save(audio_dir: Path, backend: str, key: str, result: dict) -> None:
    with atomic_file(_record(audio_dir, backend, result["mix_id"])) as tmp:
        tmp.write_text(json.dumps({"key": key, "result": result}, sort_keys=True))


def _clip_key(identity_digest: str, row: Mapping, quality: bool) -> str:
    payload = [identity_digest, row["mix_id"], row.get("audio_sha256"), int(row["window_start_frame"]),
               int(row["window_frames"]), int(row["music_frames"]), quality]
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()


# ---------------------------------------------------------------- running the backends


def _progress(total: int, backend: str, progress: bool) -> tqdm:
    disable = not progress or os.environ.get("MISME_NO_PROGRESS") == "1"
    return tqdm(total=total, desc=f"separate ({backend})", disable=disable)


def _run_oracle(todo: list[dict], audio_dir: Path, ext: str, stems_fn: StemsFn, workers: int,
                on_done: Callable[[dict], None]) -> None:
    tasks = [(row, str(mix_clip(audio_dir, row["mix_id"])), ext) for row in todo]
    if workers <= 1 or len(tasks) <= 1:
        _set_process_stems(stems_fn)
        for task in tasks:
            on_done(_oracle_unit(task))
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_set_process_stems, initargs=(stems_fn,)) as pool:
        for result in pool.map(_oracle_unit, tasks, chunksize=4):
            on_done(result)


def _spleeter_thread(worker: SpleeterWorker, jobs: queue.Queue, audio_dir: Path, ext: str, tmp_dir: Path,
                     stems_fn: StemsFn | None, results: queue.Queue) -> None:
    rate = int(worker.info["sample_rate"])
    while True:
        try:
            row = jobs.get_nowait()
        except queue.Empty:
            return
        try:
            results.put(_spleeter_clip(worker, row, rate, audio_dir, ext, tmp_dir, stems_fn))
        except BaseException as error:  # reported by the main thread
            results.put(error)
            return


def _spleeter_clip(worker: SpleeterWorker, row: dict, rate: int, audio_dir: Path, ext: str, tmp_dir: Path,
                   stems_fn: StemsFn | None) -> dict:
    mix_id = row["mix_id"]
    mix_path = mix_clip(audio_dir, mix_id)
    if rate != audio_io.SAMPLE_RATE:  # a model at another rate: feed it resampled float audio
        resampled = tmp_dir / f"{mix_id}.input.npy"
        np.save(resampled, audio_io.resample(read_mix(mix_path), audio_io.SAMPLE_RATE, rate))
        mix_path = resampled
    vocals, accompaniment = tmp_dir / f"{mix_id}.vocals.npy", tmp_dir / f"{mix_id}.accompaniment.npy"
    worker.separate(mix_path, vocals, accompaniment, job_id=mix_id)
    speech_est = audio_io.resample(np.load(vocals).astype(np.float32), rate)
    music_est = audio_io.resample(np.load(accompaniment).astype(np.float32), rate)
    for path in (vocals, accompaniment, tmp_dir / f"{mix_id}.input.npy"):
        path.unlink(missing_ok=True)
    stems = stems_fn(row) if stems_fn is not None else None
    return finish_clip(row, music_est, speech_est, _clip_paths(audio_dir, "spleeter", mix_id, ext), stems)


def _run_spleeter(todo: list[dict], audio_dir: Path, ext: str, stems_fn: StemsFn | None, workers: int,
                  python: Path, model_folder: Path, on_done: Callable[[dict], None]) -> None:
    if not todo:
        return
    tmp_dir = Path(tempfile.mkdtemp(prefix=".separation-", dir=audio_dir))
    started: list[SpleeterWorker] = []
    try:
        count = min(workers, len(todo))
        threads_each = max(1, (os.cpu_count() or 1) // count)
        for _ in range(count):
            started.append(SpleeterWorker(python, model_folder, tmp_dir, threads=threads_each))
        jobs: queue.Queue = queue.Queue()
        for row in todo:
            jobs.put(row)
        results: queue.Queue = queue.Queue()
        threads = [threading.Thread(target=_spleeter_thread, daemon=True,
                                    args=(w, jobs, audio_dir, ext, tmp_dir, stems_fn, results)) for w in started]
        for thread in threads:
            thread.start()
        for _ in range(len(todo)):
            item = results.get()
            if isinstance(item, BaseException):
                while not jobs.empty():  # stop the other threads early
                    jobs.get_nowait()
                raise item
            on_done(item)
    finally:
        for worker in started:
            worker.close()
        shutil.rmtree(tmp_dir, ignore_errors=True)


# ---------------------------------------------------------------- outputs


def _identity(backend: str, model_folder: Path | None, python: Path | None) -> dict:
    if backend == "oracle":
        return {"backend": "oracle", "method": "ideal ratio mask |S|^2/(|S|^2+|M|^2) on the mix STFT",
                "n_fft": ORACLE_N_FFT, "hop": ORACLE_HOP, "window": "hann",
                "numpy": np.__version__}
    assert model_folder is not None and python is not None
    return {"backend": "spleeter", "model": MODEL_NAME, "spleeter_version": spleeter_version(python),
            "model_files": model_files(model_folder), "separation": "full mix, vocals cropped to the SER window"}


def identity_digest(identity: Mapping) -> str:
    """sha256 of the canonical JSON of a separation's identity (backend, versions, model hashes)."""
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def separation_digest(identity: Mapping, results: list[dict]) -> str:
    """sha256 over the identity digest and the sorted ``<view>\\t<id>\\t<sha256>`` clip lines."""
    lines = [identity_digest(identity)]
    for r in sorted(results, key=lambda r: r["mix_id"]):
        lines.append(f"{r['views'][0]}\t{r['mix_id']}\t{r['audio_sha256']}")
        lines.append(f"{r['views'][1]}\t{r['mix_id']}\t{r['audio_window_sha256']}")
    return hashlib.sha256(("\n".join(lines) + "\n").encode()).hexdigest()


def _mixed_metadata(out: Path) -> pa.Table:
    """The `mixed` config's non-audio columns (ids, folds, labels), from its shards."""
    from builders.hf import shard_files

    shards = shard_files(out, "mixed")
    if not shards:
        raise UserError(f"no `mixed` config under {out / 'data'}: run `misme-build misme render {out}` first")
    names = [n for n in pq.read_schema(shards[0]).names if n not in ("audio", "audio_window")]
    return pa.concat_tables([pq.read_table(s, columns=names) for s in shards])


def _write_config(out: Path, backend: str, results: dict[str, dict], ext: str) -> None:
    from builders.hf import write_variant_shards

    meta = _mixed_metadata(out)
    ids = meta.column("id").to_pylist()
    if set(ids) != set(results):
        raise UserError(f"the `mixed` config of {out} does not match manifests/mixes.parquet: re-run the render")
    meta = meta.drop_columns([c for c in ("audio_sha256", "audio_window_sha256") if c in meta.column_names])
    meta = meta.append_column("audio_sha256", pa.array([results[i]["audio_sha256"] for i in ids], pa.string()))
    meta = meta.append_column("audio_window_sha256",
                              pa.array([results[i]["audio_window_sha256"] for i in ids], pa.string()))
    paths = [_clip_paths(out / "audio", backend, i, ext) for i in ids]
    write_variant_shards(out, CONFIGS[backend], meta, [p[0] for p in paths], [p[1] for p in paths])


def _write_manifest(out: Path, backend: str, results: list[dict]) -> Path:
    import pandas as pd

    from builders.manifest_io import write_manifest

    columns = ["mix_id", "fold", "audio_sha256", "audio_window_sha256", "music_clip_gain_db",
               "speech_clip_gain_db", *separation_quality.METRIC_COLUMNS]
    frame = pd.DataFrame([{c: r[c] for c in columns} for r in sorted(results, key=lambda r: r["mix_id"])],
                         columns=columns)
    path = out / "manifests" / f"separation-{backend}.parquet"
    with atomic_file(path) as tmp:
        write_manifest(frame, tmp)
    return path


def _write_identity(out: Path, backend: str, identity: dict, digest: str, summary: list[dict]) -> None:
    document = {"backend": backend, "config": CONFIGS[backend], "views": list(VIEWS[backend]),
                "identity": identity, "identity_digest": identity_digest(identity), "digest": digest,
                "quality": summary}
    with atomic_file(out / "manifests" / f"separation-{backend}.json") as tmp:
        tmp.write_text(json.dumps(document, indent=2, sort_keys=True, allow_nan=True) + "\n")


# ---------------------------------------------------------------- the command


def _read_mixes(out: Path) -> list[dict]:
    from builders.render import read_manifest

    mixes = read_manifest(out / "manifests" / "mixes.parquet").to_pylist()
    if not mixes:
        raise UserError(f"{out / 'manifests' / 'mixes.parquet'} has no mixes")
    if any(m.get("audio_sha256") is None for m in mixes):
        raise UserError(f"the mixes of {out} are not rendered: run `misme-build misme render {out}` first")
    return sorted(mixes, key=lambda m: m["mix_id"])


def separate_dataset(out: Path | str, *, backend: str, model_dir: Path | str | None = None, workers: int = 1,
                     progress: bool = True, roots: Mapping[str, Path] | None = None, quality: bool = True,
                     stems: StemsFn | None = None) -> SeparationSummary:
    """Separate every rendered mix of OUT and write the ``bss`` / ``bss-oracle`` variant.

    ``stems`` (row -> true (music, speech)) defaults to re-mixing the sources with
    ``builders.render.mix_stems`` (roots from ``roots`` or OUT/build-state.json); the
    oracle needs it, Spleeter uses it only for the quality (``quality=False`` skips it).
    Returns a :class:`SeparationSummary`; raises UserError for a user's mistake.
    """
    out = Path(out)
    if backend not in BACKENDS:
        raise UserError(f"unknown backend {backend!r}: choose {' or '.join(BACKENDS)}")
    if workers < 1:
        raise UserError(f"--workers must be >= 1, got {workers}")
    python = model_folder = None
    if backend == "spleeter":  # cheap checks first: nothing is written before they pass
        python = spleeter_python()
        model_folder = resolve_model_dir(model_dir)
    mixes = _read_mixes(out)
    audio_dir = out / "audio"
    ext = mix_clip(audio_dir, mixes[0]["mix_id"]).suffix.lstrip(".")
    if stems is None and (quality or backend == "oracle"):
        stems = BuildStems(out, roots)
    identity = _identity(backend, model_folder, python)
    key_base = identity_digest(identity)
    results: dict[str, dict] = {}
    todo = []
    for row in mixes:
        done = _done(audio_dir, backend, row, _clip_key(key_base, row, quality), ext)
        if done is not None:
            results[row["mix_id"]] = done
        else:
            todo.append(row)
    rows = {row["mix_id"]: row for row in mixes}
    bar = _progress(len(mixes), backend, progress)
    bar.update(len(results))

    def on_done(result: dict) -> None:
        _save(audio_dir, backend, _clip_key(key_base, rows[result["mix_id"]], quality), result)
        results[result["mix_id"]] = result
        bar.update(1)

    try:
        if backend == "oracle":
            _run_oracle(todo, audio_dir, ext, stems, workers, on_done)
        else:
            _run_spleeter(todo, audio_dir, ext, stems if quality else None, workers, python, model_folder, on_done)
    except OSError as error:
        raise UserError(f"cannot write the separation under {out}: {error}") from error
    finally:
        bar.close()
    return _finish(out, backend, identity, results, ext, len(todo))


def _finish(out: Path, backend: str, identity: dict, results: dict[str, dict], ext: str,
            separated: int) -> SeparationSummary:
    from builders import hf

    ordered = [dict(r, views=VIEWS[backend]) for _, r in sorted(results.items())]
    _write_config(out, backend, results, ext)
    _write_manifest(out, backend, ordered)
    import pandas as pd

    summary = separation_quality.summarise(pd.DataFrame(ordered)).to_dict("records")
    digest = separation_digest(identity, ordered)
    _write_identity(out, backend, identity, digest, summary)
    hf.finalize(out)
    return SeparationSummary(out=out, backend=backend, config=CONFIGS[backend], clips=len(results),
                             separated=separated, resumed=len(results) - separated, digest=digest,
                             quality=summary)


def identity_checksums(out: Path) -> dict[tuple[str, str], str]:
    """``("separation-identity", <config>) -> identity digest`` for each BSS config present.

    Meant to be merged into the dataset digest's checksums (``hf.finalize`` and
    ``verify``), so that the digest covers the model files' hashes and Spleeter's version,
    not only the clips.
    """
    from builders.hf import shard_files

    found = {}
    for backend, config in CONFIGS.items():
        path = Path(out) / "manifests" / f"separation-{backend}.json"
        if path.is_file() and shard_files(Path(out), config):
            found[("separation-identity", config)] = json.loads(path.read_text())["identity_digest"]
    return found


def iter_card_sections(out: Path) -> Iterator[str]:
    """Markdown sections (method, identity, quality) of every separation done in OUT, for the card."""
    import pandas as pd

    for backend in BACKENDS:
        path = Path(out) / "manifests" / f"separation-{backend}.json"
        if not path.is_file():
            continue
        document = json.loads(path.read_text())
        identity = document["identity"]
        lines = [f"## BSS variant `{document['config']}` ({backend})", "",
                 "Separation runs on the full mix; the speech estimate is then cropped to the SER window.",
                 f"Separation digest (identity + clip checksums): `{document['digest']}`", "",
                 "```json", json.dumps(identity, indent=2, sort_keys=True), "```", ""]
        lines.append(separation_quality.card_section(pd.DataFrame(document["quality"]), backend))
        yield "\n".join(lines)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, help="rendered build folder")
    parser.add_argument("--backend", choices=BACKENDS, default="spleeter",
                        help="spleeter (2-stem model) or oracle (ideal ratio masks from the true stems)")
    parser.add_argument("--model-dir", type=Path, default=None,
                        help=f"Spleeter model folder holding the checkpoint and .probe "
                             f"(default $MODEL_PATH/{MODEL_NAME}, else pretrained_models/{MODEL_NAME})")
    parser.add_argument("--workers", type=int, default=1, help="parallel separation processes (default 1)")
    parser.add_argument("--no-quality", action="store_true",
                        help="skip SI-SDR/SDR (Spleeter only; needs no source files then)")


def run(args: argparse.Namespace) -> int:
    summary = separate_dataset(args.out, backend=args.backend, model_dir=args.model_dir,
                               workers=args.workers, quality=not getattr(args, "no_quality", False))
    print(summary.text)
    return 0

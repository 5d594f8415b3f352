"""Spleeter separation worker: runs in `.venv-spleeter` (numpy<2, TensorFlow 2.12).

Started by ``builders.separation`` as::

    MODEL_PATH=<models> .venv-spleeter/bin/python builders/spleeter_worker.py [--model 2stems]

It imports only the standard library, numpy, soundfile and spleeter (nothing from the
``builders`` package), so it runs under the Spleeter environment's interpreter.

Model. ``$MODEL_PATH/<model>`` (Spleeter's own convention, default model ``2stems``)
must hold a TensorFlow checkpoint and a ``.probe`` file; the worker never downloads
anything (the download hook raises). If the folder holds a ``params.json`` (e.g. a
model trained with ``spleeter train``), it is used instead of Spleeter's packaged
``spleeter:2stems`` configuration; ``model_dir`` is always replaced by the absolute
folder. The model must separate exactly ``vocals`` and ``accompaniment``: the
configuration's instrument list and the number of U-Nets in the checkpoint are both
checked, so a 4-stem model is refused.

Protocol (JSON lines). First line on stdout: ``{"ready": true, "spleeter_version",
"sample_rate", "instruments", "model_dir"}`` or ``{"ready": false, "error", "kind"}``
(then exit status 3). Then one job per stdin line::

    {"id": "...", "input": "mix.flac|.wav|.npy", "vocals": "out.wav|.npy",
     "accompaniment": "out.wav|.npy"}

answered by one line ``{"id", "ok": true, "frames", "sample_rate", "seconds"}`` or
``{"id", "ok": false, "error"}``. Inputs must be at the model's sample rate (the
caller resamples). Outputs are float32 [frames, 2] at the model's sample rate, the
same length as the input: 32-bit float WAV (lossless, no clipping) or ``.npy``.
The model stays loaded (one TensorFlow session) across jobs; EOF ends the worker.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

EXPECTED_INSTRUMENTS = ("vocals", "accompaniment")
UNET_TRANSPOSED_CONVS = 6  # conv2d_transpose layers per U-Net in spleeter.model.functions.unet


class ModelError(Exception):
    """The model folder is missing, incomplete or not a 2-stem vocals/accompaniment model."""


def _import_adapter_base():
    from spleeter.audio.adapter import AudioAdapter

    return AudioAdapter


def read_audio(path: str) -> tuple[np.ndarray, int]:
    """Float32 [frames, channels] and sample rate from a sound file or a ``.npy`` array."""
    if path.endswith(".npy"):
        data = np.load(path)
        return np.asarray(data, dtype=np.float32).reshape(len(data), -1), 0
    data, rate = sf.read(path, dtype="float32", always_2d=True)
    return data, int(rate)


def write_audio(path: str, data: np.ndarray, rate: int) -> None:
    """Write float32 audio to a 32-bit float WAV or an ``.npy`` file (via a temp + rename)."""
    tmp = f"{path}.tmp-{os.getpid()}"
    data = np.ascontiguousarray(data, dtype=np.float32)
    if path.endswith(".npy"):
        with open(tmp, "wb") as handle:
            np.save(handle, data)
    else:
        sf.write(tmp, data, rate, subtype="FLOAT", format="WAV")
    os.replace(tmp, path)


def model_folder(model_path: str, model: str) -> Path:
    """``$MODEL_PATH/<model>``, checked for a checkpoint and the ``.probe`` marker."""
    folder = Path(model_path, model).resolve()
    if not folder.is_dir():
        raise ModelError(f"no model folder {folder}")
    if not (folder / ".probe").exists():
        raise ModelError(f"{folder} has no .probe file (Spleeter would try to download)")
    if not (folder / "checkpoint").exists():
        raise ModelError(f"{folder} holds no TensorFlow checkpoint (file 'checkpoint')")
    return folder


def load_params(folder: Path) -> dict:
    """The model's configuration: ``params.json`` in the folder, else ``spleeter:2stems``."""
    from spleeter.utils.configuration import load_configuration

    own = folder / "params.json"
    params = load_configuration(str(own) if own.exists() else "spleeter:2stems")
    params = dict(params)
    params["model_dir"] = str(folder)
    params["MWF"] = False
    return params


def count_unets(folder: Path) -> int:
    """Number of U-Nets (= stems) in the checkpoint, from its transposed-conv kernels."""
    import tensorflow as tf

    checkpoint = tf.train.latest_checkpoint(str(folder))
    if checkpoint is None:
        raise ModelError(f"{folder}: the 'checkpoint' file names no readable checkpoint")
    return unets_in(name for name, _ in tf.train.list_variables(checkpoint))


def unets_in(variable_names) -> int:
    """U-Nets in a checkpoint's variable names: 6 ``conv2d_transpose*/kernel`` each
    (optimizer slots such as ``.../kernel/Adam`` are not counted)."""
    kernels = [n for n in variable_names if "conv2d_transpose" in n and n.endswith("/kernel")]
    return len(kernels) // UNET_TRANSPOSED_CONVS


def check_two_stems(params: dict, n_unets: int) -> None:
    """Refuse anything but a vocals/accompaniment model (e.g. Spleeter's 4stems)."""
    instruments = tuple(params.get("instrument_list", ()))
    if instruments != EXPECTED_INSTRUMENTS or n_unets != len(EXPECTED_INSTRUMENTS):
        raise ModelError(
            f"{params['model_dir']} is not a 2-stem vocals/accompaniment model "
            f"(configuration instruments {list(instruments)}, {n_unets} U-Nets in the checkpoint)"
        )


def _forbid_downloads() -> None:
    from spleeter.model.provider.github import GithubModelProvider

    def refuse(_self, name: str, path: str) -> None:
        raise ModelError(f"refusing to download Spleeter model {name!r} into {path}")

    GithubModelProvider.download = refuse


class LoadedModel:
    """One TensorFlow graph + session with the model restored once, reused for every job.

    This is the graph Spleeter's own ``Separator`` builds for prediction
    (``EstimatorSpecBuilder.outputs`` on waveform placeholders), without rebuilding the
    estimator and restoring the checkpoint on every call.
    """

    def __init__(self, params: dict) -> None:
        import tensorflow as tf
        from spleeter.model import EstimatorSpecBuilder, InputProviderFactory

        self.params = params
        self.sample_rate = int(params["sample_rate"])
        self.graph = tf.Graph()
        with self.graph.as_default():
            provider = InputProviderFactory.get(params)
            self.features = provider.get_input_dict_placeholders()
            builder = EstimatorSpecBuilder(self.features, params)
            self.outputs = {k: v for k, v in builder.outputs.items() if k != "audio_id"}
            saver = tf.compat.v1.train.Saver()
            self.session = tf.compat.v1.Session(graph=self.graph)
            saver.restore(self.session, tf.train.latest_checkpoint(params["model_dir"]))

    def separate(self, waveform: np.ndarray) -> dict[str, np.ndarray]:
        """Stems (float32 [frames, 2]) of a [frames, channels] waveform."""
        if waveform.shape[1] == 1:
            waveform = np.repeat(waveform, 2, axis=1)
        elif waveform.shape[1] != 2:
            raise ValueError(f"expected mono or stereo input, got {waveform.shape[1]} channels")
        feed = {self.features["waveform"]: waveform, self.features["audio_id"]: ""}
        result = self.session.run(self.outputs, feed_dict=feed)
        return {k: np.asarray(v, dtype=np.float32)[: len(waveform)] for k, v in result.items()}


def run_job(model: LoadedModel, job: dict) -> dict:
    """Separate one file; the answer line for it."""
    start = time.perf_counter()
    waveform, rate = read_audio(job["input"])
    if rate and rate != model.sample_rate:
        raise ValueError(
            f"{job['input']} is at {rate} Hz, the model expects {model.sample_rate} Hz"
        )
    stems = model.separate(waveform)
    for name in EXPECTED_INSTRUMENTS:
        write_audio(job[name], stems[name], model.sample_rate)
    return {
        "id": job.get("id"),
        "ok": True,
        "frames": int(len(waveform)),
        "sample_rate": model.sample_rate,
        "seconds": round(time.perf_counter() - start, 4),
    }


def serve(model: LoadedModel, stdin, stdout) -> None:
    """Answer JSON-lines jobs until EOF."""
    for line in stdin:
        if not line.strip():
            continue
        job: dict = {}
        try:
            job = json.loads(line)
            answer = run_job(model, job)
        except Exception as error:  # one bad job must not kill the batch
            answer = {"id": job.get("id"), "ok": False, "error": f"{type(error).__name__}: {error}"}
        stdout.write(json.dumps(answer) + "\n")
        stdout.flush()


def _spleeter_version() -> str:
    from importlib.metadata import version

    return version("spleeter")


def start(model_path: str, model: str) -> LoadedModel:
    """Check the model folder and load it (raises :class:`ModelError`)."""
    _forbid_downloads()
    folder = model_folder(model_path, model)
    params = load_params(folder)
    check_two_stems(params, count_unets(folder))
    return LoadedModel(params)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="2stems", help="model folder name under $MODEL_PATH")
    parser.add_argument("--threads", type=int, default=0, help="TensorFlow threads (0: default)")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    out = sys.stdout
    sys.stdout = sys.stderr  # library chatter must not corrupt the protocol
    model_path = os.environ.get("MODEL_PATH", "pretrained_models")
    try:
        if args.threads:
            import tensorflow as tf

            tf.config.threading.set_intra_op_parallelism_threads(args.threads)
            tf.config.threading.set_inter_op_parallelism_threads(args.threads)
        loaded = start(model_path, args.model)
    except ModelError as error:
        out.write(json.dumps({"ready": False, "kind": "model", "error": str(error)}) + "\n")
        out.flush()
        return 3
    except Exception as error:
        message = f"{type(error).__name__}: {error}"
        out.write(json.dumps({"ready": False, "kind": "load", "error": message}) + "\n")
        out.flush()
        return 3
    ready = {
        "ready": True,
        "spleeter_version": _spleeter_version(),
        "sample_rate": loaded.sample_rate,
        "instruments": list(loaded.outputs),
        "model_dir": loaded.params["model_dir"],
    }
    out.write(json.dumps(ready) + "\n")
    out.flush()
    serve(loaded, sys.stdin, out)
    return 0


def soundfile_adapter_class():
    """A Spleeter ``AudioAdapter`` reading/writing with soundfile (used for ``spleeter train``
    in environments without an ffmpeg binary). Exposed as :data:`SoundfileAudioAdapter`."""
    base = _import_adapter_base()

    class _SoundfileAudioAdapter(base):
        def load(self, path, offset=None, duration=None, sample_rate=None, dtype=b"float32"):
            path = path.decode() if isinstance(path, bytes) else str(path)
            info = sf.info(path)
            start = int(round(float(offset or 0) * info.samplerate))
            stop = (
                None if duration is None else start + int(round(float(duration) * info.samplerate))
            )
            data, rate = sf.read(path, start=start, stop=stop, dtype="float32", always_2d=True)
            if sample_rate is not None and int(sample_rate) != rate:
                raise ValueError(f"{path} is at {rate} Hz, expected {int(sample_rate)} Hz")
            return data, rate

        def save(self, path, data, sample_rate, codec=None, bitrate=None):
            sf.write(str(path), np.asarray(data, dtype=np.float32), int(sample_rate))

    return _SoundfileAudioAdapter


def __getattr__(name: str):
    if name == "SoundfileAudioAdapter":
        return soundfile_adapter_class()
    raise AttributeError(name)


if __name__ == "__main__":
    sys.exit(main())

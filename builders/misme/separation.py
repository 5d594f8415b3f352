"""`misme-build misme separate OUT --backend spleeter|oracle`: the BSS copies of the mixes.

Both backends separate the *full* rendered mix (``OUT/audio/mixed/<mix_id>.flac``) and
then crop the speech estimate to the mix's SER window ``[window_start_frame,
+window_frames)``:

* ``spleeter``: Spleeter's 2-stem model (``accompaniment`` = BSS-music, ``vocals`` =
  BSS-speech), run in its own environment (``make spleeter-env``) by
  ``builders/misme/spleeter_worker.py``: each engine worker talks to its own worker
  process over a pipe; views ``bss-music`` / ``bss-speech``, config ``bss``.
* ``oracle``: ideal ratio masks from the true stems (``builders.misme.oracle``); views
  ``bss-oracle-music`` / ``bss-oracle-speech``, config ``bss-oracle``.

Clips follow the render rule (the recipe's rate, stereo, ``np.rint(x * 32767)`` 16-bit, a
peak over full scale is scaled down and the gain recorded, checksum = sha256 of the int16
PCM). Per-clip SI-SDR/SDR against the true stems (``separation_quality``) go to
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
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from builders.common.atomic import atomic_file
from builders.common.audio import OutputSpec
from builders.common.build_state import add_root_arguments, resolve_roots, roots_from_options
from builders.common.clips import clip_file, locate_all
from builders.common.lock import build_lock
from builders.common.manifest import read_manifest_table, write_manifest
from builders.common.resume import finished_result, unit_key
from builders.engine import Engine, engine_from_args, map_units, resolve_engine
from builders.engine import add_arguments as add_engine_arguments
from builders.errors import UserError
from builders.hf.shards import config_metadata, write_config_shards
from builders.misme import export, separation_quality
from builders.misme.mixing import mix_stems
from builders.misme.oracle import ORACLE_HOP, ORACLE_N_FFT
from builders.misme.recipe import build_recipe
from builders.misme.separation_outputs import BACKENDS, CONFIGS, VIEWS, identity_path
from builders.misme.separation_units import (
    SeparationUnit,
    StemSources,
    separate_oracle,
    separate_spleeter,
)
from builders.misme.spec import dataset_spec
from builders.misme.spleeter_client import (
    MODEL_NAME,
    SpleeterSessionFactory,
    model_files,
    resolve_model_dir,
    spleeter_python,
    spleeter_version,
)


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
        scores = ", ".join(
            f"{k} {overall.get(k + '_mean', float('nan')):.2f} dB"
            for k in ("music_si_sdr", "speech_si_sdr")
        )
        return (
            f"{self.backend}: {self.clips} mixes ({self.separated} separated, {self.resumed} resumed) "
            f"-> config {self.config!r}; mean {scores}; separation digest {self.digest[:16]}"
        )


# ---------------------------------------------------------------- identity and outputs


def _identity(backend: str, model_folder: Path | None, python: Path | None) -> dict:
    if backend == "oracle":
        return {
            "backend": "oracle",
            "method": "ideal ratio mask |S|^2/(|S|^2+|M|^2) on the mix STFT",
            "n_fft": ORACLE_N_FFT,
            "hop": ORACLE_HOP,
            "window": "hann",
            "numpy": np.__version__,
        }
    assert model_folder is not None and python is not None
    return {
        "backend": "spleeter",
        "model": MODEL_NAME,
        "spleeter_version": spleeter_version(python),
        "model_files": model_files(model_folder),
        "separation": "full mix, vocals cropped to the SER window",
    }


def identity_digest(identity: Mapping) -> str:
    """sha256 of the canonical JSON of a separation's identity (backend, versions, model hashes)."""
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def separation_digest(identity: Mapping, views: tuple[str, str], results: list[dict]) -> str:
    """sha256 over the identity digest and the sorted ``<view>\\t<id>\\t<sha256>`` clip lines."""
    lines = [identity_digest(identity)]
    for r in sorted(results, key=lambda r: r["mix_id"]):
        lines.append(f"{views[0]}\t{r['mix_id']}\t{r['audio_sha256']}")
        lines.append(f"{views[1]}\t{r['mix_id']}\t{r['audio_window_sha256']}")
    return hashlib.sha256(("\n".join(lines) + "\n").encode()).hexdigest()


def clip_paths(out: Path, backend: str, mix_id: str, output: OutputSpec) -> tuple[Path, Path]:
    """The separated (music, speech) clips of one mix."""
    music_view, speech_view = VIEWS[backend]
    return clip_file(out, music_view, mix_id, output.suffix), clip_file(
        out, speech_view, mix_id, output.suffix
    )


def _write_config(out: Path, backend: str, results: dict[str, dict], spec) -> None:
    try:
        meta = config_metadata(out, "mixed")
    except UserError:
        raise UserError(
            f"no `mixed` config under {out / 'data'}: run `misme-build misme render {out}` first"
        ) from None
    ids = meta.column("id").to_pylist()
    if set(ids) != set(results):
        raise UserError(
            f"the `mixed` config of {out} does not match manifests/mixes.parquet: re-run the render"
        )
    meta = meta.drop_columns(
        [c for c in ("audio_sha256", "audio_window_sha256") if c in meta.column_names]
    )
    meta = meta.append_column(
        "audio_sha256", pa.array([results[i]["audio_sha256"] for i in ids], pa.string())
    )
    meta = meta.append_column(
        "audio_window_sha256",
        pa.array([results[i]["audio_window_sha256"] for i in ids], pa.string()),
    )
    paths = [clip_paths(out, backend, i, spec.output) for i in ids]
    write_config_shards(
        out, spec, CONFIGS[backend], meta, [p[0] for p in paths], [p[1] for p in paths]
    )


def _write_manifest(out: Path, backend: str, results: list[dict]) -> Path:
    columns = [
        "mix_id",
        "fold",
        "audio_sha256",
        "audio_window_sha256",
        "music_clip_gain_db",
        "speech_clip_gain_db",
        *separation_quality.METRIC_COLUMNS,
    ]
    frame = pd.DataFrame(
        [{c: r[c] for c in columns} for r in sorted(results, key=lambda r: r["mix_id"])],
        columns=columns,
    )
    path = out / "manifests" / f"separation-{backend}.parquet"
    with atomic_file(path) as tmp:
        write_manifest(frame, tmp)
    return path


def _write_identity(
    out: Path, backend: str, identity: dict, digest: str, summary: list[dict]
) -> None:
    document = {
        "backend": backend,
        "config": CONFIGS[backend],
        "views": list(VIEWS[backend]),
        "identity": identity,
        "identity_digest": identity_digest(identity),
        "digest": digest,
        "quality": summary,
    }
    with atomic_file(identity_path(out, backend)) as tmp:
        tmp.write_text(json.dumps(document, indent=2, sort_keys=True, allow_nan=True) + "\n")


# ---------------------------------------------------------------- the command


def _read_mixes(out: Path) -> list[dict]:
    path = out / "manifests" / "mixes.parquet"
    mixes = read_manifest_table(path, hint="run `misme-build misme plan` first").to_pylist()
    if not mixes:
        raise UserError(f"{path} has no mixes")
    if any(m.get("audio_sha256") is None for m in mixes):
        raise UserError(
            f"the mixes of {out} are not rendered: run `misme-build misme render {out}` first"
        )
    return sorted(mixes, key=lambda m: m["mix_id"])


def _clip_key(identity_key: str, row: Mapping, quality: bool) -> str:
    return unit_key(
        identity_key,
        row["mix_id"],
        row.get("audio_sha256"),
        int(row["window_start_frame"]),
        int(row["window_frames"]),
        int(row["music_frames"]),
        quality,
    )


def _units(
    out: Path,
    backend: str,
    mixes: list[dict],
    identity: dict,
    output: OutputSpec,
    quality: bool,
    roots: Mapping[str, Path] | None,
    check_roots: bool,
) -> list[SeparationUnit]:
    needs_stems = quality or backend == "oracle"
    sources, resolved = {}, {}
    if needs_stems:
        table = read_manifest_table(out / "manifests" / "sources.parquet").to_pylist()
        sources = {s["source_id"]: s for s in table}
        resolved = resolve_roots(out, roots, (s["corpus"] for s in table), check=check_roots)
    key_base = identity_digest(identity)
    units = []
    mix_paths = [clip_file(out, "mixed", row["mix_id"], output.suffix) for row in mixes]
    for row, mix_path, mix in zip(mixes, mix_paths, locate_all(mix_paths), strict=True):
        if mix is None:
            raise UserError(
                f"rendered mix missing: {mix_path} (run `misme-build misme render {out}` first)"
            )
        stems = (
            StemSources(sources[row["speech_id"]], sources[row["music_id"]], resolved)
            if needs_stems
            else None
        )
        outputs = clip_paths(out, backend, row["mix_id"], output)
        record = outputs[0].with_suffix(".json")
        units.append(
            SeparationUnit(
                row,
                mix,
                (str(outputs[0]), str(outputs[1])),
                str(record),
                _clip_key(key_base, row, quality),
                output,
                stems,
            )
        )
    return units


def separate_dataset(
    out: Path | str,
    *,
    backend: str,
    model_dir: Path | str | None = None,
    workers: int = 1,
    engine: Engine | None = None,
    progress: bool = True,
    roots: Mapping[str, Path] | None = None,
    quality: bool = True,
    wait: bool = False,
) -> SeparationSummary:
    """Separate every rendered mix of OUT and write the ``bss`` / ``bss-oracle`` variant.

    The true stems (which the oracle needs, and Spleeter's quality measure) are re-mixed
    from the sources (roots from ``roots`` or OUT/build-state.json); ``quality=False``
    skips the measure for Spleeter. Raises UserError for a user's mistake.
    """
    out = Path(out)
    if backend not in BACKENDS:
        raise UserError(f"unknown backend {backend!r}: choose {' or '.join(BACKENDS)}")
    engine = resolve_engine(engine, workers)
    python = model_folder = None
    if backend == "spleeter":  # cheap checks first: nothing is written before they pass
        python = spleeter_python()
        model_folder = resolve_model_dir(model_dir)
    mixes = _read_mixes(out)
    with build_lock(out, f"separation ({backend})", wait=wait):
        return _separate_locked(
            out, backend, mixes, engine, python, model_folder, progress, roots, quality
        )


def _separate_locked(
    out: Path,
    backend: str,
    mixes: list[dict],
    engine: Engine,
    python: Path | None,
    model_folder: Path | None,
    progress: bool,
    roots: Mapping[str, Path] | None,
    quality: bool,
) -> SeparationSummary:
    spec = dataset_spec(build_recipe(out))
    identity = _identity(backend, model_folder, python)
    units = _units(
        out, backend, mixes, identity, spec.output, quality, roots, engine.backend == "local"
    )
    results: dict[str, dict] = {}
    todo = []
    for unit in units:
        checked = {unit.outputs[0]: "audio_sha256", unit.outputs[1]: "audio_window_sha256"}
        done = finished_result(
            Path(unit.record), unit.key, [Path(p) for p in unit.outputs], checked
        )
        if done is not None:
            results[unit.row["mix_id"]] = done
        else:
            todo.append(unit)
    if backend == "oracle":
        fn, state = separate_oracle, None
    else:
        # one TensorFlow thread per Spleeter process: its results then do not depend on the thread
        # count (with more, the last bit of some samples did), so parallelism comes from workers
        fn, state = (
            separate_spleeter,
            SpleeterSessionFactory(str(python), str(model_folder), threads=1),
        )
    try:
        separated = map_units(
            fn,
            todo,
            engine=engine,
            desc=f"separate ({backend})",
            unit="mix",
            state=state,
            progress=progress,
        )
    except OSError as error:
        raise UserError(f"cannot write the separation under {out}: {error}") from error
    results.update({r["mix_id"]: r for r in separated})
    return _publish(out, backend, identity, results, spec, len(todo))


def _publish(
    out: Path, backend: str, identity: dict, results: dict[str, dict], spec, separated: int
) -> SeparationSummary:
    ordered = [r for _, r in sorted(results.items())]
    _write_config(out, backend, results, spec)
    _write_manifest(out, backend, ordered)
    summary = separation_quality.summarise(pd.DataFrame(ordered)).to_dict("records")
    digest = separation_digest(identity, VIEWS[backend], ordered)
    _write_identity(out, backend, identity, digest, summary)
    export.finalize_build(out, spec)
    return SeparationSummary(
        out=out,
        backend=backend,
        config=CONFIGS[backend],
        clips=len(results),
        separated=separated,
        resumed=len(results) - separated,
        digest=digest,
        quality=summary,
    )


def true_stems(
    out: Path, mix_row: Mapping, roots: Mapping[str, Path] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The true (music, speech) stems of one mix of OUT, as summed into the rendered mix."""
    sources = {
        s["source_id"]: s
        for s in read_manifest_table(Path(out) / "manifests" / "sources.parquet").to_pylist()
    }
    resolved = resolve_roots(Path(out), roots, (s["corpus"] for s in sources.values()))
    rate = build_recipe(out).audio.sample_rate
    return mix_stems(
        mix_row, sources[mix_row["speech_id"]], sources[mix_row["music_id"]], resolved, rate
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, help="rendered build folder")
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="spleeter",
        help="spleeter (2-stem model) or oracle (ideal ratio masks from the true stems)",
    )
    parser.add_argument(
        "--model-dir",
        type=Path,
        default=None,
        help=f"Spleeter model folder holding the checkpoint and .probe "
        f"(default $MODEL_PATH/{MODEL_NAME}, else pretrained_models/{MODEL_NAME})",
    )
    add_engine_arguments(parser)
    add_root_arguments(parser)
    parser.add_argument("--wait", action="store_true", help="wait for another run on OUT to finish")
    parser.add_argument(
        "--no-quality",
        action="store_true",
        help="skip SI-SDR/SDR (Spleeter only; needs no source files then)",
    )


def run(args: argparse.Namespace) -> int:
    summary = separate_dataset(
        args.out,
        backend=args.backend,
        model_dir=args.model_dir,
        engine=engine_from_args(args),
        quality=not getattr(args, "no_quality", False),
        roots=roots_from_options(Path(args.out), args.root, args.roots_file),
        wait=args.wait,
    )
    print(summary.text)
    return 0

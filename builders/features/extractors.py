"""The feature extractors, one clip at a time: openSMILE (the speech sets) and Essentia's
``MusicExtractor`` (the music set), the named feature sets and the settings that determine
their values (recorded with each table and in the cache key). ``builders.features.extract``
runs them over the views of a build."""

from __future__ import annotations

import atexit
import hashlib
import json
import math
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from builders.common.clips import ClipRef
from builders.common.versions import package_version
from builders.errors import UserError
from builders.hf.spec import DatasetSpec

# MusicExtractor settings, chosen for cost (measured in bench/features.py): only mean and
# stdev statistics (the defaults add var/median/min/max/derivatives: 4,400 columns for
# little gain on a few hundred clips), MFCC/GFCC means only, Degara beat tracking (the
# extractor's default), analysis at the corpus rate 44.1 kHz (32 kHz is slower, since it
# resamples first). Per-clip cost is ~30 ms per second of audio on one core and grows
# linearly with duration; frame/hop sizes barely change it, so they keep their defaults.
ESSENTIA_SETTINGS: dict[str, object] = {
    "analysisSampleRate": 44100.0,
    "rhythmMethod": "degara",
    "lowlevelStats": ["mean", "stdev"],
    "rhythmStats": ["mean", "stdev"],
    "tonalStats": ["mean", "stdev"],
    "mfccStats": ["mean"],
    "gfccStats": ["mean"],
}
ESSENTIA_DROPPED = ("rhythm.beats_position",)

# openSMILE's cost is linear in samples; IS10 and eGeMAPS were designed for 16 kHz speech
# (the INTERSPEECH 2010 challenge data), so the speech sets analyse the mono downmix
# resampled to 16 kHz (soxr HQ): 2.2x faster than at 44.1 kHz.
OPENSMILE_RATE = 16000


@dataclass(frozen=True)
class FeatureSet:
    """One named feature set: which extractor, which content it applies to."""

    name: str
    package: str  # the Python package it needs
    content: str  # "speech" or "music": the views it applies to
    extractor: str  # opensmile FeatureSet name, or "MusicExtractor"

    def views(self, spec: DatasetSpec) -> tuple[str, ...]:
        """The views of ``spec`` this set applies to."""
        return tuple(v.name for v in spec.views if v.content == self.content)


FEATURE_SETS: dict[str, FeatureSet] = {
    "speech-is10": FeatureSet("speech-is10", "opensmile", "speech", "IS10"),
    "speech-egemaps": FeatureSet("speech-egemaps", "opensmile", "speech", "eGeMAPSv02"),
    "music-essentia": FeatureSet("music-essentia", "essentia", "music", "MusicExtractor"),
    # openSMILE's ComParE 2016 (6,373 functionals), the successor of the IS13 ComParE set
    # that seed 003 extracts from speech and music alike
    "speech-compare": FeatureSet("speech-compare", "opensmile", "speech", "ComParE_2016"),
    "music-compare": FeatureSet("music-compare", "opensmile", "music", "ComParE_2016"),
}


# ---------------------------------------------------------------- extractors (one clip)


def require_package(package: str):
    try:
        if package == "opensmile":
            import opensmile

            return opensmile
        import essentia
        import essentia.standard

        return essentia
    except ImportError as error:
        raise UserError(
            f"feature extraction needs the Python package '{package}' ({error}); "
            f"install it with `pip install {package}` (see pyproject.toml)"
        ) from None


def _scratch_root() -> str | None:
    """Where a worker keeps its decoded-audio scratch files: RAM (/dev/shm) if writable, else the temp dir."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


class Extractors:
    """One worker's warm extractors (the engine's per-worker ``state``; ``Extractors`` is its factory).

    Each extractor is built on first use and kept for every later clip of the worker (an
    openSMILE ``Smile`` per feature set, one Essentia ``MusicExtractor``); ``built`` counts
    the constructions and ``calls`` the clips. ``close()`` removes the worker's scratch
    folder (pre-resampled audio for the MusicExtractor). Nothing here changes a value.
    """

    def __init__(self) -> None:
        self._smiles: dict[str, object] = {}
        self._music = None
        self._scratch: str | None = None
        self.built = 0
        self.calls = 0

    def smile(self, extractor: str):
        if extractor not in self._smiles:
            opensmile = require_package("opensmile")
            self._smiles[extractor] = opensmile.Smile(
                feature_set=getattr(opensmile.FeatureSet, extractor),
                feature_level=opensmile.FeatureLevel.Functionals,
            )
            self.built += 1
        return self._smiles[extractor]

    def music(self):
        if self._music is None:
            essentia = require_package("essentia")
            essentia.log.infoActive = False
            essentia.log.warningActive = False
            self._music = essentia.standard.MusicExtractor(**ESSENTIA_SETTINGS)
            self.built += 1
        return self._music

    def scratch(self) -> Path:
        if self._scratch is None or not Path(self._scratch).is_dir():
            self._scratch = tempfile.mkdtemp(
                prefix=f".misme-features-{os.getpid()}-", dir=_scratch_root()
            )
        return Path(self._scratch)

    def close(self) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None


_LOCAL: list[
    Extractors
] = []  # this process's extractors for calls without an engine state (bench, REPL)


def _local_extractors() -> Extractors:
    if not _LOCAL:
        _LOCAL.append(Extractors())
        atexit.register(_LOCAL[0].close)
    return _LOCAL[0]


def _finite(value: float) -> float:
    value = float(value)
    return value if math.isfinite(value) else math.nan


def flatten_pool(pool) -> dict[str, float]:
    """The numeric non-frame descriptors of a MusicExtractor pool as ``{column: value}``."""
    row: dict[str, float] = {}
    for name in pool.descriptorNames():
        if name.startswith("metadata.") or name in ESSENTIA_DROPPED:
            continue
        value = pool[name]
        if isinstance(value, str):
            continue
        array = np.asarray(value)
        if array.dtype.kind not in "fiub" or array.ndim > 1:
            continue
        if array.ndim == 0:
            row[name] = _finite(array)
        else:
            row.update({f"{name}.{i}": _finite(v) for i, v in enumerate(array)})
    return row


def as_clip(clip: ClipRef | Path) -> ClipRef:
    """A clip file's path as a :class:`ClipRef` (a ClipRef as it is)."""
    return clip if isinstance(clip, ClipRef) else ClipRef.of_file(clip)


def opensmile_input(clip: ClipRef | Path) -> np.ndarray:
    """What the speech sets analyse: the clip's mono downmix (channel mean) at ``OPENSMILE_RATE``, float32."""
    import soundfile
    import soxr

    with as_clip(clip).open() as handle:
        signal, rate = soundfile.read(handle, dtype="float32", always_2d=True)
    mono = signal.mean(axis=1)
    if rate != OPENSMILE_RATE:
        mono = soxr.resample(mono, rate, OPENSMILE_RATE, quality="HQ").astype(np.float32)
    return mono


def extract_opensmile(
    clip: ClipRef | Path, extractor: str, extractors: Extractors | None = None
) -> dict[str, float]:
    """openSMILE functionals of the clip's mono downmix, resampled to ``OPENSMILE_RATE``."""
    smile = (extractors or _local_extractors()).smile(extractor)
    frame = smile.process_signal(opensmile_input(clip), OPENSMILE_RATE)
    return {str(k): _finite(v) for k, v in frame.iloc[0].items()}


def essentia_input(path: Path, extractors: Extractors) -> tuple[Path, bool]:
    """The file the MusicExtractor reads for ``path``, and whether it is a scratch copy to delete.

    The MusicExtractor decodes its file five times (audio properties and EBU R128, replay
    gain, two analysis passes) and resamples it to the analysis rate on every pass. A mono
    clip at another rate (the 16 kHz instrumental-MER and MuSe clips) is therefore resampled
    once, by the extractor's own chain (``MonoLoader``: the same libsamplerate converter, so
    the same samples), into a float32 WAV at ``analysisSampleRate`` in the worker's scratch
    folder, which the extractor then reads without resampling: every feature value is
    identical (tests/builders/features), the clip costs about half. Stereo clips at another
    rate are passed as they are (the extractor resamples each channel for EBU R128 and the
    downmix for the rest, which one copy cannot reproduce exactly); so are clips already at
    the analysis rate.
    """
    import soundfile

    rate = float(ESSENTIA_SETTINGS["analysisSampleRate"])
    info = soundfile.info(str(path))
    if info.channels != 1 or float(info.samplerate) == rate:
        return path, False
    import essentia.standard

    audio = essentia.standard.MonoLoader(filename=str(path), sampleRate=rate)()
    target = extractors.scratch() / f"{path.stem}.wav"
    soundfile.write(str(target), audio, int(rate), subtype="FLOAT")
    return target, True


def extract_essentia(
    clip: ClipRef | Path, extractors: Extractors | None = None
) -> dict[str, float]:
    """Essentia MusicExtractor global statistics of one clip (settings: ESSENTIA_SETTINGS).

    The extractor reads files only: a clip published in a shard is copied to the worker's
    scratch folder for it."""
    extractors = extractors or _local_extractors()
    music = extractors.music()
    with as_clip(clip).as_file(extractors.scratch()) as path:
        source, scratch = essentia_input(path, extractors)
        try:
            pool, _frames = music(str(source))
        finally:
            if scratch:
                source.unlink(missing_ok=True)
    return flatten_pool(pool)


def extract_clip(
    set_name: str, clip: ClipRef | Path, extractors: Extractors | None = None
) -> dict[str, float]:
    """The features of one clip for one feature set, as ``{column: value}``.

    ``extractors``: the worker's warm extractors (default: this process's own).
    """
    spec = FEATURE_SETS[set_name]
    extractors = extractors or _local_extractors()
    extractors.calls += 1
    try:
        if spec.package == "essentia":
            return extract_essentia(clip, extractors)
        return extract_opensmile(clip, spec.extractor, extractors)
    except UserError:
        raise
    except Exception as error:  # noqa: BLE001 - a corrupt clip is the user's to fix
        raise UserError(f"cannot extract {set_name} features from {clip}: {error}") from None


# ---------------------------------------------------------------- cache


def settings(set_name: str) -> dict:
    """The settings that determine a set's features (recorded in the output and the cache key)."""
    spec = FEATURE_SETS[set_name]
    info: dict[str, object] = {
        "set": set_name,
        "extractor": spec.extractor,
        "package": spec.package,
        "version": package_version(spec.package),
    }
    if spec.package == "essentia":
        info["settings"] = ESSENTIA_SETTINGS
        info["dropped"] = ["metadata.*", "strings", "matrices (cov/icov)", *ESSENTIA_DROPPED]
    else:
        info["settings"] = {
            "feature_level": "Functionals",
            "input": "mono downmix (channel mean)",
            "sample_rate": OPENSMILE_RATE,
            "resampler": "soxr HQ",
        }
    return info


def settings_fingerprint(set_name: str) -> str:
    text = json.dumps(settings(set_name), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]

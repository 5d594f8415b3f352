"""Feature extraction cost per set: clips/s per core, ours against the extractor alone (the floor).

Run: ``.venv/bin/python bench/features.py [WORKERS]``. Prints measurements; asserts nothing.

For each set and each clip format the demo feeds it (synthetic clips, written here):

- ``floor``: the extractor alone on audio already decoded and at its analysis rate, with a
  warm extractor: openSMILE ``process_signal`` on the 16 kHz mono buffer; Essentia's
  ``MusicExtractor`` (which only reads files) on a float32 WAV at 44.1 kHz in RAM
  (``/dev/shm``), so it neither decodes FLAC nor resamples;
- ``before``: one clip as the code before issue 16 did it (the MusicExtractor on the FLAC
  file, resampling inside; openSMILE: read, downmix, soxr, ``process_signal``);
- ``ours``: the per-clip work of a ``misme-build features`` run on a worker (file hash,
  extraction with the worker's warm extractors, cache entry); a whole run's own cost
  beyond its clips (engine, table, lock) is printed once.

All three are medians of CPU seconds per clip of this process (not wall time: other work on
a shared machine barely moves them), the variants interleaved clip by clip in this one run
(clips/s per core = 1 / CPU seconds per clip); the ratio is ours / floor in clips/s (1.00 = no cost beyond the extractor). The projection
uses the demo's sizes (`make demo`: MiSME 528 speech-set clips, 516 music-set clips, timed here on ~14 s clips
at 44.1 kHz stereo although the demo's are 6-9 s, so that part is an upper bound; instrumental-MER and MuSe 126 clips of ~15 s at 16 kHz mono) and
WORKERS (default 2) cores. The machine's load matters: compare figures of one run only.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from builders.common.hashing import file_sha256  # noqa: E402
from builders.features import extract as features
from builders.features import extractors  # noqa: E402
from builders.misme.recipe import MismeRecipe  # noqa: E402
from builders.misme.spec import dataset_spec  # noqa: E402

N_CLIPS = 2  # per format; plus one warm-up clip
ROUNDS = 2  # each clip measured this many times per variant, interleaved
# (label, view, seconds, rate, channels) of the formats the demo extracts
SPEECH_FORMAT = ("4.5 s 44.1 kHz stereo", "speech", 4.5, 44100, 2)
MUSIC_FORMATS = (
    ("14 s 44.1 kHz stereo", "music", 14.0, 44100, 2),
    ("15 s 16 kHz mono", "music", 15.0, 16000, 1),
)


def tone(seconds: float, f0: float, seed: int, rate: int, channels: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(seed)
    x = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 6))
    beats = (np.mod(t, 0.5) < 0.04) * rng.standard_normal(t.size)
    x = (
        0.15 * x * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t))
        + 0.2 * beats
        + 0.01 * rng.standard_normal(t.size)
    )
    return np.stack([x] * channels, axis=1).astype(np.float32)


def write_clips(out: Path, fmt: tuple, tag: str) -> list[Path]:
    _label, view, seconds, rate, channels = fmt
    paths = []
    for i in range(N_CLIPS + 1):
        path = out / "audio" / view / f"{tag}-{i}.flac"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, tone(seconds, 110.0 * (i + 1), i, rate, channels), rate, subtype="PCM_16")
        paths.append(path)
    return paths


def cpu_seconds(fn, item) -> float:
    start = time.process_time()
    fn(item)
    return time.process_time() - start


def measure(variants: dict, clips: list[Path]) -> dict[str, float]:
    """Median CPU seconds per clip of each variant, interleaved clip by clip and round by round.

    The first clip warms every variant up and is not counted.
    """
    for run in variants.values():
        run(clips[0])
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _round in range(ROUNDS):
        for clip in clips[1:]:
            for name, run in variants.items():
                times[name].append(run(clip))
    return {name: statistics.median(values) for name, values in times.items()}


def ours_variant(out: Path, set_name: str):
    """The per-clip work of a run on a worker; the cache entry is removed so every clip is extracted."""
    warm = extractors.Extractors()

    def unit(path: Path) -> None:
        target = features.cache_path(out, set_name, file_sha256(path))
        features._extract_job(warm, (set_name, str(path), str(target)))
        target.unlink()

    return lambda clip: cpu_seconds(unit, clip)


def opensmile_variants(out: Path, set_name: str) -> dict:
    extractor = extractors.FEATURE_SETS[set_name].extractor
    floor_state, before_state = extractors.Extractors(), extractors.Extractors()
    buffers: dict[Path, np.ndarray] = {}

    def floor(clip: Path) -> float:  # decoded and resampled outside the timing
        buffer = buffers.setdefault(clip, extractors.opensmile_input(clip))
        smile = floor_state.smile(extractor)
        return cpu_seconds(lambda x: smile.process_signal(x, extractors.OPENSMILE_RATE), buffer)

    def before(clip: Path) -> float:
        return cpu_seconds(lambda p: extractors.extract_opensmile(p, extractor, before_state), clip)

    return {"floor": floor, "before": before, "ours": ours_variant(out, set_name)}


def essentia_variants(out: Path, scratch: Path) -> dict:
    import essentia.standard

    rate = int(extractors.ESSENTIA_SETTINGS["analysisSampleRate"])
    floor_music, before_music = extractors.Extractors().music(), extractors.Extractors().music()
    wavs: dict[Path, Path] = {}

    def decoded(
        clip: Path,
    ) -> Path:  # decoded, at the analysis rate, in RAM: made outside the timing
        if clip not in wavs:
            audio = (
                essentia.standard.MonoLoader(filename=str(clip), sampleRate=rate)()
                if sf.info(clip).channels == 1
                else sf.read(clip, dtype="float32")[0]
            )
            wavs[clip] = scratch / f"{clip.stem}.wav"
            sf.write(wavs[clip], audio, rate, subtype="FLOAT")
        return wavs[clip]

    def floor(clip: Path) -> float:
        return cpu_seconds(lambda w: floor_music(str(w)), decoded(clip))

    def before(clip: Path) -> float:  # the code before issue 16: the extractor on the clip file
        return cpu_seconds(lambda p: extractors.flatten_pool(before_music(str(p))[0]), clip)

    return {"floor": floor, "before": before, "ours": ours_variant(out, "music-essentia")}


def run_overhead(out: Path, set_name: str, view: str, clips: list[Path]) -> float:
    """Wall seconds of a whole one-worker run with the cache full: its cost beyond its clips' work."""
    staged = out.parent / f"stage-{set_name}"
    (staged / "manifests").mkdir(parents=True)
    (staged / "audio" / view).mkdir(parents=True)
    for clip in clips:
        shutil.copy(clip, staged / "audio" / view / clip.name)
    spec = dataset_spec(MismeRecipe())
    features.extract_features(staged, spec, set_name, [view], progress=False)
    start = time.perf_counter()
    features.extract_features(staged, spec, set_name, [view], progress=False)
    elapsed = time.perf_counter() - start
    shutil.rmtree(staged, ignore_errors=True)
    return elapsed


def line(set_name: str, label: str, floor: float, before: float, ours: float) -> None:
    print(
        f"{set_name:15s} {label:22s} floor {1 / floor:6.2f}  before {1 / before:6.2f}  ours {1 / ours:6.2f} "
        f"clips/s per core   ours/floor {floor / ours:4.2f}   ours/before x{before / ours:4.2f}"
    )


def main() -> None:
    workers = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    os.environ.setdefault("MISME_NO_PROGRESS", "1")
    scratch_root = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    ours: dict[tuple[str, str], float] = {}
    with (
        tempfile.TemporaryDirectory() as tmp,
        tempfile.TemporaryDirectory(dir=scratch_root) as scratch,
    ):
        out = Path(tmp) / "OUT"
        speech = write_clips(out, SPEECH_FORMAT, "speech")
        for set_name in ("speech-is10", "speech-egemaps"):
            got = measure(opensmile_variants(out, set_name), speech)
            line(set_name, SPEECH_FORMAT[0], got["floor"], got["before"], got["ours"])
            ours[(set_name, SPEECH_FORMAT[0])] = got["ours"]
        for index, fmt in enumerate(MUSIC_FORMATS):
            clips = write_clips(out, fmt, f"music{index}")
            got = measure(essentia_variants(out, Path(scratch)), clips)
            line("music-essentia", fmt[0], got["floor"], got["before"], got["ours"])
            ours[("music-essentia", fmt[0])] = got["ours"]
        overhead = run_overhead(out, "speech-is10", "speech", speech)
        print(
            f"a whole run's own cost beyond its clips (cache full, {len(speech)} clips): {overhead:.2f} s wall"
        )

        spec = dataset_spec(MismeRecipe())
        start = time.perf_counter()
        features.extract_features(out, spec, "speech-egemaps", ["speech"], progress=False)
        first = time.perf_counter() - start
        start = time.perf_counter()
        features.extract_features(out, spec, "speech-egemaps", ["speech"], progress=False)
        cached = time.perf_counter() - start
        print(
            f"cache: first run {first:.2f} s, re-run {cached:.3f} s (speed-up x{first / max(cached, 1e-9):.0f})"
        )

    is10 = 528 * ours[("speech-is10", SPEECH_FORMAT[0])]
    misme_music = 516 * ours[("music-essentia", MUSIC_FORMATS[0][0])]
    mono16 = 126 * ours[("music-essentia", MUSIC_FORMATS[1][0])]
    print(
        f"projected demo on {workers} cores (CPU s / cores): speech-is10 {is10 / workers:.0f} s, music-essentia "
        f"MiSME {misme_music / workers:.0f} s + instrumental-MER/MuSe {mono16 / workers:.0f} s"
    )


if __name__ == "__main__":
    main()

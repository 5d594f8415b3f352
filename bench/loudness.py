"""The MiSME plan's loudness step per file, v1's meter against v2's, on the demo sources.

v1 (``ffmpeg-loudnorm``): one ffmpeg loudnorm process per file. v2 (``bs1770``): decode the
file and measure it in this process (the plan then reuses that decode for the rest of the
probe). One process, files in the plan's order, each meter on every file, best of
``--repeat`` passes. Target: v2 at least 5x faster. Prints figures; asserts nothing.
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from _args import at_least

from builders.common.audio import read_audio
from builders.common.loudness import BS1770_METER, LOUDNORM_METER, measure_loudness
from builders.demo.run import DEMO_SIZE
from builders.demo.sources import write_demo_sources
from builders.misme.plan import read_sources
from builders.misme.spec import SPEECH_CORPORA


def demo_files(folder: Path) -> list[tuple[Path, bool]]:
    """(path, measured as dual mono) of every file the demo's MiSME plan measures."""
    write_demo_sources(folder, seed=0, **DEMO_SIZE)
    listing, roots, _ = read_sources(folder / "RAVDESS", folder / "DEAM", folder / "Soundtracks")
    return [
        (roots[corpus] / path, corpus in SPEECH_CORPORA)
        for corpus, path in zip(listing["corpus"], listing["path"])
    ]


def timed_pass(files: list[tuple[Path, bool]], meter: str) -> tuple[list[float], list[float]]:
    """(seconds per file, loudness per file) of one pass of ``meter`` over ``files``."""
    seconds, readings = [], []
    for path, speech in files:
        start = time.perf_counter()
        decoded = read_audio(path) if meter == BS1770_METER else None
        dual_mono = speech and (decoded is None or decoded[0].shape[1] == 1)
        readings.append(measure_loudness(path, meter, dual_mono=dual_mono, decoded=decoded))
        seconds.append(time.perf_counter() - start)
    return seconds, readings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=at_least(1), default=3, help="passes per meter")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = demo_files(Path(tmp) / "sources")
        best = {}
        for meter in (LOUDNORM_METER, BS1770_METER):
            passes = [timed_pass(files, meter) for _ in range(args.repeat)]
            best[meter] = min(passes, key=lambda p: sum(p[0]))
    print(f"{len(files)} demo source files, best of {args.repeat} passes, one process")
    for meter, (seconds, _) in best.items():
        print(
            f"  {meter:<16} total {sum(seconds):6.2f} s   per file: median "
            f"{1000 * statistics.median(seconds):6.1f} ms, max {1000 * max(seconds):6.1f} ms"
        )
    ratio = sum(best[LOUDNORM_METER][0]) / sum(best[BS1770_METER][0])
    print(f"  v2 is {ratio:.1f}x faster (target at least 5x: {'met' if ratio >= 5 else 'MISSED'})")
    gaps = [abs(a - b) for a, b in zip(best[LOUDNORM_METER][1], best[BS1770_METER][1])]
    print(
        f"  |v1 - v2| loudness: median {statistics.median(gaps):.3f} LU, max {max(gaps):.3f} LU, "
        f"{sum(g > 0.2 for g in gaps)} of {len(gaps)} files over 0.2 LU"
    )


if __name__ == "__main__":
    main()

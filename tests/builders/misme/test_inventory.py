"""Probing source files: checksums, format, loudness, activity; cache; corrupt files."""

import numpy as np
import pandas as pd
import soundfile as sf

from builders.misme.inventory import activity_region, build_inventory


def _speech_like(path, seconds=3.0, rate=48000, active=(1.0, 2.0)):
    t = np.arange(int(seconds * rate)) / rate
    signal = 0.001 * np.sin(2 * np.pi * 50 * t)
    mask = (t >= active[0]) & (t < active[1])
    signal[mask] = 0.3 * np.sin(2 * np.pi * 220 * t[mask])
    sf.write(path, signal.astype(np.float32), rate, subtype="PCM_16")


def _listing(root, names):
    return pd.DataFrame(
        {
            "source_id": [f"ravdess-{n}" for n in names],
            "corpus": "ravdess",
            "path": [f"{n}.wav" for n in names],
        }
    )


def test_activity_region_finds_the_loud_part():
    rate = 48000
    t = np.arange(3 * rate) / rate
    signal = np.where((t > 1.0) & (t < 2.0), 0.5, 0.0005) * np.sin(2 * np.pi * 200 * t)
    start, end = activity_region(signal, rate, -35.0)
    assert abs(start - 1.0) <= 0.021 and abs(end - 2.0) <= 0.021


def test_inventory_measures_and_skips_corrupt_files(tmp_path):
    for name in ("a", "b"):
        _speech_like(tmp_path / f"{name}.wav")
    (tmp_path / "c.wav").write_bytes(b"not audio at all")
    kwargs = dict(
        target_lufs=-23.0, speech_dual_mono=True, activity_floor_db=-35.0, sample_rate=44100
    )
    inventory, skipped = build_inventory(
        _listing(tmp_path, ["a", "b", "c"]),
        {"ravdess": tmp_path},
        cache_path=tmp_path / "cache.json",
        progress=False,
        **kwargs,
    )
    assert list(inventory["source_id"]) == ["ravdess-a", "ravdess-b"]
    assert [s for s, _ in skipped] == ["ravdess-c"] and "decode" in skipped[0][1]
    row = inventory.iloc[0]
    assert row["sample_rate"] == 48000 and row["channels"] == 1 and row["frames"] == 144000
    assert row["frames_44k"] == 132300
    assert abs(row["active_start_s"] - 1.0) < 0.03 and abs(row["active_end_s"] - 2.0) < 0.03
    assert row["gain_db"] == round(-23.0 - row["loudness_lufs"], 4)
    assert len(row["sha256"]) == 64

    parallel, _ = build_inventory(
        _listing(tmp_path, ["b", "a", "c"]),
        {"ravdess": tmp_path},
        workers=2,
        cache_path=None,
        progress=False,
        **kwargs,
    )
    pd.testing.assert_frame_equal(parallel, inventory)


def test_cache_is_invalidated_when_a_file_changes(tmp_path):
    _speech_like(tmp_path / "a.wav")
    kwargs = dict(
        target_lufs=-23.0,
        speech_dual_mono=True,
        activity_floor_db=-35.0,
        sample_rate=44100,
        cache_path=tmp_path / "cache.json",
        progress=False,
    )
    first, _ = build_inventory(_listing(tmp_path, ["a"]), {"ravdess": tmp_path}, **kwargs)
    assert (tmp_path / "cache.json").is_file()
    _speech_like(tmp_path / "a.wav", seconds=4.0)
    second, _ = build_inventory(_listing(tmp_path, ["a"]), {"ravdess": tmp_path}, **kwargs)
    assert second.at[0, "frames"] == 4 * 48000 != first.at[0, "frames"]
    assert second.at[0, "sha256"] != first.at[0, "sha256"]


def test_a_cut_off_wav_is_left_out_with_the_reason(demo_sources, tmp_path):
    from builders.misme.inventory import ProbeJob, probe_files

    wav = next((demo_sources / "RAVDESS").rglob("*.wav"))
    cut = tmp_path / wav.name
    cut.write_bytes(wav.read_bytes()[: len(wav.read_bytes()) * 2 // 3])
    job = ProbeJob(str(cut), True, True, -35.0, -23.0)
    [reason] = probe_files([job], progress=False)
    assert isinstance(reason, str) and reason.startswith("truncated: decoded ")
    assert reason.endswith(" expected s")


def test_corrupt_or_cut_mp3s_get_their_true_reason_and_mpg123_stays_quiet(
    demo_sources, tmp_path, capfd
):
    """Issue 28: they were 'file does not exist' or 'audio is silent', with libmpg123's lines
    on stderr (or a cut MP3 was used as a shorter clip without a word)."""
    from builders.misme.inventory import ProbeJob, probe_files

    mp3 = next((demo_sources / "DEAM").rglob("*.mp3")).read_bytes()
    cut, garbage = tmp_path / "cut.mp3", tmp_path / "garbage.mp3"
    cut.write_bytes(mp3[: len(mp3) // 2])
    garbage.write_bytes(np.random.default_rng(0).integers(0, 256, 30000, np.uint8).tobytes())
    jobs = [ProbeJob(str(path), False, False, -35.0, -23.0) for path in (cut, garbage)]
    reasons = probe_files(jobs, progress=False)
    assert reasons[0].startswith("truncated: decoded ") and reasons[0].endswith(" expected s")
    assert reasons[1].startswith("cannot decode: not a readable MP3 file")
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""

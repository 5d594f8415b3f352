"""Render phase: views, checksums, cross-checks against pyloudnorm and pydub, resume, errors."""

from __future__ import annotations

import errno
import json
import re
import shutil

import datasets
import numpy as np
import pyarrow.parquet as pq
import pyloudnorm
import pytest
import soundfile as sf
import soxr
import yaml
from pydub import AudioSegment

from builders.cli import main as cli_main
from builders.common import atomic
from builders.common import audio as audio_io
from builders.common.audio import OutputSpec
from builders.common.build_state import resolve_roots
from builders.errors import UserError
from builders.misme import batches as misme_batches
from builders.misme import render
from builders.misme.recipe import build_recipe
from builders.misme.render import render_dataset
from builders.misme.spec import dataset_spec
from tests.builders.misme.render_support import W, make_build
from tests.clips import clip_ids, clip_pcm, clip_ref, flip_byte, unpublish


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("MISME_NO_PROGRESS", "1")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("render")
    out, roots = make_build(base)
    summary = render_dataset(out, progress=False)
    return out, roots, summary


def fresh_plan(built, tmp_path, name="out2"):
    """A copy of the planned (unrendered) manifests in a new OUT."""
    out = tmp_path / name
    (out / "manifests").mkdir(parents=True)
    for f in ("audit.json", "recipe.toml"):
        shutil.copy(built[0] / "manifests" / f, out / "manifests" / f)
    for f, drop in (
        ("sources.parquet", render.SOURCE_RESULTS),
        ("mixes.parquet", render.MIX_RESULTS),
    ):
        table = pq.read_table(built[0] / "manifests" / f)
        pq.write_table(table.drop_columns(list(drop)), out / "manifests" / f)
    return out


def rows(out, name):
    return pq.read_table(out / "manifests" / f"{name}.parquet").to_pylist()


def pcm(out, view, clip_id, ext="flac"):
    return clip_pcm(out / "audio" / view / f"{clip_id}.{ext}")[0]


def test_load_dataset_mixed_matches_plan(built):
    out, _, summary = built
    mixes = rows(out, "mixes")
    ds = datasets.load_dataset(str(out), "mixed", cache_dir=str(out) + "-hf-cache")
    assert sorted(ds) == [f"fold{k}" for k in range(1, 7)]
    for k in range(1, 7):
        split = ds[f"fold{k}"].with_format("arrow")[:]
        planned = sorted(m["mix_id"] for m in mixes if m["fold"] == k)
        assert split.column("id").to_pylist() == planned
        for i, audio in enumerate(split.column("audio").to_pylist()):
            data, rate = sf.read(
                __import__("io").BytesIO(audio["bytes"]), dtype="int16", always_2d=True
            )
            assert rate == 44100 and data.shape[1] == 2
            assert np.abs(data.astype(np.int32)).max() <= 32767
            assert audio_io.pcm_sha256(data) == split.column("audio_sha256")[i].as_py()
            window = audio_io.decode_pcm(split.column("audio_window")[i].as_py()["bytes"])[0]
            assert window.shape == (W, 2)
    assert summary.counts["mixed"] == len(mixes) == 12
    assert summary.rendered == 6 + 12 + 12 and summary.resumed == 0


def test_rendered_speech_and_music_measure_minus_23_lufs(built):
    out, _, _ = built
    checked = 0
    for row in rows(out, "sources"):
        view = "speech" if row["corpus"] == "ravdess" else "music"
        data = pcm(out, view, row["source_id"])
        assert data.shape == (row["frames_44k"], 2)
        if row["render_gain_db"] < 0:  # the click track: scaled to full scale, never clipped
            assert np.abs(data).max() == 32767
            continue
        lufs = pyloudnorm.Meter(44100).integrated_loudness(data / 32767.0)
        assert lufs == pytest.approx(-23.0, abs=0.5), row["source_id"]
        checked += 1
    assert checked == 17


def test_speech_view_is_soxr_resampled_gain_applied_dual_mono(built):
    out, roots, _ = built
    row = next(r for r in rows(out, "sources") if r["corpus"] == "ravdess")
    x, rate = sf.read(roots["ravdess"] / row["path"], dtype="float32", always_2d=True)
    assert rate == 48000
    y = soxr.resample(x, 48000, 44100, quality="HQ")[: row["frames_44k"]] * np.float32(
        10 ** (row["gain_db"] / 20)
    )
    expected = np.rint(np.repeat(y, 2, axis=1) * np.float32(32767)).astype(np.int16)
    np.testing.assert_array_equal(pcm(out, "speech", row["source_id"]), expected)


def test_mix_equals_pydub_overlay_within_one_lsb(built):
    out, _, _ = built
    compared = 0
    for mix in rows(out, "mixes"):
        if mix["mix_gain_db"] < 0:
            continue
        speech = pcm(out, "speech", mix["speech_id"])
        crop = speech[
            mix["speech_crop_start_frame"] : mix["speech_crop_start_frame"] + mix["speech_frames"]
        ]
        voice = AudioSegment(data=crop.tobytes(), sample_width=2, frame_rate=44100, channels=2)
        music = pcm(out, "music", mix["music_id"])
        mixed = AudioSegment(data=music.tobytes(), sample_width=2, frame_rate=44100, channels=2)
        for k in range(mix["n_placements"]):
            start = k * W + mix["speech_offset_frame"]
            assert start % 441 == 0
            mixed = mixed.overlay(voice, position=start // 441 * 10)
        theirs = np.frombuffer(mixed.raw_data, dtype="<i2").reshape(-1, 2)
        ours = pcm(out, "mixed", mix["mix_id"])
        assert ours.shape == theirs.shape
        assert np.abs(ours.astype(np.int32) - theirs).max() <= 1
        assert np.any(ours != music)  # the speech really is in there
        compared += 1
    assert compared == 11


def test_mix_stems_sum_to_the_written_mix_and_window_is_its_crop(built):
    out, roots, _ = built
    sources = {r["source_id"]: r for r in rows(out, "sources")}
    attenuated = 0
    for mix in rows(out, "mixes"):
        music, speech = render.mix_stems(
            mix, sources[mix["speech_id"]], sources[mix["music_id"]], roots, 44100
        )
        assert music.dtype == speech.dtype == np.float32 and music.shape == (mix["music_frames"], 2)
        written = pcm(out, "mixed", mix["mix_id"])
        np.testing.assert_array_equal(audio_io.quantise(music + speech), written)
        start = mix["window_start_frame"]
        np.testing.assert_array_equal(
            pcm(out, "mixed-window", mix["mix_id"]), written[start : start + W]
        )
        if mix["mix_gain_db"] < 0:
            attenuated += 1
            assert np.abs(written).max() == 32767
            assert np.abs(music + speech).max() <= 1.0 + 1e-6
        assert 0.0 < mix["overlap"] < 1.0
    assert attenuated == 1


def test_overlap_counts_only_active_speech():
    mix = {
        "music_frames": 4 * W,
        "window_frames": W,
        "speech_offset_frame": 1000,
        "n_placements": 4,
    }
    segment = np.zeros((44100, 2), dtype=np.float32)
    segment[8820:30870] = 0.2  # 0.5 s of "speech" inside 1 s of silence
    assert render.measured_overlap(mix, segment, 44100) == pytest.approx(
        4 * 22050 / (4 * W), rel=0.05
    )


def test_solutions_and_build_report(built):
    out, _, _ = built
    ser = pq.read_table(out / "solutions" / "misme-ser.parquet").to_pylist()
    mixes = rows(out, "mixes")
    assert [(r["id"], r["fold"], r["emotion"]) for r in ser] == [
        (m["mix_id"], m["fold"], m["emotion"]) for m in mixes
    ]
    mer = pq.read_table(out / "solutions" / "misme-mer-music.parquet")
    assert mer.column_names == ["id", "fold", "valence", "arousal"] and mer.num_rows == 12
    assert pq.read_table(out / "solutions" / "misme-ser-speech.parquet").column(
        "emotion"
    ).to_pylist() == [1, 2, 3, 4, 5, 6]
    report = json.loads((out / "build-report.json").read_text())
    assert report["attenuated_mixes"] == 1 and report["n_mixes"] == 12
    assert set(report["overlap"]["per_fold"]) == {"1", "2", "3", "4", "5", "6"}
    assert report["loudness"]["speech"]["mean"] == pytest.approx(-23.0, abs=0.5)


def test_card_declares_configs_and_digest(built):
    out, _, summary = built
    text = (out / "README.md").read_text()
    header = yaml.safe_load(text.split("---")[1])
    configs = {c["config_name"]: c for c in header["configs"]}
    assert {"speech", "music", "mixed", "mixed-cv1"} <= set(configs)
    for config in ("speech", "music", "mixed"):
        splits = [d["split"] for d in configs[config]["data_files"]]
        assert splits == [f"fold{k}" for k in range(1, 7)]
        assert all(re.fullmatch(r"^\w+(\.\w+)*$", s) for s in splits)
    assert (out / "digest.txt").read_text() == summary.digests.text
    assert summary.digest in text and "seed = 7" in text
    cv = datasets.load_dataset(str(out), "music-cv2", cache_dir=str(out) + "-hf-cache")
    assert cv["test"].num_rows == 2 and cv["train"].num_rows == 10


def test_two_workers_other_paths_and_wav_give_the_same_digest(built, tmp_path):
    src2 = tmp_path / "copied-sources"
    shutil.copytree(built[0].parent / "src", src2)
    out2 = fresh_plan(built, tmp_path)
    roots2 = {c: src2 / c for c in ("ravdess", "deam", "soundtracks")}
    summary = render_dataset(out2, workers=2, roots=roots2, progress=False)
    assert summary.digest == built[2].digest
    assert pq.read_table(out2 / "manifests" / "mixes.parquet").equals(
        pq.read_table(built[0] / "manifests" / "mixes.parquet")
    )
    out3 = fresh_plan(built, tmp_path, "out-wav")
    recipe = out3 / "manifests" / "recipe.toml"
    recipe.write_text(recipe.read_text() + '[audio]\nformat = "wav"\n')
    assert render_dataset(out3, roots=roots2, progress=False).digest == built[2].digest
    assert len(clip_ids(out3, "mixed-window", ".wav")) == 12
    assert not list((out3 / "audio").rglob("*.wav"))  # stored once: in the shards


def test_kill_and_resume_gives_the_same_digest(built, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(built[0], out)
    unpublish(out)  # killed before the export
    victims = rows(out, "mixes")[:3]
    for mix in victims[:2]:  # killed before its record was written
        (out / "audio" / "mixed" / f"{mix['mix_id']}.json").unlink()
    (
        out / "audio" / "mixed-window" / f"{victims[2]['mix_id']}.flac"
    ).unlink()  # killed between clips
    stale = out / "audio" / "mixed" / f".{victims[0]['mix_id']}.flac.tmp-99999"
    stale.write_bytes(b"half a file")
    summary = render_dataset(out, progress=False)
    assert summary.digest == built[2].digest
    assert summary.rendered == 3 and summary.resumed == 6 + 12 + 9
    assert not stale.exists()


def test_a_finished_build_holds_each_clip_once_and_resumes_from_its_shards(built, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(built[0], out)
    assert not list((out / "audio").rglob("*.flac"))  # the shards hold the clips
    shard_bytes = sum(p.stat().st_size for p in (out / "data").rglob("*.parquet"))
    clip_bytes = sum(
        clip_ref(out / "audio" / view / f"{i}.flac").size()
        for view in ("speech", "music", "mixed", "mixed-window")
        for i in clip_ids(out, view)
    )
    assert clip_bytes < shard_bytes < clip_bytes * 1.05
    victim = rows(out, "mixes")[4]["mix_id"]
    flip_byte(out / "audio" / "mixed" / f"{victim}.flac")
    summary = render_dataset(out, progress=False)
    assert summary.digest == built[2].digest
    assert summary.rendered == 1 and summary.resumed == 6 + 12 + 11
    assert not list((out / "audio").rglob("*.flac"))


def part_inodes(out):
    return {
        p.relative_to(out / "data"): p.stat().st_ino for p in (out / "data").glob("*/*.parquet")
    }


def test_each_batch_writes_its_clips_straight_into_its_parts(built, tmp_path, monkeypatch):
    monkeypatch.setattr(
        misme_batches, "MAX_BATCH_MIXES", 1
    )  # one mix per batch: two parts per fold and config
    out = fresh_plan(built, tmp_path)
    summary = render_dataset(out, roots=built[1], progress=False)
    assert summary.digest == built[2].digest  # the same clips, whatever the parts
    sources, mixes = rows(out, "sources"), rows(out, "mixes")
    layout = render.part_layout(sources, mixes)
    assert layout["mixed"] == [
        f"fold{k}-0000{n}-of-00002.parquet" for k in range(1, 7) for n in (0, 1)
    ]
    assert layout["speech"] == [f"fold{k}-00000-of-00001.parquet" for k in range(1, 7)]
    for config, names in layout.items():
        assert sorted(p.name for p in (out / "data" / config).glob("*.parquet")) == names
    assert not (out / "data" / ".staged").exists() and not list((out / "audio").rglob("*.flac"))
    for config, key in (
        ("speech", lambda r: r["id"]),
        ("music", lambda r: r["id"]),
        ("mixed", lambda r: (r["music_id"], r["id"])),
    ):
        for fold in range(1, 7):
            shards = sorted((out / "data" / config).glob(f"fold{fold}-*.parquet"))
            table = [
                r
                for s in shards
                for r in pq.read_table(
                    s, columns=["id", "fold", *(["music_id"] if config == "mixed" else [])]
                ).to_pylist()
            ]
            assert table and {r["fold"] for r in table} == {fold}
            assert table == sorted(
                table, key=key
            )  # a fold's parts in name order: the documented row order
    before = part_inodes(out)
    again = render_dataset(out, roots=built[1], progress=False)
    assert again.rendered == 0 and again.digest == summary.digest
    assert part_inodes(out) == before  # every part kept as it is: linked, not one byte copied
    victim = next(m for m in mixes if m["fold"] == 3)["mix_id"]
    flip_byte(out / "audio" / "mixed" / f"{victim}.flac")
    mended = render_dataset(out, roots=built[1], progress=False)
    assert mended.rendered == 1 and mended.digest == summary.digest
    changed = {path for path, inode in part_inodes(out).items() if before[path] != inode}
    assert (
        len(changed) == 1 and next(iter(changed)).parts[0] == "mixed"
    )  # only the victim's part rewritten


def test_an_interrupted_render_resumes_from_its_staged_parts(built, tmp_path, monkeypatch):
    out = fresh_plan(built, tmp_path)
    victim = next(m for m in rows(out, "mixes") if m["fold"] == 5)["mix_id"]
    real = misme_batches._render_mix

    def failing(batch, row, sources):
        if row["mix_id"] == victim:
            raise OSError(errno.EIO, "Input/output error", "interrupted")
        return real(batch, row, sources)

    monkeypatch.setattr(misme_batches, "_render_mix", failing)
    with pytest.raises(UserError, match="Input/output error"):
        render_dataset(out, roots=built[1], progress=False)
    staged = out / "data" / ".staged"
    parts = [json.loads(p.read_text()) for p in staged.glob("*/*.clips.json")]
    units = sum(len(index[view]) for index in parts for view in index if view != "mixed-window")
    assert units > 0 and not [p for p in (out / "data").glob("*") if p.name != ".staged"]
    monkeypatch.setattr(misme_batches, "_render_mix", real)
    summary = render_dataset(out, roots=built[1], progress=False)
    assert summary.digest == built[2].digest
    assert summary.resumed == units and summary.rendered == 6 + 12 + 12 - units
    assert not staged.exists()


def test_changed_or_missing_source_is_a_user_error_naming_it(built, tmp_path):
    src = tmp_path / "src"
    shutil.copytree(built[0].parent / "src", src)
    roots = {c: src / c for c in ("ravdess", "deam", "soundtracks")}
    row = next(r for r in rows(built[0], "sources") if r["source_id"] == "deam-4")
    path = roots["deam"] / row["path"]
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(UserError, match=r"changed since planning: .*MEMD_audio/4\.wav"):
        render_dataset(fresh_plan(built, tmp_path), roots=roots, progress=False)
    path.unlink()
    with pytest.raises(UserError, match=r"source file missing: .*MEMD_audio/4\.wav"):
        render_dataset(fresh_plan(built, tmp_path, "out3"), roots=roots, workers=2, progress=False)


def test_full_disk_is_a_user_error_and_leaves_nothing_half_written(built, tmp_path, monkeypatch):
    out = fresh_plan(built, tmp_path)
    real_replace = atomic.os.replace
    calls = {"n": 0}

    def failing_replace(src, dst):
        calls["n"] += 1
        if calls["n"] > 5:
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", failing_replace)
    with pytest.raises(UserError, match="No space left on device"):
        render_dataset(out, roots=built[1], progress=False)
    assert not list((out / "audio").rglob(".*.tmp-*")) and not list(
        (out / "data").rglob(".*.tmp-*")
    )
    assert not (out / "digest.txt").exists()
    assert not [
        p for p in (out / "data").glob("*") if p.name != ".staged"
    ]  # only parts staged, no config published
    monkeypatch.setattr(atomic.os, "replace", real_replace)
    assert render_dataset(out, roots=built[1], progress=False).digest == built[2].digest


def test_bad_arguments_are_user_errors(built, tmp_path):
    mp3 = fresh_plan(built, tmp_path, "mp3")
    recipe = mp3 / "manifests" / "recipe.toml"
    recipe.write_text(recipe.read_text() + '[audio]\nformat = "mp3"\n')
    with pytest.raises(UserError, match="audio.format.*'mp3'"):
        render_dataset(mp3, roots=built[1], progress=False)
    with pytest.raises(UserError, match="--workers must be at least 1"):
        render_dataset(built[0], workers=0)
    with pytest.raises(UserError, match="manifest not found"):
        render_dataset(tmp_path / "nothing")
    out = fresh_plan(built, tmp_path)
    with pytest.raises(UserError, match="build-state.json not found"):
        render_dataset(out, progress=False)
    with pytest.raises(UserError, match="source root for 'deam' not found"):
        render_dataset(out, roots={"ravdess": built[1]["ravdess"]}, progress=False)


def test_speech_activity_equals_the_mean_over_channels_definition():
    rng = np.random.default_rng(7)
    segment = (rng.standard_normal((30000, 2)) * np.linspace(0, 0.3, 30000)[:, None]).astype(
        np.float32
    )
    segment[:5000] *= 1e-3  # a quiet lead-in that must come out inactive
    block = render.activity_block(44100)
    assert block == 882
    blocks = -(-len(segment) // block)
    power = np.zeros(blocks * block)
    power[: len(segment)] = np.mean(segment.astype(np.float64) ** 2, axis=1)
    level = 10 * np.log10(power.reshape(blocks, -1).mean(axis=1) + 1e-20)
    expected = np.repeat((level >= level.max() - 35.0) & (level > -70.0), block)[: len(segment)]
    assert np.array_equal(render.speech_activity(segment, 44100), expected)
    assert 0 < expected.sum() < len(segment)


def test_batches_run_fold_by_fold_and_cover_every_unit_once(built):
    out, roots, _ = built
    sources, mixes = rows(out, "sources"), rows(out, "mixes")
    resolved = resolve_roots(out, roots, (s["corpus"] for s in sources))
    batches = render.plan_batches(
        sources,
        mixes,
        resolved,
        out / "audio",
        OutputSpec(44100, 2),
        -35.0,
        dataset_spec(build_recipe(out)),
    )
    folds = [{row["fold"] for _, row in batch.rows} for batch in batches]
    assert all(len(f) == 1 for f in folds)
    order = [f.pop() for f in folds]
    assert order == sorted(order)
    units = [
        (kind, row.get("mix_id") or row["source_id"])
        for batch in batches
        for kind, row in batch.rows
    ]
    assert len(units) == len(set(units)) == len(sources) + len(mixes)


def test_speech_cache_is_bounded_and_notices_a_changed_file(built, tmp_path, monkeypatch):
    out, roots, _ = built
    speech = [s for s in rows(out, "sources") if s["corpus"] == "ravdess"][:3]
    copied = tmp_path / "ravdess"
    for row in speech:
        (copied / row["path"]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(roots["ravdess"] / row["path"], copied / row["path"])
    local = {"ravdess": str(copied)}
    loads = []
    real_load = misme_batches.load_source
    monkeypatch.setattr(
        misme_batches,
        "load_source",
        lambda row, r, rate: loads.append(row["source_id"]) or real_load(row, r, rate),
    )
    budget = (
        sum(misme_batches.load_source(row, local, 44100).nbytes for row in speech) - 1
    )  # not all three fit
    loads.clear()
    cache = misme_batches.SpeechCache(max_bytes=budget)
    first = cache.get(speech[0], local, 44100)
    assert cache.get(speech[0], local, 44100) is first and loads == [speech[0]["source_id"]]
    assert not first.flags.writeable
    cache.get(speech[1], local, 44100)
    cache.get(speech[2], local, 44100)  # over budget: the least recently used entry goes
    assert cache.used <= budget and len(cache.entries) == 2
    cache.get(speech[0], local, 44100)
    assert loads.count(speech[0]["source_id"]) == 2
    path = copied / speech[2]["path"]
    data, rate = sf.read(path, dtype="int16")
    sf.write(path, data[::-1], rate, subtype="PCM_16")  # same size, new content and mtime
    with pytest.raises(UserError, match="changed since planning"):
        cache.get(speech[2], local, 44100)
    path.unlink()
    with pytest.raises(UserError, match="source file missing"):
        cache.get(speech[2], local, 44100)


def test_missing_or_broken_recipe_is_a_user_error_not_silent_defaults(built, tmp_path):
    out = fresh_plan(built, tmp_path)
    recipe = out / "manifests" / "recipe.toml"
    recipe.write_text("seed = [unclosed\n")
    with pytest.raises(UserError, match="cannot read .*recipe.toml"):
        render_dataset(out, roots=built[1], progress=False)
    recipe.unlink()
    with pytest.raises(UserError, match="recipe.toml not found"):
        render_dataset(out, roots=built[1], progress=False)
    assert not (out / "digest.txt").exists()


@pytest.mark.parametrize("value", ["lots", "-1", "nan"])
def test_bad_speech_cache_size_is_a_user_error_before_any_work(
    built, tmp_path, monkeypatch, capsys, value
):
    out = fresh_plan(built, tmp_path)
    with pytest.raises(UserError, match="must be a number of megabytes"):
        render_dataset(out, roots=built[1], progress=False, speech_cache_mb=value)
    monkeypatch.setenv("MISME_SPEECH_CACHE_MB", value)
    assert cli_main(["misme", "render", str(out)]) == 2
    assert "MISME_SPEECH_CACHE_MB" in capsys.readouterr().err
    assert not list((out / "audio").rglob("*.flac"))

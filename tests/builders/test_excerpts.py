"""Excerpt clips: the planned span, converted to the output spec, written into their part,
resumable, errors named."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile as sf
import soxr

from builders.common import audio
from builders.common.audio import OutputSpec
from builders.common.hashing import file_sha256
from builders.errors import UserError
from builders.excerpts import (
    ExcerptUnit,
    ExcerptView,
    plan_excerpt_batches,
    probe_sources,
    render_excerpt,
    render_excerpt_batch,
)
from builders.hf.spec import ConfigSpec, DatasetSpec
from tests.clips import clip_pcm, clip_ref

MONO_16K = OutputSpec(16000, 1)
SPEC = DatasetSpec("excerpts", "Excerpts", "", MONO_16K, 1, (ConfigSpec("clips", "clips"),))


def clips_table(rows):
    return pa.table(
        {
            "id": pa.array([r["clip_id"] for r in rows], pa.string()),
            "fold": pa.array([r["fold"] for r in rows], pa.int64()),
            "audio_sha256": pa.array([r["audio_sha256"] for r in rows], pa.string()),
            "label": pa.array([r.get("label") for r in rows], pa.string()),
        }
    )


VIEW = ExcerptView("clips.parquet", "clip_id", "clips", "clip", "plan first", table=clips_table)


def make_unit(tmp_path, source, clip_id="d_4_1", start=1.0, duration=2.0, output=MONO_16K):
    return ExcerptUnit(
        clip_id,
        "deam",
        source.name,
        file_sha256(source),
        start,
        duration,
        {"deam": str(source.parent)},
        output,
        str(tmp_path / "audio" / "clips" / f"{clip_id}.flac"),
        str(tmp_path / "audio" / "clips" / f"{clip_id}.json"),
    )


@pytest.fixture()
def source(tmp_path):
    t = np.arange(5 * 44100) / 44100
    stereo = np.stack(
        [0.5 * np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 220 * t)], axis=1
    )
    path = tmp_path / "src" / "4.wav"
    path.parent.mkdir()
    sf.write(path, stereo.astype(np.float32), 44100, subtype="FLOAT")
    return path


def render_into_part(tmp_path, unit, label="calm"):
    """Render ``unit`` as the one row of a batch (fold 1): its clip goes into the staged part."""
    row = {"clip_id": unit.clip_id, "fold": 1, "label": label}
    [batch] = plan_excerpt_batches(tmp_path, VIEW, SPEC, [row], [unit])
    assert batch.parts == (("clips", "fold1-00000-of-00001.parquet"),)
    [result] = render_excerpt_batch(batch)
    return result


def test_the_clip_is_the_span_mixed_down_and_resampled(tmp_path, source):
    unit = make_unit(tmp_path, source)
    result = render_into_part(tmp_path, unit)
    data, _ = sf.read(source, dtype="float32", always_2d=True)
    expected = soxr.resample(
        data[44100 : 3 * 44100].mean(axis=1, keepdims=True), 44100, 16000, quality="HQ"
    )
    clip = tmp_path / "audio" / "clips" / "d_4_1.flac"
    assert not clip.exists() and clip_ref(clip).path.endswith(
        "data/.staged/clips/fold1-00000-of-00001.parquet"
    )
    pcm, rate = clip_pcm(clip)
    assert rate == 16000 and pcm.shape == (32000, 1) and result["frames"] == 32000
    np.testing.assert_array_equal(pcm, audio.quantise(expected.astype(np.float32)))
    assert result["audio_sha256"] == audio.pcm_sha256(pcm) and not result["resumed"]
    again = render_excerpt(unit)
    assert again.result["resumed"] and again.result["audio_sha256"] == result["audio_sha256"]
    part = tmp_path / "data" / ".staged" / "clips" / "fold1-00000-of-00001.parquet"
    written = part.stat().st_ino
    assert render_into_part(tmp_path, unit)["resumed"] and part.stat().st_ino == written
    assert render_into_part(tmp_path, unit, "tense")["resumed"]  # a re-plan changed a label:
    assert pq.read_table(part, columns=["label"])["label"].to_pylist() == ["tense"]  # rewritten


def test_a_span_outside_the_source_or_a_changed_source_is_named(tmp_path, source):
    with pytest.raises(
        UserError, match=r"clip d_9_1: span 4.0-6.0 s is outside .*4\.wav \(5\.000 s long\)"
    ):
        render_excerpt(make_unit(tmp_path, source, clip_id="d_9_1", start=4.0))
    unit = make_unit(tmp_path, source)
    source.write_bytes(source.read_bytes()[:-8] + b"\x00" * 8)
    with pytest.raises(UserError, match="changed since planning"):
        render_excerpt(unit)


def test_probe_reports_a_cut_off_wav_an_undecodable_and_a_silent_file(tmp_path, source):
    good = probe_sources([str(source)], progress=False)[0]
    assert (
        good["frames"] == 5 * 44100
        and good["channels"] == 2
        and good["sha256"] == file_sha256(source)
    )
    cut = tmp_path / "cut.wav"
    sf.write(cut, np.full((44100, 1), 0.1, dtype=np.float32), 44100, subtype="PCM_16")
    cut.write_bytes(cut.read_bytes()[:-20000])
    junk, silent = tmp_path / "junk.wav", tmp_path / "silent.wav"
    junk.write_bytes(b"not audio")
    sf.write(silent, np.zeros((1000, 1), dtype=np.float32), 44100)
    reasons = probe_sources([str(cut), str(junk), str(silent)], workers=2, progress=False)
    assert reasons[0] == "truncated: decoded 0.773 of 1.000 expected s"
    assert reasons[1] == "cannot decode: not a readable WAV file (format not recognised)"
    assert reasons[2] == "audio is silent"

"""Resume records (one protocol) and atomic writes with host- and run-unique temporary names."""

from __future__ import annotations

import hashlib
import json
import os
import time

import numpy as np
import pytest

from builders.common.atomic import atomic_file, remove_stale_temp_files, temp_sibling
from builders.common.resume import finished_result, save_result, unit_key


def test_a_unit_is_done_only_with_its_key_and_every_output(tmp_path):
    clip, record = tmp_path / "a.flac", tmp_path / "a.json"
    key = unit_key({"id": "a", "gain": 1.5}, [("src", "sha")], "flac")
    assert (
        unit_key({"gain": 1.5, "id": "a"}, [("src", "sha")], "flac") == key
    )  # key order is irrelevant
    save_result(record, key, {"sha": "x"})
    assert finished_result(record, key, [clip]) is None  # output missing
    clip.write_bytes(b"audio")
    assert finished_result(record, key, [clip]) == {"sha": "x"}
    assert finished_result(record, unit_key({"id": "a", "gain": 2.0}, [], "flac"), [clip]) is None
    record.write_text('{"key": "')  # torn by a crash
    assert finished_result(record, key, [clip]) is None


def test_outputs_are_checked_by_their_bytes_without_decoding_and_old_records_by_their_pcm(
    tmp_path, monkeypatch
):
    import numpy as np

    import builders.common.resume as resume
    from builders.common.audio import OutputSpec, clip_sha256, write_clip

    clip, record, key = tmp_path / "a.flac", tmp_path / "a.json", unit_key("a")
    pcm = (np.arange(2000, dtype=np.int16).reshape(-1, 2) * 7) % 3000
    sha = write_clip(clip, pcm, OutputSpec(44100, 2, "flac"))
    save_result(record, key, {"audio_sha256": sha}, [clip])
    decoded = []
    monkeypatch.setattr(
        resume, "clip_sha256", lambda path: decoded.append(path) or clip_sha256(path)
    )
    checked = {str(clip): "audio_sha256"}
    assert finished_result(record, key, [clip], checked) == {"audio_sha256": sha} and decoded == []
    original = clip.read_bytes()
    clip.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))  # one flipped bit
    assert finished_result(record, key, [clip], checked) is None and decoded == []
    clip.write_bytes(original)
    save_result(record, key, {"audio_sha256": sha})  # a record from before file digests were kept
    assert finished_result(record, key, [clip], checked) == {"audio_sha256": sha} and decoded == [
        original
    ]


def test_a_published_output_counts_as_done_while_its_shard_range_is_intact(tmp_path):
    from builders.common.audio import OutputSpec, write_clip
    from builders.common.clips import INDEX_NAME, locate

    out = tmp_path / "out"
    clip, record, key = (
        out / "audio" / "v" / "a.flac",
        out / "audio" / "v" / "a.json",
        unit_key("a"),
    )
    sha = write_clip(
        clip, np.arange(400, dtype=np.int16).reshape(-1, 2), OutputSpec(44100, 2, "flac")
    )
    save_result(record, key, {"audio_sha256": sha}, [clip])
    data = clip.read_bytes()
    shard = out / "data" / "c" / "fold1-00000-of-00001.parquet"
    shard.parent.mkdir(parents=True)
    shard.write_bytes(b"PAR1" + data + b"tail")
    digest = hashlib.sha256(data).hexdigest()
    (shard.parent / INDEX_NAME).write_text(
        json.dumps({"v": {"a": [shard.name, 4, len(data), digest]}})
    )
    clip.unlink()
    checked = {str(clip): "audio_sha256"}
    assert locate(clip).read_bytes() == data
    assert finished_result(record, key, [clip], checked) == {"audio_sha256": sha}
    assert (
        finished_result(record, key, [out / "audio" / "v" / "b.flac"]) is None
    )  # neither file nor published
    shard.write_bytes(b"PAR1" + data[:-1] + bytes([data[-1] ^ 1]) + b"tail")  # one flipped bit
    assert finished_result(record, key, [clip], checked) is None


def test_temp_names_are_unique_and_only_older_ones_are_cleaned(tmp_path):
    target = tmp_path / "x.flac"
    names = {temp_sibling(target).name for _ in range(50)}
    assert len(names) == 50 and all(
        n.startswith(".x.flac.tmp-") and str(os.getpid()) in n for n in names
    )
    old = tmp_path / "sub" / ".y.flac.tmp-otherhost-1-00000000"
    old.parent.mkdir()
    old.write_bytes(b"half")
    os.utime(old, (time.time() - 60, time.time() - 60))
    started = time.time()
    fresh = tmp_path / ".z.flac.tmp-thishost-2-11111111"
    fresh.write_bytes(b"being written by a concurrent unit of this run")
    os.utime(fresh, (started + 1, started + 1))
    assert remove_stale_temp_files(tmp_path, started) == 1
    assert not old.exists() and fresh.exists()


def test_atomic_file_leaves_nothing_on_failure(tmp_path):
    with pytest.raises(RuntimeError), atomic_file(tmp_path / "out.txt") as tmp:
        tmp.write_text("partial")
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []

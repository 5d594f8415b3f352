"""`misme-build verify`: recomputes checksums from the shards' audio and compares builds."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from builders import cli
from builders.common import audio as audio_io
from builders.common.audio import OutputSpec
from builders.misme.render import render_dataset
from tests.builders.misme.render_support import make_build
from tests.console import message_lines


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("verify")
    out, roots = make_build(base)
    return out, roots, render_dataset(out, progress=False)


@pytest.fixture
def copy(built, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(built[0], target)
    return target


def verify(*args):
    return cli.main(["verify", *map(str, args)])


def corrupt_first_mix(out, new_sample: int = 1234, fix_checksum: bool = False) -> str:
    """Rewrite one clip's audio inside the mixed fold1 shard; return its id."""
    shard = sorted((out / "data" / "mixed").glob("fold1-*.parquet"))[0]
    table = pq.read_table(shard)
    rows = table.to_pylist()
    data = audio_io.decode_pcm(rows[0]["audio"]["bytes"])[0].copy()
    data[100, 0] = np.int16(new_sample)
    rows[0]["audio"]["bytes"] = audio_io.encode(data, OutputSpec(44100, 2))
    if fix_checksum:
        rows[0]["audio_sha256"] = audio_io.pcm_sha256(data)
    pq.write_table(pa.Table.from_pylist(rows, table.schema), shard)
    return rows[0]["id"]


def test_consistent_build_and_digest(built, capsys):
    out, _, summary = built
    assert verify(out) == 0
    assert "identical" in capsys.readouterr().out
    assert verify(out, "--digest", summary.digest, "--workers", "2") == 0
    assert verify(out, "--digest", "0" * 64) == 1
    assert "DIFFERENT" in capsys.readouterr().out


def test_against_identical_copy_and_sources(built, copy):
    assert verify(built[0], "--against", copy) == 0
    assert verify(built[0], "--check-sources") == 0


def test_corrupted_clip_is_named(built, copy, capsys):
    clip = corrupt_first_mix(copy)
    assert verify(copy) == 1
    assert (
        f"mixed/{clip}: audio does not match its recorded audio_sha256" in capsys.readouterr().out
    )


def test_different_build_names_the_first_differing_clips(built, copy, capsys):
    clip = corrupt_first_mix(copy, fix_checksum=True)
    assert verify(built[0], "--against", copy) == 1
    printed = capsys.readouterr().out
    assert "differing clips: 1" in printed and f"mixed/{clip}:" in printed


def test_modified_source_is_named_by_check_sources(built, copy, tmp_path, capsys):
    src = tmp_path / "src"
    shutil.copytree(built[0].parent / "src", src)
    roots = {c: str(src / c) for c in ("ravdess", "deam", "soundtracks")}
    (copy / "build-state.json").write_text(json.dumps({"roots": roots}))
    target = src / "soundtracks" / "Set1" / "003.wav"
    target.write_bytes(target.read_bytes()[:-2] + b"\x00\x01")
    assert verify(copy, "--check-sources") == 1
    assert "Set1/003.wav" in capsys.readouterr().out


def test_user_errors_exit_2(built, tmp_path, capsys):
    assert verify(tmp_path / "missing") == 2
    assert verify(built[0], "--digest", "xyz") == 2
    (tmp_path / "empty").mkdir()
    assert verify(tmp_path / "empty") == 2
    assert "is not a build folder" in capsys.readouterr().err


def test_a_planned_build_without_shards_says_so(copy, capsys):
    shutil.rmtree(copy / "data")
    assert verify(copy) == 2
    assert "no dataset shards" in capsys.readouterr().err


def test_undecodable_clip_is_named_with_its_shard_not_a_traceback(copy, capsys):
    shard = sorted((copy / "data" / "mixed").glob("fold1-*.parquet"))[0]
    table = pq.read_table(shard)
    rows = table.to_pylist()
    rows[0]["audio"]["bytes"] = (
        rows[0]["audio"]["bytes"][:40] + b"\x00" * 64
    )  # a header, then nothing
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), shard)
    assert verify(copy) == 1
    captured = capsys.readouterr()
    assert f"mixed/{rows[0]['id']}: cannot decode its audio in {shard}" in captured.out
    assert "Traceback" not in captured.err + captured.out


def test_unreadable_shard_or_manifest_is_a_one_line_error(copy, capsys):
    shard = sorted((copy / "data" / "mixed").glob("*.parquet"))[0]
    shard.write_bytes(shard.read_bytes()[:5000])
    assert verify(copy) == 2
    assert verify(copy, "--workers", "2") == 2
    err = capsys.readouterr().err
    assert "cannot read shards" in err and "Traceback" not in err


def test_unreadable_manifests_are_one_line_errors(copy, capsys):
    (copy / "manifests" / "mixes.parquet").write_bytes(b"junk")
    assert verify(copy) == 2
    assert "cannot read the manifests" in capsys.readouterr().err


def test_check_sources_without_sources_manifest_is_a_one_line_error(copy, capsys):
    (copy / "manifests" / "sources.parquet").unlink()
    assert verify(copy, "--check-sources") == 2
    assert "--check-sources needs" in capsys.readouterr().err


def test_verify_says_which_packages_differ_from_the_building_environment(copy, capsys):
    recipe = copy / "manifests" / "recipe.toml"
    recipe.write_text(
        recipe.read_text() + '\n[build]\nlock_sha256 = "0123abcd"\n'
        '[build.tool_versions]\nnumpy = "0.1"\nsoxr = "0.0.1"\n'
    )
    assert verify(copy) == 0  # the same bytes: identical, but the reader is told
    out = capsys.readouterr().out
    assert "another lock file (sha256 0123abcd" in out
    assert f"numpy: 0.1 -> {np.__version__}" in out and "soxr: 0.0.1 -> " in out


def test_a_truncated_shard_is_named_in_the_error(copy, capsys):
    shard = sorted((copy / "data" / "mixed").glob("*.parquet"))[0]
    shard.write_bytes(shard.read_bytes()[:5000])
    assert verify(copy) == 2
    err = capsys.readouterr().err
    assert "cannot read shards" in err and str(shard) in err, err
    assert len(message_lines(err)) == 1 and "Traceback" not in err


def test_config_metadata_of_a_truncated_shard_names_it(copy):
    from builders.errors import UserError
    from builders.hf.shards import config_metadata

    shard = sorted((copy / "data" / "speech").glob("*.parquet"))[0]
    shard.write_bytes(shard.read_bytes()[:100])
    with pytest.raises((UserError, pa.ArrowException, OSError), match=str(shard.name)):
        config_metadata(copy, "speech")


def test_verify_into_a_closed_pipe_ends_quietly(copy):
    """`misme-build verify ... | head` printed a traceback (BrokenPipeError)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    read_end, write_end = os.pipe()
    os.close(read_end)
    repository = Path(__file__).resolve().parents[3]
    environment = {**os.environ, "PYTHONPATH": str(repository), "MISME_NO_PROGRESS": "1"}
    try:
        done = subprocess.run(
            [str(Path(sys.executable).with_name("misme-build")), "verify", str(copy)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            env=environment,
            timeout=300,
        )
    finally:
        os.close(write_end)
    err = done.stderr.decode()
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert done.returncode in (0, 141), (done.returncode, err)


def rewrite_shard(shard, change) -> list[dict]:
    """Rewrite a shard with ``change(rows)`` applied (audio bytes and checksums untouched)."""
    table = pq.read_table(shard)
    rows = table.to_pylist()
    change(rows)
    pq.write_table(pa.Table.from_pylist(rows, table.schema), shard)
    return rows


def test_a_label_edited_inside_a_shard_is_reported_different(built, copy, capsys):
    """Issue 28, defect 1: the audio-only digest said "identical"."""
    shard = sorted((copy / "data" / "mixed").glob("fold1-*.parquet"))[0]
    rows = rewrite_shard(shard, lambda rows: rows[0].update(valence=rows[0]["valence"] + 1.0))
    assert verify(copy) == 1  # against its own digest.txt
    printed = capsys.readouterr().out
    assert "DIFFERENT" in printed and "ids, folds, labels or other columns changed" in printed
    assert verify(copy, "--against", built[0]) == 1
    printed = capsys.readouterr().out
    assert "config mixed: 1 of 12 rows differ (in valence)" in printed
    assert f"mixed/{rows[0]['id']}: valence {rows[0]['valence']} != " in printed
    assert verify(copy, "--digest", built[2].digest) == 1


def test_another_fold_assignment_is_reported_different(built, copy, capsys):
    first, second = (
        sorted((copy / "data" / "mixed").glob(f"fold{k}-*.parquet"))[0] for k in (1, 2)
    )
    moved = []
    rewrite_shard(first, lambda rows: moved.append(rows.pop(0)))
    moved[0]["fold"] = 2
    rewrite_shard(second, lambda rows: rows.append(moved[0]))
    assert verify(built[0], "--against", copy) == 1
    printed = capsys.readouterr().out
    assert f"mixed/{moved[0]['id']}: split fold1 != fold2; fold 1 != 2" in printed
    assert "the audio is the same (audio digests equal)" in printed


def test_the_audio_digest_as_published_for_v1_still_verifies_and_is_named(built, copy, capsys):
    audio_only = built[2].digests.audio
    assert verify(built[0], "--digest", audio_only) == 0
    printed = capsys.readouterr().out
    assert "the expected digest is the audio digest" in printed and "identical" in printed
    assert f"audio digest:   {audio_only}" in printed
    (copy / "digest.txt").write_text(audio_only + "\n")  # as written before dataset digests
    assert verify(copy) == 0
    assert "digest.txt (written before dataset digests) is the audio digest" in (
        capsys.readouterr().out
    )


def test_an_unreadable_solution_or_digest_txt_is_a_one_line_error(copy, capsys):
    (copy / "digest.txt").write_text("dataset digest: not-hex\n")
    assert verify(copy) == 2
    assert "cannot read digest.txt: unexpected line" in capsys.readouterr().err
    (copy / "solutions" / "misme-ser.parquet").write_bytes(b"junk")
    assert verify(copy) == 2
    err = capsys.readouterr().err
    assert "cannot read the shards or solutions" in err and "Traceback" not in err

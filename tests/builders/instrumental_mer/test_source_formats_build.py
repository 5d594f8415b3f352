"""A build from sources in the formats users hold (Ogg Vorbis, Opus, WebM, M4A, AAC) keeps every
clip the MP3 sources give: nothing is skipped that a user would expect kept."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from builders.common.audio import read_audio
from builders.demo.instrumental_sources import source_paths, write_instrumental_demo_sources
from tests.builders.encoded import encode

from .conftest import compile_build

# DEAM as Ogg Vorbis, Soundtracks set 1 as Opus and set 2 as WebM, EMOPIA as M4A and AAC
CONVERSIONS = {
    "DEAM": (".ogg",),
    "Set1": (".opus",),
    "Set2": (".webm",),
    "EMOPIA": (".m4a", ".aac"),
}


def convert(root: Path) -> dict[str, int]:
    """Re-encode every MP3 below ``root`` into its corpus's formats (the MP3 removed)."""
    counts: dict[str, int] = {}
    for index, mp3 in enumerate(sorted(root.rglob("*.mp3"))):
        corpus = next(part for part in mp3.relative_to(root).parts if part in CONVERSIONS)
        options = CONVERSIONS[corpus]
        suffix = options[index % len(options)]
        data, rate = read_audio(mp3)
        encode(mp3.with_suffix(suffix), data, rate)
        mp3.unlink()
        counts[suffix] = counts.get(suffix, 0) + 1
    return counts


def clips(out: Path) -> list[dict]:
    columns = ["clip_id", "source_id", "start_s", "duration_s", "fold"]
    rows = pq.read_table(out / "manifests" / "clips.parquet", columns=columns).to_pylist()
    return sorted(rows, key=lambda row: row["clip_id"])


@pytest.mark.slow
def test_a_build_from_ogg_opus_webm_m4a_and_aac_sources_keeps_every_clip(tmp_path):
    mp3 = tmp_path / "mp3-sources"
    size = {"n_deam": 10, "n_set1": 2, "n_set2": 4, "n_videos": 5}
    write_instrumental_demo_sources(mp3, workers=2, progress=False, **size)
    converted = tmp_path / "converted-sources"
    shutil.copytree(mp3, converted)
    counts = convert(converted)
    assert set(counts) == {".ogg", ".opus", ".webm", ".m4a", ".aac"} and min(counts.values()) >= 2
    assert not list(converted.rglob("*.mp3"))

    reference = compile_build(source_paths(mp3), tmp_path / "from-mp3", workers=2)
    build = compile_build(source_paths(converted), tmp_path / "from-new-formats", workers=2)

    expected, got = clips(reference), clips(build)
    assert len(got) >= 20 and [r["clip_id"] for r in got] == [r["clip_id"] for r in expected]
    assert [r["fold"] for r in got] == [r["fold"] for r in expected]
    audit = json.loads((build / "manifests" / "audit.json").read_text())
    reasons = [entry["reason"] for entry in audit["skipped"]]
    assert not [r for r in reasons if "decode" in r or "truncated" in r or "channel" in r]
    reference_audit = json.loads((reference / "manifests" / "audit.json").read_text())
    assert len(audit["skipped"]) == len(reference_audit["skipped"])
    sources = pq.read_table(build / "manifests" / "sources.parquet").to_pylist()
    assert {Path(row["path"]).suffix for row in sources} == set(counts)
    rendered = pq.read_table(build / "manifests" / "clips.parquet", columns=["audio_sha256"])
    assert all(rendered.column("audio_sha256").to_pylist())
    assert (build / "digest.txt").is_file()

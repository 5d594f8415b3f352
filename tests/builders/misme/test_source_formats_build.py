"""A MiSME build from RAVDESS takes as Opus, DEAM songs as M4A and Soundtracks excerpts as Ogg
Vorbis plans every source and mix the WAV/MP3 demo sources give and renders them all."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from builders.common.audio import read_audio
from builders.misme.render import render_dataset
from tests.builders.encoded import encode

from .test_render_integration import plan

CONVERSIONS = {
    "RAVDESS": (".wav", ".opus"),
    "DEAM": (".mp3", ".m4a"),
    "Soundtracks": (".mp3", ".ogg"),
}


def convert(root: Path) -> None:
    for corpus, (old, new) in CONVERSIONS.items():
        for path in sorted((root / corpus).rglob(f"*{old}")):
            data, rate = read_audio(path)
            encode(path.with_suffix(new), data, rate)
            path.unlink()


@pytest.mark.slow
def test_a_misme_build_from_opus_m4a_and_ogg_sources_keeps_every_source_and_mix(
    demo_sources, tmp_path, monkeypatch
):
    monkeypatch.setenv("MISME_NO_PROGRESS", "1")
    converted = tmp_path / "src"
    shutil.copytree(demo_sources, converted)
    convert(converted)
    (tmp_path / "reference").mkdir()
    (tmp_path / "converted").mkdir()
    reference = plan(demo_sources, tmp_path / "reference" / "out")
    built = plan(converted, tmp_path / "converted" / "out")
    assert list(built.sources["source_id"]) == list(reference.sources["source_id"])
    assert {Path(p).suffix for p in built.sources["path"]} == {".opus", ".m4a", ".ogg"}
    assert len(built.mixes) == len(reference.mixes) == 2 * 48
    assert len(built.audit["skipped"]) == len(reference.audit["skipped"])
    out = tmp_path / "converted" / "out"
    render_dataset(out, progress=False)
    mixes = pq.read_table(out / "manifests" / "mixes.parquet").to_pylist()
    assert len(mixes) == 96 and all(m["audio_sha256"] for m in mixes)
    assert (out / "digest.txt").is_file()

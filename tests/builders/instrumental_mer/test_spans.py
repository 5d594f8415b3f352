"""Where clips lie in their sources: fixed slices, the middle of an excerpt, unusable files."""

from __future__ import annotations

import shutil

import pytest

from builders.errors import UserError
from builders.excerpts import excerpt_span
from builders.instrumental_mer.plan import plan_dataset
from builders.instrumental_mer.spans import fixed_span, middle_span

from .conftest import demo_roots, demo_screening


def test_fixed_span_kept_shortened_within_the_tolerance_or_refused():
    assert fixed_span(30.0, 45.0, 45 * 44100, 44100, 0.5) == (30.0, 15.0, None)
    start, duration, note = fixed_span(
        30.0, 45.0, 44 * 44100 + 30870, 44100, 0.5
    )  # 44.7 s of audio
    assert (start, duration) == (30.0, 14.7) and "shortened" in note
    assert "ends after the audio (44.000 s long" in fixed_span(30.0, 45.0, 44 * 44100, 44100, 0.5)
    assert excerpt_span(start, duration, 44100) == (30 * 44100, 44 * 44100 + 30870 - 30 * 44100)


@pytest.mark.parametrize(
    ("frames", "rate", "expected"),
    [
        (20 * 16000, 16000, (2.5, 15.0)),  # 20 s: the middle 15 s
        (12 * 44100 + 1, 44100, (0.0, 12.000023)),  # 12 s: all of it (>= 10 s)
        (17 * 22050 + 3, 22050, (1.000045, 15.0)),  # odd frame: start rounds down
    ],
)
def test_middle_span_is_at_most_15_s_centred(frames, rate, expected):
    start, duration, note = middle_span(frames, rate, 15.0, 10.0)
    assert (start, duration, note) == (*expected, None)
    first, length = excerpt_span(start, duration, rate)
    assert length == min(frames, 15 * rate) and first == (frames - length) // 2


def test_a_source_shorter_than_the_minimum_gives_no_clip():
    assert middle_span(9 * 16000, 16000, 15.0, 10.0) == "shorter than 10 s (9.000 s)"


def test_an_undecodable_source_is_reported_and_skipped_or_fatal_with_strict(demo_run, tmp_path):
    sources = dict(demo_run["sources"])
    sources["emopia"] = tmp_path / "EMOPIA"
    shutil.copytree(demo_run["sources"]["emopia"], sources["emopia"])
    broken = sorted((sources["emopia"] / "audio").glob("Q3_*"))[0]
    broken.write_bytes(b"ID3 this is not audio")
    plan = plan_dataset(
        roots=demo_roots(sources),
        out=tmp_path / "out",
        screening=demo_screening(sources),
        progress=False,
    )
    (skip,) = [s for s in plan.audit["skipped"] if s["item"] == f"audio/{broken.name}"]
    assert skip["reason"].startswith("cannot decode: ")
    assert f"emopia-{broken.stem}" not in set(plan.clips["source_id"])
    with pytest.raises(UserError, match=r"--strict\), first: emopia audio/"):
        plan_dataset(
            roots=demo_roots(sources),
            out=tmp_path / "strict",
            screening=demo_screening(sources),
            strict=True,
            progress=False,
        )

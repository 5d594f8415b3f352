"""Decoding sources: every format, the v1 path unchanged, and true reasons for bad files."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from builders.common import audio
from builders.common.audio_formats import SOURCE_SUFFIXES
from builders.common.decode import (
    DecodeProblem,
    _id3v2_size,
    decode_audio,
    decode_source,
    mp3_xing,
)
from builders.errors import UserError
from builders.excerpts import probe_source
from tests.builders.encoded import CODECS, NEW_SUFFIXES, encode, tone

RATE = 44100


@pytest.fixture(scope="module")
def encoded(tmp_path_factory) -> dict:
    """A 2 s stereo tone in every source format."""
    folder = tmp_path_factory.mktemp("encoded")
    signal = tone(2.0, RATE)
    return {suffix: encode(folder / f"tone{suffix}", signal, RATE) for suffix in SOURCE_SUFFIXES}


def cut(path, fraction: float, tmp_path):
    data = path.read_bytes()
    target = tmp_path / f"cut{path.suffix}"
    target.write_bytes(data[: int(len(data) * fraction)])
    return target


def test_every_source_format_decodes_to_its_own_rate_and_channels(encoded):
    assert set(CODECS) == set(SOURCE_SUFFIXES)
    for suffix, path in encoded.items():
        data, rate = decode_source(path)
        expected_rate = 48000 if suffix in (".opus", ".webm") else RATE
        assert data.dtype == np.float32 and data.shape[1] == 2, suffix
        assert rate == expected_rate, suffix
        assert 0.2 < float(np.abs(data).max()) < 0.4, suffix  # the tone, not silence or noise
        if suffix != ".aac":  # ADTS has no gapless information: AAC priming stays in
            assert len(data) == 2 * rate, suffix


def test_wav_flac_and_mp3_decode_exactly_as_libsndfile_always_did(encoded):
    for suffix in (".wav", ".flac", ".mp3"):
        old, old_rate = sf.read(str(encoded[suffix]), dtype="float32", always_2d=True)
        new, new_rate = audio.read_audio(encoded[suffix])
        assert new_rate == old_rate and new.dtype == old.dtype
        assert np.array_equal(new, old), suffix


def test_the_new_formats_decode_the_same_way_twice(encoded):
    for suffix in NEW_SUFFIXES:
        first, _ = decode_audio(encoded[suffix])
        second, _ = decode_audio(encoded[suffix])
        assert np.array_equal(first, second) and first.flags.writeable


@pytest.mark.parametrize("suffix", [".mp3", ".webm", ".ogg", ".opus"])
def test_a_truncated_file_is_named_truncated(encoded, tmp_path, suffix, capfd):
    reason = probe_source(str(cut(encoded[suffix], 0.6, tmp_path)))
    assert isinstance(reason, str) and reason.startswith("truncated: decoded "), reason
    if suffix in (".mp3", ".webm"):
        assert reason.endswith(" of 2.000 expected s") or reason.endswith(" of 2.010 expected s")
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_a_truncated_mp4_says_what_is_missing(encoded, tmp_path):
    # ffmpeg writes the index (moov) last unless told to put it first: cut, it is gone
    assert probe_source(str(cut(encoded[".m4a"], 0.6, tmp_path))) == (
        "cannot decode: moov atom not found"
    )
    faststart = encode(tmp_path / "fast.m4a", tone(2.0, RATE), RATE, "-movflags", "+faststart")
    reason = probe_source(str(cut(faststart, 0.6, tmp_path)))
    assert reason.startswith("truncated: decoded ") and reason.endswith(" of 2.000 expected s")


def test_a_damaged_mp3_is_not_called_missing_or_silent_and_mpg123_stays_quiet(
    encoded, tmp_path, capfd
):
    garbled = bytearray(encoded[".mp3"].read_bytes())
    rng = np.random.default_rng(1)
    garbled[2000:20000:7] = bytes(rng.integers(0, 256, len(range(2000, 20000, 7)), dtype=np.uint8))
    damaged = tmp_path / "damaged.mp3"
    damaged.write_bytes(bytes(garbled))
    noise = tmp_path / "noise.mp3"
    noise.write_bytes(rng.integers(0, 256, 40000, dtype=np.uint8).tobytes())
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    reasons = [probe_source(str(path)) for path in (damaged, noise, empty)]
    assert reasons[0].startswith("cannot decode: Illegal Audio-MPEG-Header")
    assert "(decoding stopped at " in reasons[0] and reasons[0].endswith(" of 2.000 s)")
    assert reasons[1].startswith("cannot decode: not a readable MP3 file (Illegal Audio-MPEG")
    assert reasons[2] == "cannot decode: the file is empty (0 bytes)"
    for reason in reasons:
        assert "does not exist" not in reason and "silent" not in reason
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_an_mp3_cut_inside_its_cover_art_says_truncated(tmp_path):
    from tests.builders.encoded import mp3_with_cover

    full = mp3_with_cover(tmp_path / "art.mp3", tone(2.0, RATE), RATE)
    reason = probe_source(str(cut(full, 0.12, tmp_path)))  # the tag and a few frames
    assert reason.startswith("truncated: decoded 0.") and reason.endswith(" of 2.000 expected s")
    data = full.read_bytes()
    (tmp_path / "head.mp3").write_bytes(data[: _id3v2_size(data[:10]) + 300])  # tag, Xing frame
    reason = probe_source(str(tmp_path / "head.mp3"))
    assert reason.startswith("truncated: ") and "bytes its Xing header declares" in reason


def test_a_damaged_ogg_or_flac_gets_the_decoder_s_reason(encoded, tmp_path):
    for suffix in (".flac", ".aac"):
        reason = probe_source(str(cut(encoded[suffix], 0.6, tmp_path)))
        assert reason.startswith("cannot decode: ") and len(reason) > 20, reason
    text = tmp_path / "notes.ogg"
    text.write_text("not audio at all\n" * 50)
    assert probe_source(str(text)).startswith("cannot decode: ")


def test_the_render_names_the_file_it_cannot_decode(tmp_path):
    bad = tmp_path / "bad.opus"
    bad.write_bytes(b"OggS" + bytes(200))
    with pytest.raises(UserError, match=r"bad\.opus: cannot decode: "):
        audio.read_audio(bad)


def test_more_than_two_channels_are_refused_at_plan_with_the_count(tmp_path):
    six = encode(tmp_path / "surround.ogg", tone(1.0, 48000, channels=6), 48000)
    assert decode_source(six)[0].shape[1] == 6
    assert probe_source(str(six)) == "unsupported channel count 6 (mono or stereo sources only)"


def test_xing_header_gives_the_declared_frame_count_behind_an_id3_tag(encoded, tmp_path):
    from tests.builders.encoded import mp3_with_cover

    xing = mp3_xing(mp3_with_cover(tmp_path / "art.mp3", tone(2.0, RATE), RATE))
    plain = mp3_xing(encoded[".mp3"])
    assert xing is not None and plain is not None
    assert xing.declared_frames == plain.declared_frames > 70  # 2 s of 1152-sample frames
    assert mp3_xing(encoded[".wav"]) is None


def test_decode_problem_is_a_value_error_with_a_one_line_reason(tmp_path):
    missing = tmp_path / "gone.flac"
    with pytest.raises(DecodeProblem) as error:
        decode_source(missing)
    assert isinstance(error.value, ValueError) and "\n" not in str(error.value)


def test_a_webm_without_audio_says_so(tmp_path):
    import subprocess

    from builders.common.ffmpeg import ffmpeg_executable

    video = tmp_path / "video.webm"
    command = [ffmpeg_executable(), "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x64:d=1"]
    subprocess.run([*command, "-c:v", "libvpx", "-y", str(video)], check=True, capture_output=True)
    assert probe_source(str(video)) == "cannot decode: no audio stream in the file"

"""Real-corpus file shapes: MP3s with ID3v2 tags and cover art, VBR MP3s, encoder delay and
padding, 22.05 kHz mono and 96 kHz 24-bit files. A rendered clip has exactly the frames its
plan says, and sample positions inside a lossy file are those of the signal encoded."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from builders.common.audio import OutputSpec, decode_pcm, read_audio
from builders.common.decode import decode_source, mp3_xing
from builders.excerpts import probe_source, render_excerpt
from tests.builders.encoded import encode, mp3_with_cover, tone
from tests.builders.test_excerpts import make_unit

RATE = 44100
CLICK_S = 1.25  # where the click is in every signal


def clicked(seconds: float, rate: int, channels: int = 2) -> np.ndarray:
    """A quiet tone with one loud click (a 1 ms burst) at CLICK_S."""
    signal = tone(seconds, rate, channels) * 0.2
    at = int(round(CLICK_S * rate))
    signal[at : at + rate // 1000] = 0.9
    return signal


def click_position(data: np.ndarray, rate: int) -> float:
    return float(np.argmax(np.abs(data[:, 0]))) / rate


@pytest.mark.parametrize(
    ("suffix", "args"),
    [
        (".mp3", ()),  # LAME CBR 128k: 1105 samples of delay, padding to whole frames
        (".mp3", ("-c:a", "libmp3lame", "-q:a", "2")),  # VBR
        (".m4a", ()),  # AAC: 1024 samples of priming, undone by the MP4 edit list
        (".opus", ()),  # Opus: 312 samples of pre-skip, decoded at 48 kHz
        (".ogg", ()),
    ],
    ids=["mp3-cbr", "mp3-vbr", "m4a", "opus", "ogg"],
)
def test_encoder_delay_and_padding_are_removed_and_the_clip_has_its_planned_frames(
    tmp_path, suffix, args
):
    path = encode(tmp_path / f"song{suffix}", clicked(3.0, RATE), RATE, *args)
    probe = probe_source(str(path))
    rate = probe["sample_rate"]
    assert probe["frames"] == 3 * rate  # exactly the samples encoded: no delay, no padding
    data, _ = decode_source(path)
    assert abs(click_position(data, rate) - CLICK_S) < 0.001  # < 1 ms: sample-aligned
    output = OutputSpec(16000, 1)
    unit = make_unit(tmp_path, path, start=1.0, duration=1.5, output=output)
    result = render_excerpt(unit)
    assert result.result["frames"] == round(unit.duration_s * output.sample_rate) == 24000
    clip = decode_pcm(result.clips["audio"])[0]
    assert len(clip) == 24000
    assert abs(click_position(clip, output.sample_rate) - (CLICK_S - 1.0)) < 0.002


def test_an_mp3_with_id3v2_tags_and_cover_art_decodes_as_the_same_mp3_without(tmp_path):
    signal = tone(2.0, RATE)
    plain = encode(tmp_path / "plain.mp3", signal, RATE)
    tagged = mp3_with_cover(tmp_path / "tagged.mp3", signal, RATE)
    head = tagged.read_bytes()[:3]
    assert head == b"ID3" and tagged.stat().st_size > plain.stat().st_size + 1000
    assert np.array_equal(read_audio(tagged)[0], read_audio(plain)[0])
    probe = probe_source(str(tagged))
    assert probe["frames"] == 2 * RATE and probe["channels"] == 2
    assert mp3_xing(tagged).declared_frames == mp3_xing(plain).declared_frames


def test_a_vbr_mp3_has_its_exact_length_from_its_xing_header(tmp_path):
    signal = np.concatenate([tone(1.5, RATE) * 0.05, tone(1.5, RATE, freq=3000.0)])
    vbr = encode(tmp_path / "vbr.mp3", signal, RATE, "-c:a", "libmp3lame", "-q:a", "2")
    xing = mp3_xing(vbr)
    assert xing is not None and xing.declared_bytes == xing.available_bytes  # the whole stream
    assert probe_source(str(vbr))["frames"] == len(signal)


@pytest.mark.parametrize(
    ("rate", "channels", "subtype", "suffix"),
    [(22050, 1, "PCM_16", ".wav"), (22050, 1, None, ".mp3"), (96000, 2, "PCM_24", ".flac")],
    ids=["22k-mono-wav", "22k-mono-mp3", "96k-24bit-flac"],
)
def test_22k_mono_and_96k_24bit_sources_render_to_the_output_spec(
    tmp_path, rate, channels, subtype, suffix
):
    signal = clicked(2.0, rate, channels)
    path = tmp_path / f"source{suffix}"
    if subtype:
        sf.write(path, signal, rate, subtype=subtype)
    else:
        encode(path, signal, rate)
    probe = probe_source(str(path))
    assert (probe["sample_rate"], probe["channels"], probe["frames"]) == (rate, channels, 2 * rate)
    if subtype == "PCM_24":  # 24-bit precision kept by the float decode
        data, _ = read_audio(path)
        assert np.max(np.abs(data - signal)) < 2.0**-22
    for output in (OutputSpec(44100, 2), OutputSpec(16000, 1)):
        clip_id = f"c{output.sample_rate}"
        unit = make_unit(tmp_path, path, clip_id, start=0.5, duration=1.0, output=output)
        clip = decode_pcm(render_excerpt(unit).clips["audio"])[0]
        assert clip.shape == (output.sample_rate, output.channels)
        assert abs(click_position(clip, output.sample_rate) - (CLICK_S - 0.5)) < 0.002

"""`misme-build loudness`: the EBU Tech 3341 signals through the command line, in every source
format the readers accept; unusable files are one line and exit 2."""

import re

import pytest
import soundfile as sf

from builders.cli import main
from tests.builders.ebu_signals import EBU_CASES, EBU_RATE, ebu_signal, write_ebu_signal
from tests.builders.encoded import NEW_SUFFIXES, encode

LINE = re.compile(r"^\s*(-?[\d.]+|-inf) LUFS\s+(-?[\d.]+|-inf) dBTP  (.+)$")


def _measured(output: str) -> dict[str, tuple[float, float]]:
    rows = [LINE.match(line) for line in output.splitlines()[1:]]
    return {row[3]: (float(row[1]), float(row[2])) for row in rows}


@pytest.fixture(scope="module")
def ebu_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ebu")
    return {case: write_ebu_signal(folder, case) for case in EBU_CASES}


def test_ebu_signals_read_their_expected_loudness(ebu_files, capsys):
    assert main(["loudness", *map(str, ebu_files.values())]) == 0
    output = capsys.readouterr().out
    assert output.startswith("meter: bs1770 (ITU-R BS.1770-4")
    measured = _measured(output)
    assert len(measured) == len(EBU_CASES)
    for case, path in ebu_files.items():
        loudness, peak = measured[str(path)]
        assert loudness == pytest.approx(EBU_CASES[case][1], abs=0.1), case
        loudest_part = max(level for level, _ in EBU_CASES[case][0])
        assert peak == pytest.approx(loudest_part, abs=0.1), case


def test_v1_meter_is_named_and_misses_case_5(ebu_files, capsys):
    assert main(["loudness", "--meter", "ffmpeg-loudnorm", str(ebu_files[5])]) == 0
    output = capsys.readouterr().out
    assert output.startswith("meter: ffmpeg-loudnorm")
    loudness, _ = _measured(output)[str(ebu_files[5])]
    assert loudness < -23.1  # issue 24: -23.14 LUFS, outside Tech 3341's +-0.1 LU


def test_dual_mono_adds_3_lu_to_a_mono_file(tmp_path, capsys):
    path = tmp_path / "mono.wav"
    sf.write(path, ebu_signal(1)[:, 0], EBU_RATE, subtype="PCM_24")
    readings = []
    for options in ([], ["--dual-mono"]):
        assert main(["loudness", *options, str(path)]) == 0
        readings.append(_measured(capsys.readouterr().out)[str(path)][0])
    assert readings[1] - readings[0] == pytest.approx(3.01, abs=0.01)


@pytest.fixture(scope="module")
def case_1_encoded(tmp_path_factory):
    """Tech 3341 case 1's level (-23 dBFS stereo 1 kHz, -23.0 LUFS) for 5 s, in each new format."""
    folder = tmp_path_factory.mktemp("encoded")
    signal = ebu_signal(1)[: 5 * EBU_RATE]
    return [encode(folder / f"case1{suffix}", signal, EBU_RATE) for suffix in NEW_SUFFIXES]


@pytest.mark.parametrize("meter", ["bs1770", "ffmpeg-loudnorm"])
def test_new_formats_read_their_signals_loudness_with_either_meter(case_1_encoded, capsys, meter):
    assert main(["loudness", "--meter", meter, *map(str, case_1_encoded)]) == 0
    measured = _measured(capsys.readouterr().out)
    assert sorted(measured) == sorted(map(str, case_1_encoded))
    for path, (loudness, peak) in measured.items():
        assert loudness == pytest.approx(-23.0, abs=0.1), path
        assert -23.5 < peak < -21.5, path  # a lossy codec's overshoot stays well under 1 dB


def _cut(path, folder):
    cut = folder / f"cut{path.suffix}"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return cut


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "no such file"),
        (b"RIFF\x00\x00garbage" * 10, "cannot decode"),
        (b"\x00\x00\x00\x18ftypM4A " + b"garbage" * 20, "cannot decode"),
        (b"", "the file is empty"),
        (".opus", "truncated"),  # the plan refuses these files with the same reasons
        (".webm", "truncated"),
        (".m4a", "cannot decode"),
    ],
)
def test_missing_or_unreadable_file_is_one_line_and_exit_2(
    tmp_path, capsys, case_1_encoded, content, reason
):
    if isinstance(content, str):
        path = _cut(next(p for p in case_1_encoded if p.suffix == content), tmp_path)
    else:
        path = tmp_path / ("take.wav" if content is None or content[:4] == b"RIFF" else "song.m4a")
        if content is not None:
            path.write_bytes(content)
    assert main(["loudness", str(path)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and str(path) in error and "Traceback" not in error
    assert reason in error


def test_a_folder_is_named_as_a_folder(tmp_path, capsys):
    assert main(["loudness", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip().endswith(f"{tmp_path}: a folder, not an audio file")

"""`misme-build loudness`: the EBU Tech 3341 signals through the command line."""

import re

import pytest
import soundfile as sf

from builders.cli import main
from tests.builders.ebu_signals import EBU_CASES, EBU_RATE, ebu_signal, write_ebu_signal

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


@pytest.mark.parametrize("content", [None, b"RIFF\x00\x00garbage" * 10])
def test_missing_or_unreadable_file_is_one_line_and_exit_2(tmp_path, capsys, content):
    path = tmp_path / "take.wav"
    if content is not None:
        path.write_bytes(content)
    assert main(["loudness", str(path)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and str(path) in error and "Traceback" not in error

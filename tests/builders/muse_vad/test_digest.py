"""Issue 28, defect 1 on MuSe-VAD: builds whose labels are on another lexicon's scale have the
same audio but are different datasets, and `verify` says so (it said "identical")."""

from __future__ import annotations

import pytest

from builders.cli import main
from builders.hf.digest import read_digests

from .conftest import build, write_warriner_lexicon


@pytest.fixture(scope="module")
def warriner_build(muse_sources, tmp_path_factory):
    """The small demo labelled with the Warriner lexicon (1-9) instead of NRC-VAD ([0, 1])."""
    root = tmp_path_factory.mktemp("muse-warriner")
    lexicon = write_warriner_lexicon(root / "Warriner.csv")
    return build({**muse_sources, "lexicon": lexicon}, root / "out", 2)


def test_another_lexicon_scale_is_another_dataset_with_the_same_audio(
    built, warriner_build, capsys, monkeypatch
):
    monkeypatch.setenv("MISME_NO_PROGRESS", "1")
    nrc, warriner = read_digests(built), read_digests(warriner_build)
    assert nrc["audio"] == warriner["audio"]  # the same frames, the same clips
    assert nrc["dataset"] != warriner["dataset"]
    capsys.readouterr()
    assert main(["verify", str(warriner_build), "--against", str(built)]) == 1
    printed = capsys.readouterr().out
    assert "DIFFERENT" in printed and "the audio is the same (audio digests equal)" in printed
    for table in ("config frames", "config tracks", "solution muse-vad"):
        assert f"{table}: " in printed and "rows differ (in " in printed
    assert "valence" in printed
    assert main(["verify", str(warriner_build), "--digest", nrc["dataset"]]) == 1

"""``--root CORPUS=PATH``: a corpus name the build does not use is refused, not ignored."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from builders.cli import main
from builders.common.build_state import roots_from_options
from builders.errors import UserError


def _build(tmp_path, roots: dict[str, str], corpora: list[str] | None = None):
    out = tmp_path / "out"
    (out / "manifests").mkdir(parents=True)
    (out / "build-state.json").write_text(json.dumps({"roots": roots}))
    if corpora is not None:
        frame = pd.DataFrame(
            {"source_id": [f"s{i}" for i in range(len(corpora))], "corpus": corpora}
        )
        frame.to_parquet(out / "manifests" / "sources.parquet", index=False)
    return out


def test_a_misspelt_corpus_name_is_refused_with_the_known_ones(tmp_path):
    out = _build(tmp_path, {"ravdess": "/a", "deam": "/b", "soundtracks": "/c"})
    with pytest.raises(UserError) as raised:
        roots_from_options(out, ["ravdes=/mnt/ravdess"])
    message = str(raised.value)
    assert "'ravdes'" in message and "deam, ravdess, soundtracks" in message


def test_a_corpus_of_the_sources_manifest_is_known(tmp_path):
    out = _build(tmp_path, {}, corpora=["deam", "emopia", "deam"])
    assert roots_from_options(out, ["emopia=/mnt/emopia"]) == {"emopia": "/mnt/emopia"}
    with pytest.raises(UserError, match="'emopa'.*deam, emopia"):
        roots_from_options(out, ["emopa=/mnt/emopia"])


def test_a_roots_file_with_an_unknown_name_is_refused(tmp_path):
    out = _build(tmp_path, {"audio": "/a"})
    roots_file = tmp_path / "roots.toml"
    roots_file.write_text('audo = "/mnt/audio"\n')
    with pytest.raises(UserError, match="'audo'.*audio"):
        roots_from_options(out, None, roots_file)


def test_known_names_override_the_recorded_roots(tmp_path):
    out = _build(tmp_path, {"ravdess": "/a", "deam": "/b"})
    assert roots_from_options(out, ["deam=/d"]) == {"ravdess": "/a", "deam": "/d"}


def test_the_command_line_refuses_a_misspelt_root(tmp_path, capsys):
    out = _build(tmp_path, {"audio": str(tmp_path)}, corpora=["audio"])
    assert main(["muse-vad", "render", str(out), "--root", f"audo={tmp_path}"]) == 2
    err = capsys.readouterr().err
    assert "unknown corpus 'audo'" in err and "audio" in err

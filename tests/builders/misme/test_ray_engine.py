"""`--engine ray` on a real local Ray cluster gives the local engine's bytes: render, oracle
separation, a feature set and verify; a failing unit is named and nothing is published."""

from __future__ import annotations

import shutil

import pyarrow.parquet as pq
import pytest

from builders.cli import main
from tests.builders.misme.render_support import make_build
from tests.console import message_lines

RAY = ["--engine", "ray", "--workers", "2"]


@pytest.fixture(autouse=True)
def _quiet(monkeypatch):
    monkeypatch.setenv("MISME_NO_PROGRESS", "1")


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    out, roots = make_build(tmp_path_factory.mktemp("ray-plan"))
    return out, roots


def copy_of(planned, tmp_path, name):
    out = tmp_path / name
    shutil.copytree(planned[0], out)
    return out


def test_render_separate_features_and_verify_match_the_local_engine(
    planned, ray_cluster, tmp_path, capsys
):
    local, on_ray = copy_of(planned, tmp_path, "local"), copy_of(planned, tmp_path, "ray")
    assert main(["misme", "render", str(local)]) == 0
    assert main(["misme", "render", str(on_ray), *RAY]) == 0
    for name in ("sources.parquet", "mixes.parquet"):
        assert (local / "manifests" / name).read_bytes() == (
            on_ray / "manifests" / name
        ).read_bytes()
    assert (local / "digest.txt").read_text() == (on_ray / "digest.txt").read_text()
    assert main(["misme", "separate", str(local), "--backend", "oracle"]) == 0
    assert main(["misme", "separate", str(on_ray), "--backend", "oracle", *RAY]) == 0
    for name in ("separation-oracle.parquet", "separation-oracle.json"):
        assert (local / "manifests" / name).read_bytes() == (
            on_ray / "manifests" / name
        ).read_bytes()
    assert (local / "digest.txt").read_text() == (on_ray / "digest.txt").read_text()
    for out, extra in ((local, []), (on_ray, RAY)):
        assert (
            main(["features", str(out), "--set", "speech-egemaps", "--views", "speech", *extra])
            == 0
        )
    tables = [
        pq.read_table(out / "features" / "speech-egemaps" / "speech.parquet")
        for out in (local, on_ray)
    ]
    assert tables[0].equals(tables[1]) and tables[0].num_rows == 6
    capsys.readouterr()
    assert main(["verify", str(on_ray), "--against", str(local), *RAY]) == 0
    assert "identical" in capsys.readouterr().out


def test_a_unit_that_fails_on_ray_is_named_and_nothing_is_published(
    planned, ray_cluster, tmp_path, capsys
):
    src = tmp_path / "src"
    shutil.copytree(planned[1]["deam"].parent, src)
    out = copy_of(planned, tmp_path, "broken")
    row = next(
        r
        for r in pq.read_table(out / "manifests" / "sources.parquet").to_pylist()
        if r["corpus"] == "deam"
    )
    (src / "deam" / row["path"]).unlink()
    code = main(
        [
            "misme",
            "render",
            str(out),
            *RAY,
            "--root",
            f"deam={src / 'deam'}",
            "--root",
            f"ravdess={src / 'ravdess'}",
            "--root",
            f"soundtracks={src / 'soundtracks'}",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "source file missing" in err and row["path"] in err and "on node" in err
    assert len(message_lines(err)) == 1
    assert not (out / "digest.txt").exists()
    assert not [p for p in (out / "data").glob("*") if p.name != ".staged"]  # parts staged at most

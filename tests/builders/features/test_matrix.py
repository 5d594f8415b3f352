"""The one feature-matrix loader every baseline fits on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from builders.errors import UserError
from builders.features import extract as feats
from builders.features.matrix import (
    combined_matrix,
    feature_matrix,
    feature_names,
    feature_sets,
    has_table,
)


def write_features(out: Path, ids: list[str]) -> None:
    frame = pd.DataFrame({"id": ids, "f0": np.arange(len(ids), dtype=float), "f1": 1.0})
    feats.write_table(frame, feats.table_path(out, "music-essentia", "clips"), {})


def test_rows_come_in_the_order_of_the_ids(tmp_path: Path) -> None:
    write_features(tmp_path, ["a", "b", "c"])
    x = feature_matrix(tmp_path, "music-essentia", "clips", pd.Series(["c", "a", "b"]))
    assert x.dtype == np.float64 and x[:, 0].tolist() == [2.0, 0.0, 1.0]


def test_a_subset_needs_exact_false(tmp_path: Path) -> None:
    write_features(tmp_path, ["a", "b", "c"])
    with pytest.raises(UserError, match="has 1 ids not in the manifests .*another build"):
        feature_matrix(tmp_path, "music-essentia", "clips", ["a", "b"])
    x = feature_matrix(tmp_path, "music-essentia", "clips", ["b", "a"], exact=False)
    assert x[:, 0].tolist() == [1.0, 0.0]


def test_missing_rows_and_tables_name_the_step(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="misme-build features .* --set music-essentia"):
        feature_matrix(tmp_path, "music-essentia", "clips", ["a"])
    with pytest.raises(UserError, match="render the view"):
        feature_matrix(tmp_path, "music-essentia", "clips", ["a"], missing_hint="render the view")
    write_features(tmp_path, ["a"])
    with pytest.raises(UserError, match="lacks 1 of 2 clips \\(e.g. b\\)"):
        feature_matrix(tmp_path, "music-essentia", "clips", ["a", "b"], exact=False)


def test_a_combination_puts_the_sets_side_by_side(tmp_path: Path) -> None:
    write_features(tmp_path, ["a", "b"])
    other = pd.DataFrame({"id": ["b", "a"], "g0": [20.0, 10.0]})
    feats.write_table(other, feats.table_path(tmp_path, "music-compare", "clips"), {})
    for choice in ("music-essentia+music-compare", "music-essentia-compare"):
        x = combined_matrix(tmp_path, choice, "clips", ["b", "a"])
        assert x.tolist() == [[1.0, 1.0, 20.0], [0.0, 1.0, 10.0]]
    assert feature_sets("music-essentia-compare+music-essentia") == (
        "music-essentia",
        "music-compare",
    )
    with pytest.raises(UserError, match="unknown feature set 'nope' .*joined by '\\+'"):
        feature_sets("music-essentia+nope")
    write_features(tmp_path / "essentia-only", ["a"])
    with pytest.raises(UserError, match="--set music-compare"):
        combined_matrix(tmp_path / "essentia-only", "music-essentia-compare", "clips", ["a"])


def test_a_combination_puts_its_sets_side_by_side(tmp_path: Path) -> None:
    write_features(tmp_path, ["a", "b"])
    combined = "music-essentia+music-compare"
    assert not has_table(tmp_path, combined, "clips")
    with pytest.raises(UserError, match="--set music-compare"):
        feature_matrix(tmp_path, combined, "clips", ["a", "b"])
    compare = pd.DataFrame({"id": ["b", "a"], "g": [5.0, 6.0]})
    feats.write_table(compare, feats.table_path(tmp_path, "music-compare", "clips"), {})
    assert has_table(tmp_path, combined, "clips")
    x = feature_matrix(tmp_path, combined, "clips", ["b", "a"])
    assert x.tolist() == [[1.0, 1.0, 5.0], [0.0, 1.0, 6.0]]
    assert feature_names(tmp_path, combined, "clips") == [
        "music-essentia:f0",
        "music-essentia:f1",
        "music-compare:g",
    ]
    assert feature_names(tmp_path, "music-compare", "clips") == ["g"]

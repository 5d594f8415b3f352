from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from builders.corpora.listing import LISTING_DTYPES
from builders.corpora.soundtracks import (
    read_soundtracks,
    read_soundtracks_links,
    read_soundtracks_ratings,
)
from builders.errors import UserError


def _energy_by_number(path: Path) -> dict[str, tuple[float, float]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return {
            row["number"]: (float(row["valence"]), float(row["energy"]))
            for row in csv.DictReader(handle)
        }


def test_demo_soundtracks_lists_rated_excerpts(demo_sources):
    root = demo_sources / "Soundtracks"
    listing = read_soundtracks(root)
    files = listing.files
    assert listing.corpus == "soundtracks" and len(files) == 4
    assert dict(files.dtypes) == LISTING_DTYPES
    ratings = _energy_by_number(root / "mean_ratings_set1.csv")
    for row in files.itertuples():
        number = row.source_id.removeprefix("soundtracks-set1-")
        assert len(number) == 3 and row.path == f"Set1/{number}.mp3"
        assert (row.valence, row.arousal) == ratings[number]
    assert listing.skipped == (("mean_ratings_set1.csv", listing.skipped[0][1]),)
    assert listing.skipped[0][1].startswith("2 rated excerpts have no audio file")


@pytest.mark.parametrize("folder", ["set1", "Set 1", "SET_1"])
def test_set_folder_name_variants_are_accepted(demo_sources, tmp_path, folder):
    root = tmp_path / "Soundtracks"
    shutil.copytree(demo_sources / "Soundtracks", root)
    (root / "Set1").rename(root / "tmp")
    (root / "tmp").rename(root / folder)
    files = read_soundtracks(root).files
    assert len(files) == 4 and all(path.startswith(f"{folder}/") for path in files.path)
    assert files.source_id.str.startswith("soundtracks-set1-").all()


def test_set2_uses_its_own_capitalised_ratings(demo_sources, tmp_path):
    root = tmp_path / "Soundtracks"
    shutil.copytree(demo_sources / "Soundtracks", root)
    (root / "Set2").mkdir()
    shutil.copy(next((root / "Set1").glob("*.mp3")), root / "Set2" / "7.mp3")
    (root / "mean_ratings_set2.csv").write_bytes(
        b"\xef\xbb\xbfNumber,Valence,Energy,Tension,TARGET,soundtrack,link\r\n007,2.50,8.21,8.56,ANGER_HIGH,X,124\r\n"
    )
    files = read_soundtracks(root).files.set_index("source_id")
    assert tuple(files.loc["soundtracks-set2-007", ["valence", "arousal"]]) == (2.5, 8.21)
    assert files.loc["soundtracks-set2-007", "path"] == "Set2/7.mp3"


def test_unusable_audio_is_skipped_with_reasons(demo_sources, tmp_path):
    root = tmp_path / "Soundtracks"
    shutil.copytree(demo_sources / "Soundtracks", root)
    (root / "Set1" / "359.mp3").write_bytes(b"x")
    (root / "Set1" / "intro.mp3").write_bytes(b"x")
    (root / "Set2").mkdir()
    (root / "Set2" / "001.mp3").write_bytes(b"x")
    skipped = dict(read_soundtracks(root).skipped)
    rated = _energy_by_number(root / "mean_ratings_set1.csv")
    if "359" not in rated:
        assert "no rating for set1 excerpt 359" in skipped["Set1/359.mp3"]
    assert "not a Soundtracks excerpt" in skipped["Set1/intro.mp3"]
    assert "no mean_ratings_set2.csv" in skipped["Set2/001.mp3"]


def test_ratings_without_energy_column_is_a_user_error(tmp_path):
    path = tmp_path / "mean_ratings_set1.csv"
    path.write_bytes(b"\xef\xbb\xbfnumber,valence,tension\r\n001,4.83,3.17\r\n")
    with pytest.raises(UserError, match=r"mean_ratings_set1\.csv: missing column 'energy'"):
        read_soundtracks_ratings(path)


def test_missing_and_empty_roots_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="Soundtracks root does not exist"):
        read_soundtracks(tmp_path / "nope")
    with pytest.raises(UserError, match="no Soundtracks ratings file"):
        read_soundtracks(tmp_path)


def test_reference_ratings_set1_and_set2(reference_data):
    folder = reference_data / "soundtracks"
    for name, count in (("mean_ratings_set1.csv", 360), ("mean_ratings_set2.csv", 110)):
        table = read_soundtracks_ratings(folder / name)
        assert len(table) == count
        assert table.number.str.fullmatch(r"\d{3}").all() and table.number.is_unique
        with (folder / name).open(newline="", encoding="utf-8-sig") as handle:
            raw = {row[0]: row for row in csv.reader(handle)}
        header = [h.lower() for h in raw.pop(next(iter(raw)))]
        energy, valence = header.index("energy"), header.index("valence")
        for row in table.itertuples():
            assert row.arousal == float(raw[row.number][energy])
            assert row.valence == float(raw[row.number][valence])
    set1 = read_soundtracks_ratings(folder / "mean_ratings_set1.csv").set_index("number")
    assert tuple(set1.loc["001"]) == (4.83, 6.83)


SET2_HEADER = b"\xef\xbb\xbfNumber,Valence,Energy,Tension,TARGET,soundtrack,link\r\n"


def test_links_pair_set2_numbers_with_set1_numbers(tmp_path):
    path = tmp_path / "mean_ratings_set2.csv"
    path.write_bytes(
        SET2_HEADER + b"10,2.5,8.2,8.5,ANGER_HIGH,X,234\r\n"
        b"002,2.5,8.2,8.5,ANGER_HIGH,X,\r\n"
        b"095,2.5,8.2,8.5,ANGER_HIGH,X,234\r\n"
        b"001,2.5,8.2,8.5,ANGER_HIGH,X,7\r\n"
    )
    links = read_soundtracks_links(path)
    assert list(links.itertuples(index=False, name=None)) == [
        ("001", "007"),
        ("010", "234"),
        ("095", "234"),
    ]
    assert all(str(dtype) == "string" for dtype in links.dtypes)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            b"003,2.5,8.2,8.5,ANGER_HIGH,X,12a\r\n",
            r"link of number 003 is '12a', expected a set-1 number",
        ),
        (b"003,2.5,8.2,8.5,ANGER_HIGH,X,1234\r\n", r"link of number 003 is '1234'"),
        (b"x3,2.5,8.2,8.5,ANGER_HIGH,X,12\r\n", r"number 'x3' is not a 1-3 digit number"),
    ],
)
def test_bad_links_are_user_errors(tmp_path, row, message):
    path = tmp_path / "mean_ratings_set2.csv"
    path.write_bytes(SET2_HEADER + row)
    with pytest.raises(UserError, match=r"mean_ratings_set2\.csv: " + message):
        read_soundtracks_links(path)


def test_links_need_the_link_column(tmp_path):
    path = tmp_path / "mean_ratings_set1.csv"
    path.write_bytes(b"\xef\xbb\xbfnumber,valence,energy\r\n001,4.83,3.17\r\n")
    with pytest.raises(UserError, match=r"mean_ratings_set1\.csv: missing column 'link'"):
        read_soundtracks_links(path)


def test_reference_links_name_existing_set1_excerpts(reference_data):
    folder = reference_data / "soundtracks"
    links = read_soundtracks_links(folder / "mean_ratings_set2.csv")
    assert len(links) == 110 and links.set2_number.is_unique
    assert links.set1_number.nunique() == 102  # eight set-1 excerpts are in set 2 twice
    pairs = dict(links.itertuples(index=False, name=None))
    assert pairs["001"] == "227" and pairs["002"] == "124"
    assert pairs["010"] == pairs["095"] == "234"  # the readme: 010 is the same as 095
    set1 = set(read_soundtracks_ratings(folder / "mean_ratings_set1.csv").number)
    assert set(links.set1_number) <= set1

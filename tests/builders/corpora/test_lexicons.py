"""Lexicons are the user's files: these tests write tiny ones with the documented NRC-VAD
v1 values (cool, nice, study, sad, happy, angry) plus invented words."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from builders.corpora.lexicons import (
    NRC_VAD,
    THESIS_BLACKLIST,
    WARRINER,
    detect_lexicon_format,
    read_lexicon,
    tags_to_vad,
)
from builders.errors import UserError

NRC_TEXT = (
    "Word\tValence\tArousal\tDominance\n"
    "angry\t0.122\t0.830\t0.604\n"
    "cool\t0.885\t0.540\t0.781\n"
    "happy\t1.000\t0.735\t0.772\n"
    "nice\t0.930\t0.442\t0.650\n"
    "sad\t0.225\t0.333\t0.149\n"
    "study\t0.653\t0.361\t0.768\n"
    "glimmerous\t0.500\t0.000\t1.000\n"
    "rock\t0.600\t0.600\t0.600\n"
    "null\t0.400\t0.400\t0.400\n"
)
WARRINER_TEXT = (
    ",Word,V.Mean.Sum,V.SD.Sum,V.Rat.Sum,A.Mean.Sum,A.SD.Sum,A.Rat.Sum,D.Mean.Sum,D.SD.Sum\n"
    "1,aardvark,6.26,2.21,19,2.41,1.4,22,4.27,1.75\n"
    "2,Zorbly,1,0,20,9,0,20,5,0\n"
    "3,nan,5.5,1,20,4.5,1,20,5,1\n"
)
GOLDEN = (0.85695, 0.49845, 0.7594)


def _lexicon(tmp_path: Path, text: str, name: str = "lexicon.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def test_nrc_vad_detected_read_scaled_and_hashed(tmp_path):
    path = _lexicon(tmp_path, NRC_TEXT)
    lexicon = read_lexicon(path)
    assert (lexicon.format, lexicon.scale, lexicon.path) == (NRC_VAD, "[0,1]", str(path))
    assert lexicon.sha256 == hashlib.sha256(NRC_TEXT.encode()).hexdigest()
    assert lexicon.entries["cool"] == (0.885, 0.54, 0.781)
    assert lexicon.entries["null"] == (0.4, 0.4, 0.4)  # a word, not a missing value
    assert list(lexicon.entries) == sorted(lexicon.entries) and len(lexicon.entries) == 9
    frame = lexicon.frame()
    assert list(frame.columns) == ["word", "valence", "arousal", "dominance"]
    assert str(frame.word.dtype) == "string" and frame.valence.dtype == "float64"
    assert frame.set_index("word").loc["angry"].tolist() == [0.122, 0.83, 0.604]


def test_warriner_detected_on_the_1_to_9_scale(tmp_path):
    lexicon = read_lexicon(_lexicon(tmp_path, WARRINER_TEXT, "Ratings_Warriner_et_al.csv"))
    assert (lexicon.format, lexicon.scale) == (WARRINER, "1-9")
    assert lexicon.entries == {
        "aardvark": (6.26, 2.41, 4.27),
        "nan": (5.5, 4.5, 5.0),
        "zorbly": (1.0, 9.0, 5.0),
    }


def test_format_detection_from_the_header_line():
    assert detect_lexicon_format("Word\tValence\tArousal\tDominance") == NRC_VAD
    assert detect_lexicon_format("word\tvalence\tarousal\tdominance\r") == NRC_VAD
    assert detect_lexicon_format('"","Word","V.Mean.Sum","A.Mean.Sum","D.Mean.Sum"') == WARRINER
    assert detect_lexicon_format("term\tvalence\tarousal\tdominance") is None
    assert detect_lexicon_format("Word,Valence,Arousal") is None


@pytest.mark.parametrize(
    ("text", "given", "message"),
    [
        (
            "Word,Valence,Arousal,Dominance\ncool,0.885,0.540,0.781\n",
            None,
            r"line 1: header 'Word,Valence,Arousal,Dominance' is not Word<TAB>Valence.* or a CSV header",
        ),
        (
            WARRINER_TEXT,
            NRC_VAD,
            r"line 1: header .* is not Word<TAB>Valence<TAB>Arousal<TAB>Dominance",
        ),
        (
            NRC_TEXT,
            WARRINER,
            r"line 1: header 'Word\\tValence.* is not a CSV header with Word,V\.Mean\.Sum",
        ),
        ("", None, r"line 1: header '' is not"),
    ],
)
def test_bad_or_unexpected_header_is_a_user_error_naming_line_1(tmp_path, text, given, message):
    with pytest.raises(UserError, match=r"lexicon\.txt: " + message):
        read_lexicon(_lexicon(tmp_path, text), given)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("mellow\t0.7\tlow\t0.5\n", r"line 12: arousal 'low' is not a number"),
        ("mellow\t0.7\t\t0.5\n", r"line 12: arousal '' is not a number"),
        ("mellow\t0.7\tnan\t0.5\n", r"line 12: arousal 'nan' is not a number"),
        ("mellow\t1.2\t0.5\t0.5\n", r"line 12: valence 1.2 is outside the lexicon's scale 0-1"),
        ("mellow\t0.7\t0.5\n", r"line 12: 3 tab-separated fields, expected 4"),
        ("Cool\t0.1\t0.540\t0.781\n", r"line 12: 'cool' is also on line 3 with other values"),
        ("\t0.1\t0.5\t0.5\n", r"line 12: empty word"),
    ],
)
def test_bad_nrc_lines_are_user_errors_naming_the_line(tmp_path, line, message):
    with pytest.raises(UserError, match=r"lexicon\.txt: " + message):
        read_lexicon(_lexicon(tmp_path, NRC_TEXT + "\n" + line))


def test_bad_warriner_values_are_user_errors(tmp_path):
    path = _lexicon(tmp_path, WARRINER_TEXT + "4,bad,0.5,1,20,4.5,1,20,5,1\n", "w.csv")
    with pytest.raises(
        UserError, match=r"w\.csv: line 5: valence 0\.5 is outside the lexicon's scale 1-9"
    ):
        read_lexicon(path)
    path.write_text(WARRINER_TEXT + "4,short,5\n")
    with pytest.raises(UserError, match=r"w\.csv: line 5: 3 fields, the header names column 9"):
        read_lexicon(path)
    with pytest.raises(UserError, match="unknown lexicon format 'anew'"):
        read_lexicon(path, "anew")


def test_golden_weighted_mood_with_nrc_vad(tmp_path):
    lexicon = read_lexicon(_lexicon(tmp_path, NRC_TEXT))
    result = tags_to_vad({"cool": 56, "nice": 12, "study": 12}, lexicon)
    assert result.vad == pytest.approx(GOLDEN, abs=1e-9)
    assert result.kept == (("cool", 56), ("nice", 12), ("study", 12))
    assert result.reason is None


def test_blacklisted_and_unknown_tags_do_not_count(tmp_path):
    lexicon = read_lexicon(_lexicon(tmp_path, NRC_TEXT))
    tags = [
        ("Cool ", 50),
        ("cool", 6),
        ("nice", 12),
        ("study", 12),
        (" ROCK", 100),
        ("soundtrack", 90),
        ("epic-ish", 40),
        ("Film", 3),
    ]
    result = tags_to_vad(tags, lexicon)
    assert result.vad == pytest.approx(GOLDEN, abs=1e-9)  # 'rock' is in the lexicon but blacklisted
    assert result.kept == (("cool", 56), ("nice", 12), ("study", 12))
    assert result.blacklisted == ("film", "rock", "soundtrack")
    assert result.unknown == ("epic-ish",)
    with_rock = tags_to_vad(tags, lexicon, blacklist=["soundtrack"])
    assert ("rock", 100) in with_rock.kept and with_rock.vad != pytest.approx(GOLDEN, abs=1e-6)


def test_no_lexicon_tag_left_gives_none_with_a_reason(tmp_path):
    entries = read_lexicon(_lexicon(tmp_path, NRC_TEXT)).entries
    result = tags_to_vad({"soundtrack": 100, "film": 40, "zzz": 3}, entries)
    assert result.vad is None and result.kept == ()
    assert result.reason == "no tag left that is in the lexicon (after the blacklist)"
    zero = tags_to_vad({"sad": 0, "happy": 0}, entries)
    assert zero.vad is None and zero.reason == "the lexicon tags' counts sum to 0"
    assert tags_to_vad({}, entries).vad is None


def test_thesis_blacklist_and_bad_counts():
    assert (
        len(THESIS_BLACKLIST) == 16 and {"soundtrack", "blue", "contemporary"} <= THESIS_BLACKLIST
    )
    entries = {"sad": (0.225, 0.333, 0.149)}
    for count in (-1, float("nan"), "12", True):
        with pytest.raises(UserError, match=r"tag 'sad': count .* is not a number >= 0"):
            tags_to_vad([("sad", count)], entries)
    assert tags_to_vad([("sad", 2.5)], entries).vad == (0.225, 0.333, 0.149)


def test_warriner_vad_stays_on_its_scale(tmp_path):
    lexicon = read_lexicon(_lexicon(tmp_path, WARRINER_TEXT, "w.csv"))
    result = tags_to_vad({"aardvark": 1, "zorbly": 3}, lexicon)
    assert result.vad == pytest.approx(
        ((6.26 + 3) / 4, (2.41 + 27) / 4, (4.27 + 15) / 4), abs=1e-12
    )

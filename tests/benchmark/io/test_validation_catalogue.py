"""A catalogue of malformed prediction files: each must give exit code 2 and a precise message;
well-formed variants of the same predictions must score exactly like the clean file."""

from __future__ import annotations

import gzip
import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from benchmark.errors import BenchmarkError, InvalidSubmission
from benchmark.io import read_predictions, read_solution
from benchmark.tasks import get_task
from tests.benchmark.conftest import MER_GOOD, SER_GOOD


def _replace_line(text: str, line: int, new: str) -> str:
    lines = text.splitlines()
    lines[line] = new
    return "\n".join(lines) + "\n"


def _parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def _zip(text: str) -> bytes:
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w") as archive:
        archive.writestr("predictions.csv", text)
    return sink.getvalue()


MER_IDS = ["007", "a", "b", "c", "d", "e"]
# (case id, task, file name, content, expected fragments of the message)
CASES = [
    (
        "missing-id-column",
        "mer",
        "p.csv",
        "valence,arousal\n5,4\n",
        ["column 'id'", "missing column"],
    ),
    (
        "duplicate-column",
        "mer",
        "p.csv",
        MER_GOOD.replace("arousal\n", "arousal,valence\n", 1),
        ["column 'valence'", "appears 2 times"],
    ),
    (
        "unknown-column",
        "mer",
        "p.csv",
        "id,valence,arousal,fold\n" + "".join(f"{i},5,5,1\n" for i in MER_IDS),
        ["column 'fold'", "unknown column"],
    ),
    (
        "misspelled-column",
        "mer",
        "p.csv",
        MER_GOOD.replace("valence", "valance", 1),
        ["column 'valance'", "did you mean 'valence'"],
    ),
    (
        "missing-target",
        "mer",
        "p.csv",
        "id,valence\n" + "".join(f"{i},5\n" for i in MER_IDS),
        ["column 'arousal'", "missing column"],
    ),
    (
        "duplicate-id",
        "mer",
        "p.csv",
        MER_GOOD + "a,1,1\n",
        ["row 7, column 'id'", "duplicate id 'a' (first seen in row 2)"],
    ),
    (
        "missing-id",
        "mer",
        "p.csv",
        _replace_line(MER_GOOD, 6, ""),
        ["column 'id'", "'e' of the solution has no prediction"],
    ),
    (
        "extra-id",
        "mer",
        "p.csv",
        MER_GOOD.replace("\ne,", "\nz,"),
        ["row 6, column 'id'", "'z' is not in the solution"],
    ),
    (
        "empty-id",
        "mer",
        "p.csv",
        MER_GOOD.replace("\na,", "\n,"),
        ["row 2, column 'id'", "missing id"],
    ),
    (
        "empty-cell",
        "mer",
        "p.csv",
        MER_GOOD.replace("a,3.5,", "a,,"),
        ["row 2, column 'valence'", "empty cell"],
    ),
    (
        "nan",
        "mer",
        "p.csv",
        MER_GOOD.replace("a,3.5,", "a,nan,"),
        ["row 2, column 'valence'", "missing value 'nan'"],
    ),
    (
        "NaN-arousal",
        "mer",
        "p.csv",
        MER_GOOD.replace("9.0", "NaN"),
        ["row 4, column 'arousal'", "'NaN'"],
    ),
    (
        "inf",
        "mer",
        "p.csv",
        MER_GOOD.replace("7.25", "inf"),
        ["row 3, column 'valence'", "infinite value 'inf'"],
    ),
    (
        "minus-inf",
        "mer",
        "p.csv",
        MER_GOOD.replace("7.25", "-Infinity"),
        ["row 3, column 'valence'", "infinite"],
    ),
    (
        "NA-string",
        "mer",
        "p.csv",
        MER_GOOD.replace("7.25", "NA"),
        ["row 3, column 'valence'", "missing value 'NA'"],
    ),
    (
        "None-string",
        "mer",
        "p.csv",
        MER_GOOD.replace("7.25", "None"),
        ["row 3, column 'valence'", "'None'"],
    ),
    (
        "null-string",
        "mer",
        "p.csv",
        MER_GOOD.replace("7.25", "null"),
        ["row 3, column 'valence'", "'null'"],
    ),
    (
        "non-numeric",
        "mer",
        "p.csv",
        MER_GOOD.replace("7.25", "high"),
        ["row 3, column 'valence'", "not a number: 'high'"],
    ),
    (
        "decimal-comma",
        "mer",
        "p.csv",
        MER_GOOD.replace("7.25", '"7,25"'),
        ["row 3", "decimal separator"],
    ),
    (
        "padded-number",
        "mer",
        "p.csv",
        MER_GOOD.replace("7.25", " 7.25"),
        ["row 3, column 'valence'", "whitespace"],
    ),
    (
        "truncated-exponent",
        "mer",
        "p.csv",
        MER_GOOD.replace("7.25", "7e"),
        ["row 3, column 'valence'", "not a number: '7e'"],
    ),
    (
        "unknown-label",
        "ser",
        "p.csv",
        SER_GOOD.replace("a,happy", "a,joy"),
        ["row 2, column 'emotion'", "unknown label 'joy'", "code 1-8"],
    ),
    (
        "code-0",
        "ser",
        "p.csv",
        SER_GOOD.replace("a,happy", "a,0"),
        ["row 2, column 'emotion'", "unknown label '0'"],
    ),
    (
        "code-9",
        "ser",
        "p.csv",
        SER_GOOD.replace("b,sad", "b,9"),
        ["row 3, column 'emotion'", "unknown label '9'"],
    ),
    (
        "code-float",
        "ser",
        "p.csv",
        SER_GOOD.replace("b,sad", "b,4.0"),
        ["row 3, column 'emotion'", "'4.0'"],
    ),
    (
        "empty-label",
        "ser",
        "p.csv",
        SER_GOOD.replace("b,sad", "b,"),
        ["row 3, column 'emotion'", "empty cell"],
    ),
    (
        "padded-label",
        "ser",
        "p.csv",
        SER_GOOD.replace("b,sad", "b, sad"),
        ["row 3, column 'emotion'", "whitespace"],
    ),
    (
        "latin-1",
        "ser",
        "p.csv",
        SER_GOOD.replace("a,happy", "a,h\xe9ppy").encode("latin-1"),
        ["row 2", "line 3", "not valid UTF-8", "0xe9"],
    ),
    ("binary-garbage", "ser", "p.csv", bytes(range(256)) * 4, ["binary content"]),
    ("empty-file", "ser", "p.csv", b"", ["file is empty"]),
    ("whitespace-only", "ser", "p.csv", b"\n\n  \n", ["file is empty"]),
    ("header-only", "ser", "p.csv", "id,emotion\n", ["header but no data rows"]),
    ("zip", "ser", "p.zip", _zip(SER_GOOD), ["ZIP archive"]),
    ("zip-named-csv", "ser", "p.csv", _zip(SER_GOOD), ["ZIP archive"]),
    ("gzip", "ser", "p.csv.gz", gzip.compress(SER_GOOD.encode()), ["gzip"]),
    ("pickle", "ser", "p.pkl", pickle.dumps(pd.read_csv(io.StringIO(SER_GOOD))), ["pickle"]),
    (
        "parquet-int-ids",
        "mer",
        "p.parquet",
        _parquet(pa.table({"id": [7, 1, 2, 3, 4, 5], "valence": [5.0] * 6, "arousal": [5.0] * 6})),
        ["column 'id'", "type int64", "must be strings"],
    ),
    (
        "parquet-bool-values",
        "mer",
        "p.parquet",
        _parquet(pa.table({"id": MER_IDS, "valence": [True] * 6, "arousal": [5.0] * 6})),
        ["column 'valence'", "type bool", "expected numbers"],
    ),
    (
        "parquet-null-value",
        "mer",
        "p.parquet",
        _parquet(
            pa.table(
                {"id": MER_IDS, "valence": [5.0, 5.0, None, 5.0, 5.0, 5.0], "arousal": [5.0] * 6}
            )
        ),
        ["row 3, column 'valence'", "missing value"],
    ),
    (
        "parquet-nan-value",
        "mer",
        "p.parquet",
        _parquet(
            pa.table(
                {"id": MER_IDS, "valence": [5.0] * 6, "arousal": [5.0, np.inf, 5.0, 5.0, 5.0, 5.0]}
            )
        ),
        ["row 2, column 'arousal'", "not a finite number"],
    ),
    (
        "parquet-label-codes-out-of-range",
        "ser",
        "p.parquet",
        _parquet(pa.table({"id": MER_IDS, "emotion": [1, 3, 5, 3, 9, 4]})),
        ["row 5, column 'emotion'", "unknown label '9'"],
    ),
    ("csv-named-parquet", "mer", "p.parquet", MER_GOOD, ["not a Parquet file"]),
    (
        "corrupt-parquet",
        "mer",
        "p.parquet",
        b"PAR1" + bytes(200) + b"PAR1",
        ["not a readable Parquet file"],
    ),
    (
        "more-rows-than-solution",
        "mer",
        "p.csv",
        MER_GOOD + "x,1,1\ny,2,2\n",
        ["8 rows but the solution has 6 ids", "row 7, column 'id'", "'x' is not in the solution"],
    ),
    (
        "leading-zeros-dropped",
        "mer",
        "p.csv",
        MER_GOOD.replace("\n007,", "\n7,"),
        [
            "row 1, column 'id'",
            "'7' is not in the solution",
            "'007' of the solution has no prediction",
        ],
    ),
    (
        "whitespace-in-id",
        "mer",
        "p.csv",
        MER_GOOD.replace("\nb,", "\n b,"),
        ["row 3, column 'id'", "' b' has leading or trailing whitespace"],
    ),
    (
        "ragged-row",
        "mer",
        "p.csv",
        MER_GOOD.replace("b,7.25,2.0", "b,7.25,2.0,1"),
        ["row 3", "has 4 fields but the header has 3"],
    ),
    ("semicolons", "mer", "p.csv", MER_GOOD.replace(",", ";"), ["';'-separated"]),
    ("unterminated-quote", "mer", "p.csv", MER_GOOD + '"f,1,1\n', ["line", "CSV"]),
    # hostile inputs found by an audit (each crashed, blew up or misreported before)
    ("utf-16", "mer", "p.csv", MER_GOOD.encode("utf-16"), ["UTF-16", "save it as UTF-8"]),
    ("utf-16-no-bom", "mer", "p.csv", MER_GOOD.encode("utf-16-le"), ["UTF-16", "save it as UTF-8"]),
    (
        "overflowing-number",
        "mer",
        "p.csv",
        MER_GOOD.replace("7.25", "1e309"),
        ["row 3, column 'valence'", "'1e309' is out of range"],
    ),
    (
        "number-whose-square-overflows",
        "mer",
        "p.csv",
        MER_GOOD.replace("7.25", "-1e200"),
        ["row 3, column 'valence'", "'-1e200' is out of range"],
    ),
    (
        "header-field-over-csv-limit",
        "mer",
        "p.csv",
        "id,valence,arousal," + "x" * 200_000 + "\n",
        ["header line", "field larger than field limit"],
    ),
    (
        "huge-id-not-echoed",
        "mer",
        "p.csv",
        MER_GOOD.replace("\nb,", "\n" + "b" * 100_000 + ","),
        ["row 3, column 'id'", "(100,000 characters) is not in the solution"],
    ),
    (
        "parquet-duplicate-columns",
        "mer",
        "p.parquet",
        _parquet(
            pa.Table.from_arrays(
                [pa.array(MER_IDS), pa.array([5.0] * 6), pa.array([5.0] * 6), pa.array([5.0] * 6)],
                names=["id", "valence", "arousal", "valence"],
            )
        ),
        ["column 'valence'", "appears 2 times"],
    ),
    (
        "parquet-null-ids",
        "mer",
        "p.parquet",
        _parquet(
            pa.table(
                {
                    "id": pa.array([None] * 6, pa.string()),
                    "valence": [5.0] * 6,
                    "arousal": [5.0] * 6,
                }
            )
        ),
        ["row 1, column 'id': missing id", "no prediction"],
    ),
    (
        "parquet-int64-extreme-code",
        "ser",
        "p.parquet",
        _parquet(
            pa.table({"id": MER_IDS, "emotion": pa.array([2**63 - 1, 3, 5, 3, 8, 4], pa.int64())})
        ),
        ["row 1, column 'emotion'", "unknown label '9223372036854775807'"],
    ),
    (
        "parquet-far-more-rows-than-ids",
        "mer",
        "p.parquet",
        _parquet(
            pa.table(
                {
                    "id": [f"x{i}" for i in range(5000)],
                    "valence": [5.0] * 5000,
                    "arousal": [5.0] * 5000,
                }
            )
        ),
        ["the file has 5,000 rows but the solution has 6 ids"],
    ),
]


def _write(tmp_path: Path, name: str, content) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def test_catalogue_is_large_enough():
    assert len(CASES) >= 30
    assert len({case[0] for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_malformed_file_exits_2_with_precise_message(
    case, tmp_path, mer_solution, ser_solution, run_cli
):
    name, kind, file_name, content, fragments = case
    solution, task = (mer_solution, "misme-mer") if kind == "mer" else (ser_solution, "misme-ser")
    path = _write(tmp_path, file_name, content)
    code, out, err = run_cli("validate", path, "--solution", solution, "--task", task)
    assert code == 2
    assert "Traceback" not in err and out == ""
    assert "Warning" not in err and len(err) < 10_000  # no numpy noise, no echoed huge cell
    assert "None is not in the solution" not in err  # a missing id is reported once, as such
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in:\n{err}"
    code, out, _ = run_cli("score", path, "--solution", solution, "--task", task)
    assert code == 2 and out == ""


def test_oversized_file_is_refused(tmp_path, mer_solution, run_cli):
    path = _write(tmp_path, "p.csv", MER_GOOD)
    code, _, err = run_cli(
        "validate", path, "--solution", mer_solution, "--task", "misme-mer", "--max-bytes", 20
    )
    assert code == 2 and "over the size cap of 20 bytes" in err


def test_all_problems_are_listed_at_once(tmp_path, mer_solution):
    text = MER_GOOD.replace("7.25", "x").replace("9.0", "NA").replace("\ne,", "\nz,")
    path = _write(tmp_path, "p.csv", text)
    task = get_task("misme-mer")
    with pytest.raises(InvalidSubmission) as raised:
        read_predictions(path, read_solution(mer_solution, task), task)
    found = {(p.row, p.column) for p in raised.value.problems}
    assert {(3, "valence"), (4, "arousal"), (6, "id"), (None, "id")} <= found
    assert raised.value.total == 4


def test_problem_list_is_capped(tmp_path):
    n = 500
    solution = tmp_path / "s.csv"
    pd.DataFrame(
        {"id": [f"i{k}" for k in range(n)], "fold": 1, "valence": 5.0, "arousal": 5.0}
    ).to_csv(solution, index=False)
    path = _write(
        tmp_path, "p.csv", "id,valence,arousal\n" + "".join(f"i{k},bad,5\n" for k in range(n))
    )
    task = get_task("misme-mer")
    with pytest.raises(InvalidSubmission) as raised:
        read_predictions(path, read_solution(solution, task), task)
    assert raised.value.total == n
    assert len(raised.value.problems) < n
    assert f"and {n - len(raised.value.problems)} more" in str(raised.value)


# ---------------------------------------------------------------- valid variants


def _mer_frame() -> pd.DataFrame:
    return pd.read_csv(io.StringIO(MER_GOOD), dtype={"id": str})


VALID_MER = {
    "clean": MER_GOOD,
    "bom": b"\xef\xbb\xbf" + MER_GOOD.encode(),
    "crlf": MER_GOOD.replace("\n", "\r\n"),
    "quoted": "".join(
        ",".join(f'"{cell}"' for cell in line.split(",")) + "\n" for line in MER_GOOD.splitlines()
    ),
    "reordered": MER_GOOD.splitlines()[0]
    + "\n"
    + "\n".join(reversed(MER_GOOD.splitlines()[1:]))
    + "\n",
    "columns-reordered": _mer_frame()[["arousal", "id", "valence"]].to_csv(index=False),
    "no-final-newline": MER_GOOD.rstrip("\n"),
    "trailing-blank-lines": MER_GOOD + "\n\n",
    "number-formats": MER_GOOD.replace("7.25", "7.250").replace("1.0", "1").replace("2.0", "2e0"),
    "parquet": _parquet(pa.Table.from_pandas(_mer_frame(), preserve_index=False)),
    "parquet-float32": _parquet(
        pa.table(
            {
                "id": MER_IDS,
                "valence": pa.array(_mer_frame()["valence"], pa.float32()),
                "arousal": pa.array(_mer_frame()["arousal"], pa.float32()),
            }
        )
    ),
    "parquet-large-string": _parquet(
        pa.table(
            {
                "id": pa.array(MER_IDS, pa.large_string()),
                "valence": _mer_frame()["valence"],
                "arousal": _mer_frame()["arousal"],
            }
        )
    ),
    "quoted-multiline-free": MER_GOOD.replace("\na,", '\n"a",'),
    "cr-only-line-ends": MER_GOOD.replace("\n", "\r"),
    "parquet-row-groups": (
        lambda: (
            lambda sink: (
                pq.write_table(
                    pa.Table.from_pandas(_mer_frame(), preserve_index=False), sink, row_group_size=2
                ),
                sink.getvalue(),
            )[1]
        )(io.BytesIO())
    )(),
    "parquet-dictionary": _parquet(
        pa.table(
            {
                "id": pa.array(MER_IDS).dictionary_encode(),
                "valence": _mer_frame()["valence"],
                "arousal": _mer_frame()["arousal"],
            }
        )
    ),
}


@pytest.mark.parametrize("variant", list(VALID_MER))
def test_valid_variants_score_identically(variant, tmp_path, mer_solution, run_cli):
    reference = _write(tmp_path, "clean.csv", MER_GOOD)
    suffix = ".parquet" if variant.startswith("parquet") else ".csv"
    path = _write(tmp_path, f"variant{suffix}", VALID_MER[variant])
    scores = []
    for p in (reference, path):
        out_json = tmp_path / f"{p.stem}.json"
        code, _, err = run_cli(
            "score", p, "--solution", mer_solution, "--task", "misme-mer", "--json", out_json
        )
        assert code == 0, err
        scores.append(json.loads(out_json.read_text()))
    assert scores[0] == scores[1]


SER_VARIANTS = {
    "codes": "id,emotion\n007,1\na,3\nb,4\nc,3\nd,8\ne,4\n",
    "upper-case": SER_GOOD.upper()
    .replace("ID,EMOTION", "id,emotion")
    .replace("\nA,", "\na,")
    .replace("\nB,", "\nb,")
    .replace("\nC,", "\nc,")
    .replace("\nD,", "\nd,")
    .replace("\nE,", "\ne,"),
    "mixed": "id,emotion\n007,1\na,happy\nb,4\nc,Happy\nd,surprised\ne,4\n",
    "parquet-codes": _parquet(pa.table({"id": MER_IDS, "emotion": [1, 3, 4, 3, 8, 4]})),
}


@pytest.mark.parametrize("variant", list(SER_VARIANTS))
def test_label_codes_and_names_are_equivalent(variant, tmp_path, ser_solution):
    task = get_task("misme-ser")
    solution = read_solution(ser_solution, task)
    suffix = ".parquet" if variant.startswith("parquet") else ".csv"
    clean = read_predictions(_write(tmp_path, "clean.csv", SER_GOOD), solution, task)
    other = read_predictions(_write(tmp_path, f"v{suffix}", SER_VARIANTS[variant]), solution, task)
    pd.testing.assert_frame_equal(clean, other)


def test_ids_stay_strings(tmp_path, mer_solution):
    task = get_task("misme-mer")
    solution = read_solution(mer_solution, task)
    frame = read_predictions(_write(tmp_path, "p.csv", MER_GOOD), solution, task)
    assert frame["id"].tolist() == ["007", "a", "b", "c", "d", "e"]


def test_reordered_rows_are_aligned_to_the_solution(tmp_path, mer_solution):
    task = get_task("misme-mer")
    solution = read_solution(mer_solution, task)
    frame = read_predictions(_write(tmp_path, "p.csv", VALID_MER["reordered"]), solution, task)
    assert frame["id"].tolist() == solution["id"].tolist()
    assert frame.loc[frame["id"] == "b", "valence"].item() == 7.25


# ---------------------------------------------------------------- hostile inputs (audit)


def test_parquet_bombs_are_refused_before_decoding(tmp_path, mer_solution):
    """A small Parquet file must not expand past the size cap in memory."""
    task = get_task("misme-mer")
    solution = read_solution(mer_solution, task)
    big = "x" * 400_000
    repeated = pa.DictionaryArray.from_arrays(pa.array([0] * 6, pa.int32()), pa.array([big]))
    for name, ids, fragment in (
        ("dictionary", repeated, "once decoded, over the size cap"),
        ("compressed", pa.array([big] + MER_IDS[1:]), "uncompressed, over the size cap"),
    ):
        path = tmp_path / f"{name}.parquet"
        pq.write_table(
            pa.table({"id": ids, "valence": [5.0] * 6, "arousal": [5.0] * 6}),
            path,
            compression="zstd",
        )
        assert path.stat().st_size < 100_000
        with pytest.raises(InvalidSubmission) as raised:
            read_predictions(
                path, solution, task, max_bytes=1_000_000 if name == "dictionary" else 300_000
            )
        assert fragment in str(raised.value), str(raised.value)


def test_parquet_integers_beyond_float_precision_do_not_crash(tmp_path, mer_solution):
    task = get_task("misme-mer")
    path = tmp_path / "p.parquet"
    pq.write_table(
        pa.table(
            {"id": MER_IDS, "valence": pa.array([2**64 - 1] * 6, pa.uint64()), "arousal": [5.0] * 6}
        ),
        path,
    )
    frame = read_predictions(path, read_solution(mer_solution, task), task)
    assert frame["valence"].iloc[0] == float(2**64 - 1)


def test_solution_with_absurd_fold_is_refused(tmp_path):
    solution = tmp_path / "s.csv"
    solution.write_text("id,fold,valence,arousal\na,1e50,5,5\nb,1,5,5\n")
    with pytest.raises(BenchmarkError, match="folds must be whole numbers"):
        read_solution(solution, get_task("misme-mer"))


def test_directory_is_named_as_such(tmp_path, mer_solution, run_cli):
    code, _, err = run_cli("validate", tmp_path, "--solution", mer_solution, "--task", "misme-mer")
    assert code == 2 and "is a directory, not a file" in err

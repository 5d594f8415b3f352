"""The JSON Lines call cache: exact line shape, order-free lookups, strict reading, safe appends."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

from builders.common.call_cache import CallCache, TornLineWarning, cache_line, write_call_cache
from builders.errors import UserError

CALLS = [
    ("track.getTopTags", {"artist": "A", "track": "T"}, {"toptags": {"tag": []}}),
    ("tag.getTopTracks", {"tag": "soundtrack", "page": 1}, {"tracks": {"track": []}}),
    ("search", {"q": "track:x artist:é", "type": "track", "limit": 10}, {"tracks": {"items": []}}),
    ("audio_features", {"ids": "abc"}, {"audio_features": [None]}),
]


def _write_lines(path: Path, lines: list[str], end: str = "\n") -> Path:
    path.write_text("".join(line + "\n" for line in lines[:-1]) + lines[-1] + end, "utf-8")
    return path


def _record_all(path: Path) -> CallCache:
    cache = CallCache(path)
    for method, params, response in CALLS:
        cache.record(method, params, response)
    return cache


def test_record_writes_one_line_per_call_in_the_documented_shape(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    _record_all(path)
    lines = path.read_text("utf-8").splitlines()
    assert len(lines) == len(CALLS)
    for line, (method, params, response) in zip(lines, CALLS):
        record = json.loads(line)
        assert list(record) == ["method", "params", "response"]
        assert record == {"method": method, "params": params, "response": response}
        assert list(record["params"]) == sorted(params)
    assert path.read_bytes().endswith(b"\n")


def test_replay_gives_the_recorded_answers_whatever_the_key_order(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    _record_all(path)
    cache = CallCache(path)
    assert len(cache) == len(CALLS)
    for method, params, response in CALLS:
        reordered = dict(reversed(list(params.items())))
        assert cache.has(method, reordered)
        assert cache.get(method, reordered) == response
    assert not cache.has("search", {"q": "other", "type": "track", "limit": 10})
    with pytest.raises(KeyError):
        cache.get("track.getTopTags", {"artist": "A", "track": "other"})


def test_answers_do_not_depend_on_line_order(tmp_path: Path) -> None:
    lines = [cache_line(*call).decode("utf-8").rstrip("\n") for call in CALLS]
    lines.append(lines[0])  # a repeated identical call is fine
    shuffled = lines[:]
    random.Random(7).shuffle(shuffled)
    first = CallCache(_write_lines(tmp_path / "a.jsonl", lines))
    second = CallCache(_write_lines(tmp_path / "b.jsonl", shuffled))
    for method, params, _ in CALLS:
        assert first.get(method, params) == second.get(method, params)


def test_a_missing_file_is_an_empty_cache_created_by_the_first_record(tmp_path: Path) -> None:
    path = tmp_path / "new.jsonl"
    cache = CallCache(path)
    assert len(cache) == 0 and not path.exists()
    cache.record(*CALLS[0])
    assert CallCache(path).get(CALLS[0][0], CALLS[0][1]) == CALLS[0][2]


def test_get_returns_a_copy(tmp_path: Path) -> None:
    cache = _record_all(tmp_path / "calls.jsonl")
    answer = cache.get(CALLS[0][0], CALLS[0][1])
    answer["toptags"]["tag"].append("changed")
    assert cache.get(CALLS[0][0], CALLS[0][1]) == CALLS[0][2]


def test_the_same_call_with_different_responses_names_both_lines(tmp_path: Path) -> None:
    lines = [cache_line(*call).decode("utf-8").rstrip("\n") for call in CALLS]
    method, params, _ = CALLS[1]
    lines.append(cache_line(method, params, {"tracks": {"track": ["x"]}}).decode().rstrip("\n"))
    path = _write_lines(tmp_path / "calls.jsonl", lines)
    with pytest.raises(UserError, match=r"calls\.jsonl: line 2 and line 5 give tag\.getTopTracks"):
        CallCache(path)


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ('{"method": "search", "params": {', "not JSON"),
        ("[1, 2, 3]", "exactly the keys"),
        ('{"method": "search", "params": {}}', "exactly the keys"),
        ('{"method": "search", "params": {}, "response": 1, "extra": 2}', "exactly the keys"),
        ('{"method": 3, "params": {}, "response": 1}', '"method" is not'),
        ('{"method": "", "params": {}, "response": 1}', '"method" is not'),
        ('{"method": "search", "params": [1], "response": 1}', '"params" is not'),
        ('{"method": "search", "params": {}, "response": NaN}', "not JSON"),
    ],
)
def test_a_corrupt_line_is_a_user_error_with_its_line_number(
    tmp_path: Path, bad: str, why: str
) -> None:
    good = [cache_line(*call).decode().rstrip("\n") for call in CALLS[:2]]
    path = _write_lines(tmp_path / "calls.jsonl", [good[0], bad, good[1]])
    with pytest.raises(UserError, match=r"calls\.jsonl, line 2: corrupt call cache line") as error:
        CallCache(path)
    assert why in str(error.value)
    assert "\n" not in str(error.value)


def test_a_line_that_is_not_utf8_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    path.write_bytes(cache_line(*CALLS[0]) + b'{"method": "\xff"}\n')
    with pytest.raises(UserError, match=r"line 2: corrupt call cache line: not UTF-8"):
        CallCache(path)


def test_blank_lines_are_allowed(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    path.write_bytes(b"\n" + cache_line(*CALLS[0]) + b"  \n")
    assert len(CallCache(path)) == 1


def _torn_cache(path: Path) -> bytes:
    complete = cache_line(*CALLS[0]) + cache_line(*CALLS[1])
    path.write_bytes(complete + cache_line(*CALLS[2])[:25])  # an append cut short
    return complete


def test_a_torn_last_line_is_ignored_with_a_warning_and_left_alone_when_reading(
    tmp_path: Path,
) -> None:
    path = tmp_path / "calls.jsonl"
    _torn_cache(path)
    before = path.read_bytes()
    with pytest.warns(TornLineWarning, match=r"calls\.jsonl, line 3: incomplete last line"):
        cache = CallCache(path)
    assert cache.torn_line == 3
    assert len(cache) == 2
    assert cache.get(CALLS[1][0], CALLS[1][1]) == CALLS[1][2]
    assert not cache.has(CALLS[2][0], CALLS[2][1])
    assert path.read_bytes() == before


def test_the_first_append_after_a_torn_line_cuts_the_fragment_off(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    complete = _torn_cache(path)
    with pytest.warns(TornLineWarning):
        cache = CallCache(path)
    cache.record(*CALLS[2])
    cache.record(*CALLS[3])
    assert path.read_bytes() == complete + cache_line(*CALLS[2]) + cache_line(*CALLS[3])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the file is whole again: no TornLineWarning
        reread = CallCache(path)
    assert reread.torn_line is None
    assert len(reread) == 4


def test_a_torn_fragment_is_not_cut_if_the_file_changed_meanwhile(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    _torn_cache(path)
    with pytest.warns(TornLineWarning):
        cache = CallCache(path)
    with open(path, "ab") as handle:
        handle.write(b"more")
    changed = path.read_bytes()
    with pytest.raises(UserError, match="changed while in use"):
        cache.record(*CALLS[2])
    assert path.read_bytes() == changed


def test_a_complete_last_line_without_its_line_feed_is_used(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    path.write_bytes(cache_line(*CALLS[0]) + cache_line(*CALLS[1]).rstrip(b"\n"))
    cache = CallCache(path)
    assert cache.torn_line is None and len(cache) == 2
    cache.record(*CALLS[2])
    assert path.read_bytes() == b"".join(cache_line(*call) for call in CALLS[:3])


def test_recording_a_known_call_again(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    cache = _record_all(path)
    before = path.read_bytes()
    cache.record(*CALLS[0])
    assert path.read_bytes() == before
    with pytest.raises(UserError, match=r"line 1 and the new answer give track\.getTopTags"):
        cache.record(CALLS[0][0], CALLS[0][1], {"toptags": {"tag": ["other"]}})
    assert path.read_bytes() == before


def test_a_value_that_is_not_json_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    cache = _record_all(path)
    before = path.read_bytes()
    with pytest.raises(UserError, match="cannot record search"):
        cache.record("search", {"q": "x"}, {"value": float("nan")})
    with pytest.raises(UserError, match="cannot record search"):
        cache.record("search", {"q": object()}, {})
    assert path.read_bytes() == before


def test_a_short_write_is_undone(tmp_path: Path) -> None:
    """Under a file-size limit the append writes part of its line: it must be cut off again."""
    path = tmp_path / "calls.jsonl"
    _record_all(path)
    before = path.read_bytes()
    script = textwrap.dedent(
        f"""
        import resource, signal
        from builders.common.call_cache import CallCache
        from builders.errors import UserError
        cache = CallCache({str(path)!r})
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, ({len(before) + 10}, resource.RLIM_INFINITY))
        try:
            cache.record("search", {{"q": "long"}}, {{"text": "x" * 1000}})
        except UserError as error:
            print("USERERROR", error)
        """
    )
    done = subprocess.run(
        [sys.executable, "-B", "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert done.stdout.startswith("USERERROR cannot append to the call cache"), done.stderr
    assert "only 10 of" in done.stdout
    assert path.read_bytes() == before


def test_write_call_cache_writes_the_whole_file_or_nothing(tmp_path: Path) -> None:
    path = tmp_path / "demo.jsonl"
    assert write_call_cache(path, CALLS + CALLS[:1]) == len(CALLS)
    assert path.read_bytes() == b"".join(cache_line(*call) for call in CALLS)
    before = path.read_bytes()
    conflicting = CALLS + [(CALLS[0][0], CALLS[0][1], {"other": 1})]
    with pytest.raises(UserError, match="two different responses"):
        write_call_cache(path, conflicting)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.jsonl"]


def _is_error(method: str, response: object) -> bool:
    return isinstance(response, dict) and "error" in response


def test_a_recorded_non_answer_is_not_an_answer_and_a_later_answer_is_no_conflict(
    tmp_path: Path,
) -> None:
    method, params, answer = CALLS[0]
    path = tmp_path / "calls.jsonl"
    path.write_bytes(cache_line(method, params, {"error": 29, "message": "Rate limit"}))
    cache = CallCache(path, _is_error)
    assert not cache.has(method, params) and cache.line_of(method, params) is None
    assert cache.non_answer(method, params) == (1, {"error": 29, "message": "Rate limit"})
    cache.record(method, params, answer)
    for reread in (cache, CallCache(path, _is_error)):
        assert reread.get(method, params) == answer and reread.line_of(method, params) == 2
        assert reread.non_answer(method, params) is None
    with pytest.raises(UserError, match="different responses"):
        CallCache(path)  # without the predicate the two lines are a conflict, as before

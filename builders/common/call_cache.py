"""A JSON Lines record/replay cache of web-API calls (Spotify, Last.fm).

A build that talks to a web API must be repeatable without the network: every answer is
recorded on disk, and a rebuild replays it. The cache is a UTF-8 JSON Lines file, one call a
line, exactly this shape::

    {"method": "track.getTopTags", "params": {"artist": "A", "track": "T"}, "response": {...}}

``method`` is a non-empty string (``tag.getTopTracks``, ``search``, ``audio_features``...),
``params`` a JSON object (the call's arguments, never credentials) and ``response`` the raw
JSON the API answered. A call is looked up by ``(method, canonical params)``, the params
serialised with sorted keys, so neither key order nor line order changes an answer.

Reading is strict. A line that is not JSON, or not this shape, is a :class:`UserError`
naming the file and line number. The same call recorded twice with the same response is
fine (two runs may both have made it); with different responses it is an error naming both
lines, since which one is true cannot be decided.

Writing never damages what is there. Each new call is one complete line (ending in a line
feed) written with a single ``os.write`` on an ``O_APPEND`` descriptor and fsynced, so the
file only grows by whole lines. Should a write come up short (disk full, file size limit),
the partial line is cut off again before the error is raised.

Torn last line (decision): a run killed by a power cut may leave a final line without its
line feed. If that fragment parses as a complete, well-shaped record (a hand-edited file
without a final newline) it is used. Otherwise it is an interrupted append: it is ignored
with a :class:`TornLineWarning` naming the file and line (its call counts as not recorded,
so it is made again when credentials allow, else reported as missing), the file is left as
it is while only reading, and the first append cuts the fragment off before writing. A
malformed line anywhere else is never ignored: only an unterminated last line can come from
an interrupted append.

Answers and non-answers (decision): an API may answer a call with an error that says
nothing about the thing asked (Last.fm's rate limit, error 29). A cache made with a
``not_an_answer(method, response)`` predicate holds such a recorded response apart: the
call counts as not recorded (:meth:`CallCache.has` is False, so it is asked again when a
key allows), :meth:`CallCache.non_answer` gives it for reporting, and a real answer
recorded later for the same call is no conflict with it.
"""

from __future__ import annotations

import copy
import json
import os
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from builders.errors import UserError

_KEYS = ("method", "params", "response")


class TornLineWarning(UserWarning):
    """The cache ends with an incomplete line left by an interrupted append; it was ignored."""


@dataclass(frozen=True)
class _Entry:
    line: int
    response: Any


def call_key(method: str, params: Mapping[str, Any]) -> str:
    """The lookup key of a call: the method and its params as canonical JSON (sorted keys)."""
    return json.dumps([method, params], sort_keys=True, ensure_ascii=False, allow_nan=False)


def cache_line(method: str, params: Mapping[str, Any], response: Any) -> bytes:
    """One cache record as the bytes of one complete line (params with sorted keys).

    Raises ``ValueError`` if a value is not JSON (NaN, infinity, a non-JSON type).
    """
    record = {"method": method, "params": dict(sorted(params.items())), "response": response}
    text = json.dumps(record, ensure_ascii=False, allow_nan=False, separators=(", ", ": "))
    return (text + "\n").encode("utf-8")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse_record(raw: bytes) -> tuple[str, dict[str, Any], Any]:
    """``(method, params, response)`` of one line; ``ValueError`` saying what is wrong."""
    try:
        record = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError as error:
        raise ValueError("not UTF-8") from error
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON ({error.msg})") from error
    if not isinstance(record, dict) or sorted(record) != sorted(_KEYS):
        raise ValueError('not an object with exactly the keys "method", "params", "response"')
    method, params = record["method"], record["params"]
    if not isinstance(method, str) or not method:
        raise ValueError('"method" is not a non-empty string')
    if not isinstance(params, dict):
        raise ValueError('"params" is not an object')
    return method, params, record["response"]


class CallCache:
    """The recorded calls of one cache file, for lookups and atomic appends.

    ``CallCache(path)`` reads the file (a missing file is an empty cache; it is created by
    the first :meth:`record`). :meth:`get` returns a recorded response, :meth:`record`
    appends a new call. One writer at a time is assumed; concurrent appenders still only
    add whole lines.
    """

    def __init__(
        self, path: Path | str, not_an_answer: Callable[[str, Any], bool] | None = None
    ) -> None:
        self.path = Path(path)
        self._not_an_answer = not_an_answer or (lambda method, response: False)
        self._entries: dict[str, _Entry] = {}
        self._non_answers: dict[str, _Entry] = {}
        self._size = 0
        self._lines = 0
        self._torn_at: int | None = None  # byte offset of an ignored torn last line
        self._needs_newline = False  # last record complete but without its line feed
        self.torn_line: int | None = None
        """Line number of an ignored torn last line, if the file had one."""
        self._load()

    def __len__(self) -> int:
        return len(self._entries)

    def has(self, method: str, params: Mapping[str, Any]) -> bool:
        """Whether the call is recorded."""
        return call_key(method, params) in self._entries

    def get(self, method: str, params: Mapping[str, Any]) -> Any:
        """The recorded response of the call (a copy), or ``KeyError`` if it was not recorded."""
        return copy.deepcopy(self._entries[call_key(method, params)].response)

    def line_of(self, method: str, params: Mapping[str, Any]) -> int | None:
        """The line number the call's answer is recorded on (None if it is not recorded)."""
        entry = self._entries.get(call_key(method, params))
        return None if entry is None else entry.line

    def non_answer(self, method: str, params: Mapping[str, Any]) -> tuple[int, Any] | None:
        """``(line, response)`` of a recorded non-answer of a call that has no answer, or None."""
        key = call_key(method, params)
        entry = None if key in self._entries else self._non_answers.get(key)
        return None if entry is None else (entry.line, copy.deepcopy(entry.response))

    def record(self, method: str, params: Mapping[str, Any], response: Any) -> None:
        """Append the call as one complete line (a no-op if the same answer is recorded).

        UserError if the call is recorded with another response, if a value is not JSON, or
        if the file cannot be appended to (nothing partial is left behind).
        """
        try:
            line = cache_line(method, params, response)
            key = call_key(method, params)
        except (TypeError, ValueError) as error:
            raise UserError(f"{self.path}: cannot record {method} {params}: {error}") from None
        if key in self._entries:
            self._check_same(key, response, "the new answer")
            return
        self._append(line)
        self._lines += 1
        held = self._non_answers if self._not_an_answer(method, response) else self._entries
        held[key] = _Entry(self._lines, copy.deepcopy(response))

    def _load(self) -> None:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as error:
            raise UserError(f"cannot read the call cache {self.path}: {error}") from None
        self._size = len(data)
        lines = data.split(b"\n")
        tail = lines.pop()  # b"" when the file ends with a line feed
        for number, raw in enumerate(lines, start=1):
            self._add_line(number, raw)
        self._lines = len(lines)
        if tail.strip():
            self._load_tail(tail)

    def _load_tail(self, tail: bytes) -> None:
        number = self._lines + 1
        try:
            _parse_record(tail)
        except ValueError:
            self._torn_at = self._size - len(tail)
            self.torn_line = number
            warnings.warn(
                f"{self.path}, line {number}: incomplete last line (an interrupted append) "
                "ignored; its call counts as not recorded",
                TornLineWarning,
                stacklevel=3,
            )
            return
        self._add_line(number, tail)
        self._lines = number
        self._needs_newline = True

    def _add_line(self, number: int, raw: bytes) -> None:
        if not raw.strip():
            return
        try:
            method, params, response = _parse_record(raw)
        except ValueError as error:
            raise UserError(
                f"{self.path}, line {number}: corrupt call cache line: {error}"
            ) from None
        key = call_key(method, params)
        if self._not_an_answer(method, response):
            self._non_answers.setdefault(key, _Entry(number, response))
        elif key in self._entries:
            self._check_same(key, response, f"line {number}")
        else:
            self._entries[key] = _Entry(number, response)

    def _check_same(self, key: str, response: Any, other: str) -> None:
        entry = self._entries[key]
        if _canonical(entry.response) != _canonical(response):
            method, params = json.loads(key)
            raise UserError(
                f"{self.path}: line {entry.line} and {other} give {method} {params} "
                "different responses; delete the wrong line"
            )

    def _append(self, line: bytes) -> None:
        created = not self.path.exists()
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as error:
            raise UserError(f"cannot write the call cache {self.path}: {error}") from None
        try:
            self._repair_tail(fd)
            _write_whole(fd, b"\n" + line if self._needs_newline else line, self.path)
            self._needs_newline = False
        finally:
            os.close(fd)
        if created:
            _fsync_folder(self.path.parent)

    def _repair_tail(self, fd: int) -> None:
        """Cut off the ignored torn fragment, if the file is still as it was read."""
        if self._torn_at is None:
            return
        if os.fstat(fd).st_size != self._size:
            raise UserError(f"{self.path} changed while in use; run again")
        os.ftruncate(fd, self._torn_at)
        os.fsync(fd)
        self._torn_at = None


def _write_whole(fd: int, data: bytes, path: Path) -> None:
    """Write ``data`` with one ``os.write`` and fsync; undo a short write and raise."""
    before = os.fstat(fd).st_size
    try:
        written = os.write(fd, data)
    except OSError as error:
        written, problem = -1, str(error)
    else:
        problem = f"only {written} of {len(data)} bytes written"
    if written != len(data):
        if written > 0:
            os.ftruncate(fd, before)
        raise UserError(f"cannot append to the call cache {path}: {problem}")
    os.fsync(fd)


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False)


def write_call_cache(path: Path | str, calls: Iterable[tuple[str, Mapping[str, Any], Any]]) -> int:
    """Write a whole cache file of ``(method, params, response)`` calls; the number written.

    The file is written to a temporary sibling and renamed into place, so it is either the
    complete new cache or untouched. Repeated calls are written once; the same call with two
    different responses is a UserError.
    """
    target = Path(path)
    seen: dict[str, str] = {}
    lines: list[bytes] = []
    for method, params, response in calls:
        key, answer = call_key(method, params), _canonical(response)
        if key in seen:
            if seen[key] != answer:
                raise UserError(f"{target}: {method} {dict(params)} given two different responses")
            continue
        seen[key] = answer
        lines.append(cache_line(method, params, response))
    temporary = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        with open(temporary, "wb") as handle:
            handle.write(b"".join(lines))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise UserError(f"cannot write the call cache {target}: {error}") from None
    return len(lines)

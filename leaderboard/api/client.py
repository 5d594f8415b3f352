"""The participant's client of the API: `misme-leaderboard submit|status|mine|select|board
--url URL`. It needs no config and no database, only the server's address and the team
token (``--token`` or the environment variable :data:`TOKEN_ENV`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import requests

from leaderboard.errors import LeaderboardError

TOKEN_ENV = "MISME_TOKEN"
TIMEOUT_S = (10, 600)  # connect, read: a submission answers once it is scored


class Client:
    """Calls to one server; every refusal becomes a LeaderboardError with the server's words."""

    def __init__(self, url: str, token: str | None = None):
        if not url.startswith(("http://", "https://")):
            raise LeaderboardError(
                f"--url {url!r} is not a web address: give the server's, e.g. http://HOST:PORT"
            )
        self.base = url.rstrip("/") + "/api/v1"
        self.token = token

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            answer = requests.request(
                method, self.base + path, headers=headers, timeout=TIMEOUT_S, **kwargs
            )
        except requests.RequestException as error:
            raise LeaderboardError(f"cannot reach {self.base}: {type(error).__name__}") from None
        if answer.status_code >= 400:
            raise LeaderboardError(_error_text(answer))
        return answer

    def challenge(self) -> dict:
        return self._call("GET", "/challenge").json()

    def submit(self, path: Path, task: str, phase: str | None = None, note: str = "") -> dict:
        fields = {"task": task, "note": note, **({"phase": phase} if phase else {})}
        try:
            handle = path.open("rb")
        except OSError as error:
            raise LeaderboardError(f"cannot read {path}: {error.strerror or error}") from None
        with handle:
            return self._call(
                "POST", "/submissions", data=fields, files={"file": (path.name, handle)}
            ).json()

    def status(self, submission_id: int) -> dict:
        return self._call("GET", f"/submissions/{submission_id}").json()

    def mine(self, task: str | None = None, phase: str | None = None) -> list[dict]:
        params = {k: v for k, v in (("task", task), ("phase", phase)) if v}
        return self._call("GET", "/submissions", params=params).json()

    def select(self, submission_id: int, unselect: bool = False) -> dict:
        method = "DELETE" if unselect else "PUT"
        return self._call(method, f"/submissions/{submission_id}/selection").json()

    def board(self, task: str, phase: str | None = None, fmt: str = "csv") -> str:
        params = {"format": fmt, **({"phase": phase} if phase else {})}
        return self._call("GET", f"/board/{task}", params=params).text


def _error_text(answer: requests.Response) -> str:
    try:
        return str(answer.json()["error"])
    except (ValueError, KeyError, TypeError):
        return f"the server answered {answer.status_code} {answer.reason}"


def token_from(given: str | None, environ: dict[str, str] | None = None) -> str:
    token = given or (environ if environ is not None else os.environ).get(TOKEN_ENV, "")
    if not token.strip():
        raise LeaderboardError(f"no team token: pass --token or set {TOKEN_ENV}")
    return token.strip()


def run(args) -> int:
    """One client command of `misme-leaderboard` (the arguments say which)."""
    if args.command == "board":
        return _board(args)
    client = Client(args.url, token_from(args.token))
    if args.command == "submit":
        return _print_submission(client.submit(args.predictions, args.task, args.phase, args.note))
    if args.command == "status":
        return print_record(client.status(args.submission))
    if args.command == "mine":
        for record in client.mine(args.task, args.phase):
            print_record(record)
        return 0
    record = client.select(args.submission, unselect=args.unselect)
    what = "selected" if record["selected"] else "no longer selected"
    print(f"submission {record['id']} {what} for {record['task']} / {record['phase']}")
    return 0


def _board(args) -> int:
    text = Client(args.url).board(args.task, args.phase, args.format)
    if args.out is None:
        sys.stdout.write(text)
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(f"{args.format} board of {args.task} written to {args.out}", file=sys.stderr)
    return 0


def _print_submission(outcome: dict) -> int:
    print(f"submission {outcome['id']}: {outcome['status']}")
    for name, value in sorted(outcome["public_scores"].items()):
        print(f"  {name} (public ids) = {value:.6g}")
    if outcome["status"] != "scored":
        print(outcome["message"], file=sys.stderr)
    elif warning := outcome["message"].partition("; warning: ")[2]:
        print(f"warning: {warning}", file=sys.stderr)
    if quota := outcome.get("quota_left"):
        print(f"quota left: today {_left(quota['today'])}, total {_left(quota['total'])}")
    return 0 if outcome["status"] == "scored" else 2


def print_record(record: dict) -> int:
    """A submission as a few lines of text (with its team when the record names one)."""
    team = f"team {record['team']}: " if "team" in record else ""
    head = (
        f"{team}submission {record['id']}: {record['status']}  {record['task']} / {record['phase']}"
        f"  {record['submitted']}  {record['file_name']}  sha256 {record['file_sha256'][:12]}"
        + ("  [selected]" if record["selected"] else "")
    )
    print(head)
    for subset, metrics in sorted(record["scores"].items()):
        shown = ", ".join(f"{name} = {value:.6g}" for name, value in sorted(metrics.items()))
        print(f"  {subset} ids: {shown}")
    if record["note"]:
        print(f"  note: {record['note']}")
    if record["message"] and record["status"] != "scored":
        print("  " + record["message"].replace("\n", "\n  "))
    return 0


def _left(value: int | None) -> str:
    return "unlimited" if value is None else str(value)

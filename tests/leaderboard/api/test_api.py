"""The participant API against a real uvicorn server on 127.0.0.1, with real HTTP clients:
the command-line client (no config, no database), requests, and a raw socket."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests

from tests.leaderboard.api.conftest import (
    REPOSITORY,
    Api,
    free_port,
    serving,
    start_server,
    stop_server,
)
from tests.leaderboard.conftest import ser_predictions

SUBMISSIONS = "/api/v1/submissions"


def client(api_url: str, *args: str, token: str | None, cwd: Path) -> subprocess.CompletedProcess:
    """`misme-leaderboard ... --url URL` as a participant runs it: no config, the token in
    MISME_TOKEN, in a folder that holds nothing of the challenge."""
    env = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    env.pop("MISME_TOKEN", None)
    if token is not None:
        env["MISME_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "leaderboard.cli", *args, "--url", api_url],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


@pytest.mark.slow
def test_a_participant_submits_polls_lists_selects_and_downloads(api: Api, tmp_path: Path) -> None:
    home = tmp_path / "participant"
    home.mkdir()
    token = api.tokens["Team A"]
    predictions = ser_predictions(home / "mine.csv", 36)
    sent = client(api.url, "submit", "mine.csv", "--task", "misme-ser", token=token, cwd=home)
    assert sent.returncode == 0, sent.stderr
    number = int(sent.stdout.split(":")[0].split()[-1])
    assert f"submission {number}: scored" in sent.stdout
    assert "accuracy (public ids) =" in sent.stdout
    assert "quota left: today 2" in sent.stdout

    polled = client(api.url, "status", str(number), token=token, cwd=home)
    assert polled.returncode == 0 and f"submission {number}: scored" in polled.stdout
    listed = client(api.url, "mine", token=token, cwd=home)
    assert "mine.csv" in listed.stdout and "[selected]" not in listed.stdout
    chosen = client(api.url, "select", str(number), token=token, cwd=home)
    assert chosen.stdout.strip() == f"submission {number} selected for misme-ser / dev"
    assert "[selected]" in client(api.url, "status", str(number), token=token, cwd=home).stdout

    board = client(
        api.url, "board", "--task", "misme-ser", "--out", "board.csv", token=None, cwd=home
    )
    assert board.returncode == 0, board.stderr
    rows = list(csv.DictReader((home / "board.csv").open(encoding="utf-8")))
    ours = [(r["team"], r["submission"]) for r in rows if r["team"] == api.names["Team A"]]
    assert ours == [(api.names["Team A"], str(number))]

    stored = api.stored()
    assert [(s.id, s.status, s.selected) for s in stored] == [(number, "scored", True)]
    assert stored[0].file_name == "mine.csv"
    assert stored[0].file_sha256 == hashlib.sha256(predictions.read_bytes()).hexdigest()
    unselected = client(api.url, "select", str(number), "--unselect", token=token, cwd=home)
    assert (
        unselected.stdout.strip() == f"submission {number} no longer selected for misme-ser / dev"
    )


def test_the_board_as_json_and_the_challenge_format(api: Api, tmp_path: Path) -> None:
    with ser_predictions(tmp_path / "p.csv", 40).open("rb") as handle:
        requests.post(
            api.url + SUBMISSIONS,
            headers=api.headers("Team B"),
            data={"task": "misme-ser", "note": "secret idea"},
            files={"file": ("p.csv", handle)},
            timeout=120,
        ).raise_for_status()
    board = requests.get(api.url + "/api/v1/board/misme-ser?format=json", timeout=30).json()
    assert api.names["Team B"] in [row["team"] for row in board["rows"]]
    assert board["primary_metric"] == "accuracy" and board["final"] is False
    assert "secret idea" not in json.dumps(board)  # notes are the team's own
    challenge = requests.get(api.url + "/api/v1/challenge", timeout=30).json()
    ser = next(t for t in challenge["tasks"] if t["name"] == "misme-ser")
    assert ser["format"]["columns"] == ["id", "emotion"]
    assert {p["name"]: p["status"] for p in challenge["phases"]} == {
        "pilot": "ended",
        "dev": "open",
        "test": "upcoming",
    }
    assert challenge["max_file_bytes"] == 1_000_000
    openapi = requests.get(api.url + "/api/v1/openapi.json", timeout=30).json()
    assert "/api/v1/submissions" in openapi["paths"]


def _post(api: Api, team: str, path: Path, **fields: str) -> requests.Response:
    with path.open("rb") as handle:
        return requests.post(
            api.url + SUBMISSIONS,
            headers=api.headers(team) if team else {},
            data={"task": "misme-ser", **fields},
            files={"file": (path.name, handle)},
            timeout=120,
        )


def test_eight_concurrent_clients_against_a_quota_of_three_store_three(
    api: Api, tmp_path: Path
) -> None:
    files = [ser_predictions(tmp_path / f"p{i}.csv", 10 + i, seed=i) for i in range(8)]
    answers: list[requests.Response] = [None] * 8  # type: ignore[list-item]
    start = threading.Barrier(8)

    def send(i: int) -> None:
        start.wait()
        answers[i] = _post(api, "Team A", files[i])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    accepted = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code != 200]
    assert len(accepted) == 3 and all(a.json()["status"] == "scored" for a in accepted)
    assert len(refused) == 5
    assert {a.status_code for a in refused} == {400}
    assert {a.json()["error"] for a in refused} == {
        "daily quota reached (3 per UTC day); try again after 00:00 UTC"
    }
    assert sorted(s.id for s in api.stored()) == sorted(a.json()["id"] for a in accepted)


def test_refusals_are_json_and_store_nothing(api: Api, tmp_path: Path) -> None:
    good = ser_predictions(tmp_path / "good.csv", 30)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    big = tmp_path / "big.csv"
    big.write_bytes(b"id,emotion\n" + b"x,1\n" * 300_000)  # 1.2 MB; the limit is 1 MB
    wrong = requests.post(
        api.url + SUBMISSIONS,
        headers={"Authorization": "Bearer team_wrong"},
        data={"task": "misme-ser"},
        files={"file": ("good.csv", good.read_bytes())},
        timeout=60,
    )
    cases = [
        (_post(api, "", good), 401, "missing team token"),
        (wrong, 401, "unknown team token"),
        (_post(api, "Team A", empty), 400, "prediction file is empty"),
        (_post(api, "Team A", big), 413, "prediction file is over the limit of 1000000 bytes"),
        (_post(api, "Team A", good, phase="pilot"), 400, "phase 'pilot' closed at 2019-12-31"),
        (_post(api, "Team A", good, task="misme-nope"), 400, "unknown task"),
    ]
    for answer, status, words in cases:
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"] == "application/json"
        assert words in answer.json()["error"]
    assert api.stored() == []
    # the same refusals through the client: one line on stderr, exit 2
    home = tmp_path / "home"
    home.mkdir()
    refused = client(
        api.url, "submit", str(empty), "--task", "misme-ser", token="team_wrong", cwd=home
    )
    assert refused.returncode == 2
    assert refused.stderr.strip() == "error: unknown team token"
    no_token = client(api.url, "mine", token=None, cwd=home)
    assert no_token.stderr.strip() == "error: no team token: pass --token or set MISME_TOKEN"


def test_an_invalid_file_is_reported_with_its_rows_as_on_the_page(api: Api, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("id,emotion\na01-c00,happyish\n", encoding="utf-8")
    answer = _post(api, "Team A", path)
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "invalid" and "happyish" in body["message"]
    assert [s.status for s in api.stored()] == ["invalid"]


def test_another_team_sees_none_of_a_teams_submissions(api: Api, tmp_path: Path) -> None:
    first = _post(api, "Team A", ser_predictions(tmp_path / "a.csv", 30), note="our trick")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,emotion\nzzz,1\n", encoding="utf-8")
    _post(api, "Team A", bad, note="failed idea")
    own = requests.get(api.url + SUBMISSIONS, headers=api.headers("Team A"), timeout=30).json()
    assert [(r["status"], r["note"]) for r in own] == [
        ("invalid", "failed idea"),
        ("scored", "our trick"),
    ]
    theirs = requests.get(api.url + SUBMISSIONS, headers=api.headers("Team B"), timeout=30)
    assert theirs.json() == []
    peek = requests.get(
        f"{api.url}{SUBMISSIONS}/{first.json()['id']}", headers=api.headers("Team B"), timeout=30
    )
    assert peek.status_code == 404
    assert peek.json() == {"error": f"submission {first.json()['id']} is not one of your team's"}
    grab = requests.put(
        f"{api.url}{SUBMISSIONS}/{first.json()['id']}/selection",
        headers=api.headers("Team B"),
        timeout=30,
    )
    assert grab.status_code == 404
    anonymous = requests.get(api.url + SUBMISSIONS, timeout=30)
    assert anonymous.status_code == 401 and "missing team token" in anonymous.json()["error"]
    for fmt in ("csv", "json"):
        public = requests.get(f"{api.url}/api/v1/board/misme-ser?format={fmt}", timeout=30).text
        assert "our trick" not in public and "failed idea" not in public and "zzz" not in public


@pytest.mark.slow
def test_a_server_killed_mid_upload_stores_nothing(tmp_path: Path) -> None:
    with serving(tmp_path, per_day=3) as api:
        body = ser_predictions(tmp_path / "p.csv", 30).read_bytes()
        boundary = "misme-boundary"
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="task"\r\n\r\nmisme-ser\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode() + body
        tail = f"\r\n--{boundary}--\r\n".encode()
        port = int(api.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as raw:
            raw.sendall(
                (
                    f"POST {SUBMISSIONS} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f"Authorization: Bearer {api.tokens['Team A']}\r\n"
                    f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                    f"Content-Length: {len(head) + len(tail)}\r\n\r\n"
                ).encode()
                + head[: len(head) // 2]
            )
            api.server.kill()  # SIGKILL: no clean-up of any kind
            api.server.wait(timeout=30)
        assert api.stored() == []
        port = free_port()
        api.server = start_server(api.config_path, port)
        try:
            again = _post(
                Api(
                    f"http://127.0.0.1:{port}", api.config_path, api.config, api.tokens, api.server
                ),
                "Team A",
                tmp_path / "p.csv",
            )
            assert again.status_code == 200 and again.json()["quota_left"]["today"] == 2
            assert [s.status for s in api.stored()] == ["scored"]
        finally:
            stop_server(api.server)


def test_a_client_that_hangs_up_mid_upload_stores_nothing(api: Api, tmp_path: Path) -> None:
    port = int(api.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as raw:
        raw.sendall(
            (
                f"POST {SUBMISSIONS} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {api.tokens['Team A']}\r\n"
                "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 5000\r\n\r\n"
                '--b\r\nContent-Disposition: form-data; name="file"; filename="p.csv"\r\n\r\nid,emo'
            ).encode()
        )
    answer = _post(api, "Team A", ser_predictions(tmp_path / "p.csv", 30))
    assert answer.status_code == 200  # the server still serves
    assert [s.status for s in api.stored()] == ["scored"]


def test_the_rate_limit_answers_429_per_token(tmp_path: Path) -> None:
    with serving(tmp_path, rate_limit=3) as api:
        codes = [
            requests.get(
                api.url + SUBMISSIONS, headers=api.headers("Team A"), timeout=30
            ).status_code
            for _ in range(4)
        ]
        other = requests.get(api.url + SUBMISSIONS, headers=api.headers("Team B"), timeout=30)
        limited = requests.get(api.url + SUBMISSIONS, headers=api.headers("Team A"), timeout=30)
    assert codes == [200, 200, 200, 429]
    assert other.status_code == 200  # another token has its own budget
    assert limited.json()["error"].startswith("rate limit: at most 3 requests per minute per token")
    assert int(limited.headers["retry-after"]) >= 1

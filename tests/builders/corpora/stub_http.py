"""A small HTTP server on 127.0.0.1 that answers web-API calls from a recorded call cache.

The Spotify and Last.fm tests run the real clients (spotipy, requests) against it: the
server translates each request back into the cache's ``(method, params)`` and serves the
recorded response, so nothing but 127.0.0.1 is ever contacted. Scripted faults (429, 5xx)
can be queued in front of the recorded answers.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from builders.common.call_cache import CallCache

Reply = tuple[int, dict[str, str], Any]


@dataclass(frozen=True)
class Hit:
    """One request the server received."""

    verb: str
    path: str
    query: dict[str, str]
    at: float


class StubServer:
    """An HTTP server in a thread; ``responder(verb, path, query)`` gives each reply."""

    def __init__(self, responder: Callable[[str, str, dict[str, str]], Reply]) -> None:
        self.responder = responder
        self.hits: list[Hit] = []
        self._faults: deque[tuple[str, Reply]] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self._running = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def fail_next(
        self,
        count: int,
        status: int,
        headers: dict[str, str] | None = None,
        body: Any = None,
        path: str = "/",
    ) -> None:
        """Answer the next ``count`` requests whose path starts with ``path`` with ``status``."""
        with self._lock:
            for _ in range(count):
                self._faults.append((path, (status, headers or {}, body)))

    def hits_to(self, path: str) -> list[Hit]:
        return [hit for hit in self.hits if hit.path.startswith(path)]

    def stop(self) -> None:
        if self._running:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._running = False

    def reply(self, verb: str, target: str) -> Reply:
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        with self._lock:
            self.hits.append(Hit(verb, parts.path, query, time.monotonic()))
            for index, (prefix, fault) in enumerate(self._faults):
                if parts.path.startswith(prefix):
                    del self._faults[index]
                    return fault
        return self.responder(verb, parts.path, query)


def _handler_for(stub: StubServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._answer("GET")

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            self._answer("POST")

        def _answer(self, verb: str) -> None:
            status, headers, body = stub.reply(verb, self.path)
            data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


# --- the two APIs, answered from recorded caches --------------------------------------------

SPOTIFY_TOKEN = {"access_token": "stub-token", "token_type": "Bearer", "expires_in": 3600}


def spotify_responder(recorded: CallCache) -> Callable[[str, str, dict[str, str]], Reply]:
    """Spotify's token endpoint (``/api/token``) and ``/v1/search``, ``/v1/audio-features``.

    An audio-features call that is not recorded gets HTTP 403, as Spotify answers new apps.
    """

    def respond(verb: str, path: str, query: dict[str, str]) -> Reply:
        if verb == "POST" and path == "/api/token":
            return 200, {}, SPOTIFY_TOKEN
        if path == "/v1/search":
            params = {"q": query["q"], "type": query["type"], "limit": int(query["limit"])}
            if recorded.has("search", params):
                return 200, {}, recorded.get("search", params)
            return 404, {}, {"error": {"status": 404, "message": "not recorded"}}
        if path.rstrip("/") == "/v1/audio-features":
            params = {"ids": query["ids"]}
            if recorded.has("audio_features", params):
                return 200, {}, recorded.get("audio_features", params)
            return 403, {}, {"error": {"status": 403, "message": "Forbidden"}}
        return 404, {}, {"error": {"status": 404, "message": f"no route {path}"}}

    return respond


LASTFM_KEY = "test-lastfm-key"


def lastfm_responder(recorded: CallCache) -> Callable[[str, str, dict[str, str]], Reply]:
    """Last.fm's ``/2.0/?method=...&api_key=...&format=json`` answered from ``recorded``."""

    def respond(verb: str, path: str, query: dict[str, str]) -> Reply:
        params = dict(query)
        method, key, form = params.pop("method"), params.pop("api_key"), params.pop("format")
        if key != LASTFM_KEY:
            return (
                403,
                {},
                {
                    "error": 10,
                    "message": "Invalid API key - You must be granted a valid key by last.fm",
                },
            )
        if form != "json" or path != "/2.0/":
            return 400, {}, {"error": 5, "message": "Invalid format"}
        if "page" in params:
            params["page"] = int(params["page"])
        if recorded.has(method, params):
            return 200, {}, recorded.get(method, params)
        return 200, {}, {"error": 6, "message": "Track not found", "links": []}

    return respond

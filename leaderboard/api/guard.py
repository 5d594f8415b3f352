"""What every API request passes before it reaches a route: the per-token (or, without a
token, per-address) rate limit, and the size limit of an upload, enforced while the body
arrives (a declared Content-Length over the limit is refused before any byte is read).
A plain ASGI middleware, so that a refusal costs no form parsing and no database work."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import anyio.to_thread

# multipart boundaries, the form's other fields (task, phase, note of up to 1000 characters)
FORM_OVERHEAD_BYTES = 64 * 1024
DEFAULT_RATE_PER_MINUTE = 60
WINDOW_S = 60.0

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class RateLimiter:
    """At most ``per_minute`` requests per key in any 60-second window (sliding)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.per_minute = per_minute
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait_for(self, key: str) -> float:
        """0 when the request may go ahead (and counts it), else the seconds to wait."""
        now = self._clock()
        with self._lock:
            seen = self._seen.setdefault(key, deque())
            while seen and seen[0] <= now - WINDOW_S:
                seen.popleft()
            if len(seen) >= self.per_minute:
                return max(0.0, seen[0] + WINDOW_S - now)
            seen.append(now)
            return 0.0


def bearer_token(scope: Scope) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if any."""
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


def too_large_message(limit: int) -> str:
    return f"prediction file is over the limit of {limit} bytes"


class TooLarge(Exception):
    """The body went over the upload limit while it arrived."""


class Guard:
    """Rate limit every /api/ request; cap the body of uploads at the file limit plus the
    form's overhead."""

    def __init__(
        self,
        app,
        limiter: RateLimiter,
        max_file_bytes: int,
        token_refusal: Callable[[str | None], str | None],
    ):
        self.app = app
        self.limiter = limiter
        self.max_file_bytes = max_file_bytes
        self.token_refusal = token_refusal  # why a token may not upload (None: it may)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        token = bearer_token(scope)
        client = scope.get("client") or ("unknown", 0)
        key = "token:" + hashlib.sha256(token.encode()).hexdigest() if token else f"ip:{client[0]}"
        wait = self.limiter.wait_for(key)
        if wait:
            message = (
                f"rate limit: at most {self.limiter.per_minute} requests per minute "
                f"{'per token' if token else 'per address'}; try again in {wait:.0f} s"
            )
            await json_error(send, 429, message, {"retry-after": str(max(1, round(wait)))})
            return
        if scope["method"] != "POST" or not scope["path"].startswith("/api/v1/submissions"):
            await self.app(scope, receive, send)
            return
        refusal = await anyio.to_thread.run_sync(self.token_refusal, token)
        if refusal:  # before the upload is read
            await json_error(send, 401, refusal)
            return
        limit = self.max_file_bytes + FORM_OVERHEAD_BYTES
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await json_error(send, 413, too_large_message(self.max_file_bytes))
            return
        await self._capped(scope, receive, send, limit)

    async def _capped(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received = 0
        started = False

        async def counting_receive() -> dict[str, Any]:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise TooLarge
            return message

        async def watching_send(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except TooLarge:
            if not started:
                await json_error(send, 413, too_large_message(self.max_file_bytes))


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def json_error(
    send: Send, status: int, message: str, headers: dict[str, str] | None = None
) -> None:
    body = json.dumps({"error": message}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})

"""`misme-leaderboard serve-api`: the participant API on uvicorn, in this process."""

from __future__ import annotations

from leaderboard.api.server import create_app
from leaderboard.challenge.config import ChallengeConfig


def serve_api(config: ChallengeConfig, address: str, port: int, rate_per_minute: int) -> int:
    """Serve until SIGINT / SIGTERM (uvicorn finishes the requests under way, then stops)."""
    import uvicorn

    print(f"participant API of {config.name!r} on http://{address}:{port}/api/docs", flush=True)
    uvicorn.run(
        create_app(config, rate_per_minute),
        host=address,
        port=port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=int(config.time_limit_s) + 5,
    )
    return 0

"""The participant HTTP API (FastAPI; OpenAPI at /api/v1/openapi.json, docs at /api/docs).

Every route goes through the same functions as the page and the organizer's commands
(:mod:`leaderboard.submissions`): the same validation, quotas, size limit, sandboxed
scoring and messages. Errors are JSON ``{"error": "<the one-line message>"}``. Team routes
need ``Authorization: Bearer <team token>``; the challenge and the public board need none.
"""

from __future__ import annotations

import tempfile
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, File, Form, Header, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from leaderboard.api.guard import (
    DEFAULT_RATE_PER_MINUTE,
    Guard,
    RateLimiter,
    TooLarge,
    too_large_message,
)
from leaderboard.boards.export_board import export_board
from leaderboard.boards.ranking import build_board
from leaderboard.challenge.config import ChallengeConfig
from leaderboard.challenge.summary import challenge_summary
from leaderboard.errors import LeaderboardError
from leaderboard.store.sessions import read_session, utc_now
from leaderboard.store.teams import UNKNOWN_TOKEN, team_for_token
from leaderboard.submissions.history import my_submission, my_submissions
from leaderboard.submissions.select import select_submission
from leaderboard.submissions.submit import submit
from leaderboard.submissions.sweep import sweep_unfinished

PREFIX = "/api/v1"
NO_TOKEN = "missing team token: send the header 'Authorization: Bearer <team token>'"


def team_token(authorization: Annotated[str | None, Header()] = None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise LeaderboardError(NO_TOKEN)
    return token.strip()


Token = Annotated[str, Depends(team_token)]


def create_app(config: ChallengeConfig, rate_per_minute: int = DEFAULT_RATE_PER_MINUTE) -> FastAPI:
    """The API of one challenge; ``rate_per_minute``: requests per token (or address)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        from leaderboard.scoring import warm

        warm.prestart()  # the scoring zygote loads before the first submission
        try:
            yield
        finally:
            warm.shutdown()

    app = FastAPI(
        title=f"{config.name}: participant API",
        summary="Submit predictions, follow them, choose finals, read the public board.",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url="/api/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    _add_error_handlers(app, config)
    _add_routes(app, config)
    app.add_middleware(
        Guard,
        limiter=RateLimiter(rate_per_minute),
        max_file_bytes=config.max_file_bytes,
        token_refusal=lambda token: _token_refusal(config, token),
    )
    return app


def _token_refusal(config: ChallengeConfig, token: str | None) -> str | None:
    if not token:
        return NO_TOKEN
    try:
        with read_session(config) as session:
            team_for_token(session, config, token)
    except LeaderboardError as error:
        return str(error)
    return None


def _status_for(message: str) -> int:
    if message in (NO_TOKEN, UNKNOWN_TOKEN):
        return 401
    if message.endswith("is not one of your team's"):
        return 404
    return 400


def _add_error_handlers(app: FastAPI, config: ChallengeConfig) -> None:
    @app.exception_handler(LeaderboardError)
    async def _refused(_request: Request, error: LeaderboardError) -> JSONResponse:
        message = str(error)
        return JSONResponse({"error": message}, status_code=_status_for(message))

    @app.exception_handler(RequestValidationError)
    async def _malformed(_request: Request, error: RequestValidationError) -> JSONResponse:
        problems = []
        for problem in error.errors():
            where = ".".join(str(part) for part in problem["loc"] if part != "body")
            problems.append(f"{where}: {problem['msg']}")
        return JSONResponse({"error": "; ".join(problems)}, status_code=422)

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, error: HTTPException) -> JSONResponse:
        if isinstance(error.__cause__, TooLarge):
            return JSONResponse(
                {"error": too_large_message(config.max_file_bytes)}, status_code=413
            )
        return JSONResponse({"error": str(error.detail)}, status_code=error.status_code)


def _add_routes(app: FastAPI, config: ChallengeConfig) -> None:
    @app.get(f"{PREFIX}/challenge", tags=["challenge"])
    def challenge() -> dict:
        """Tasks (file format, sample row, metric), phases (status, time left, quotas), limits."""
        return challenge_summary(config, utc_now())

    @app.post(f"{PREFIX}/submissions", tags=["submissions"])
    def post_submission(
        token: Token,
        file: Annotated[UploadFile, File(description="the prediction file (CSV or Parquet)")],
        task: Annotated[str, Form()],
        phase: Annotated[str | None, Form(description="default: the phase open now")] = None,
        note: Annotated[str, Form()] = "",
    ) -> dict:
        """Validate and score a prediction file; answers once it is scored (or refused)."""
        return _submitted(config, token, file, task, phase, note)

    @app.get(f"{PREFIX}/submissions", tags=["submissions"])
    def get_my_submissions(
        token: Token, task: str | None = None, phase: str | None = None
    ) -> list[dict]:
        """Your team's submissions, newest first: status, message, note, scores, selection."""
        sweep_unfinished(config)
        return my_submissions(config, token, task, phase)

    @app.get(f"{PREFIX}/submissions/{{submission_id}}", tags=["submissions"])
    def get_submission(token: Token, submission_id: int) -> dict:
        """One of your team's submissions (status, message, scores)."""
        sweep_unfinished(config)
        return my_submission(config, token, submission_id)

    @app.put(f"{PREFIX}/submissions/{{submission_id}}/selection", tags=["finals"])
    def select(token: Token, submission_id: int) -> dict:
        """Choose a scored submission for the final ranking."""
        select_submission(config, token, submission_id)
        return my_submission(config, token, submission_id)

    @app.delete(f"{PREFIX}/submissions/{{submission_id}}/selection", tags=["finals"])
    def unselect(token: Token, submission_id: int) -> dict:
        """Take a submission out of the final ranking."""
        select_submission(config, token, submission_id, unselect=True)
        return my_submission(config, token, submission_id)

    @app.get(f"{PREFIX}/board/{{task}}", tags=["board"])
    def board(
        task: str,
        phase: str | None = None,
        format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",  # noqa: A002
    ) -> Response:
        """The public board (private ids only once the phase has ended), as JSON or CSV."""
        config.task(task)
        name = phase or config.current_or_last_phase(utc_now()).name
        sweep_unfinished(config)
        text = export_board(config, build_board(config, task, config.phase(name).name), format)
        media = "application/json" if format == "json" else "text/csv; charset=utf-8"
        return Response(text, media_type=media)


def _submitted(
    config: ChallengeConfig,
    token: str,
    upload: UploadFile,
    task: str,
    phase: str | None,
    note: str,
) -> dict:
    name = Path(upload.filename or "predictions.csv").name or "predictions.csv"
    with tempfile.TemporaryDirectory(prefix="misme-upload-") as folder:
        path = Path(folder) / name
        with path.open("wb") as handle:
            while chunk := upload.file.read(1 << 20):
                handle.write(chunk)
        outcome = submit(config, path, task, token, phase, note, file_name=name)
    quota = outcome.quota
    return {
        "id": outcome.submission_id,
        "status": outcome.status,
        "message": outcome.message,
        "public_scores": outcome.public_metrics,
        "quota_left": None
        if quota is None
        else {"today": quota.left_today, "total": quota.left_total},
    }

"""`misme-leaderboard`: host a challenge leaderboard (store, teams, submissions, Streamlit page)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from leaderboard.api.client_commands import CLIENT_COMMANDS, add_client_commands, server_options
from leaderboard.errors import LeaderboardError

PROG = "misme-leaderboard"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    init = commands.add_parser("init", help="create the store and the challenge row")
    _config_options(init)

    team = commands.add_parser("team", help="manage teams")
    team_commands = team.add_subparsers(dest="team_command", required=True)
    add = team_commands.add_parser("add", help="add a team; prints its token once")
    add.add_argument("name")
    _config_options(add)
    listing = team_commands.add_parser("list", help="list the teams")
    _config_options(listing)

    submit = commands.add_parser(
        "submit",
        help="validate and score a prediction file: on a server with --url (participants), "
        "or in the store with --config (organizers)",
    )
    submit.add_argument("predictions", type=Path)
    _server_or_config_options(submit)
    submit.add_argument("--task", required=True)
    submit.add_argument("--phase", help="default: the phase open now")
    submit.add_argument("--note", default="")

    select = commands.add_parser(
        "select",
        help="choose a scored submission for the final "
        "ranking (up to the config's final_submissions)",
    )
    select.add_argument("submission", type=int)
    _server_or_config_options(select)
    select.add_argument("--unselect", action="store_true", help="take the choice off again")

    add_client_commands(commands)

    submissions = commands.add_parser(
        "submissions", help="every team's submissions with notes and messages (organizers)"
    )
    _config_options(submissions)
    submissions.add_argument("--task")
    submissions.add_argument("--phase")
    submissions.add_argument("--team", help="only this team")

    show = commands.add_parser("show", help="print the leaderboard")
    _config_options(show)
    show.add_argument("--task", required=True)
    show.add_argument("--phase", help="default: the open (or last started) phase")
    show.add_argument(
        "--private",
        action="store_true",
        help="rank on the private ids before the phase ends; organizers only, "
        "so it also needs --i-am-organizer (anyone with the config file "
        "could otherwise see the hidden scores by accident)",
    )
    show.add_argument(
        "--i-am-organizer", action="store_true", help="confirm --private during an open phase"
    )
    show.add_argument(
        "--metrics",
        choices=["headline", "all"],
        default="headline",
        help="headline (default): the primary metric, its intervals and at most 3 "
        "other metrics, fitted to --width; all: every metric column",
    )
    show.add_argument(
        "--width",
        type=int,
        help="line width (default: the terminal's when wider than 100 columns, else 100)",
    )

    export_board = commands.add_parser(
        "export", help="the final board of a task as CSV, JSON or Markdown (stdout, or --out FILE)"
    )
    _config_options(export_board)
    export_board.add_argument("--task", required=True)
    export_board.add_argument("--phase", help="default: the open (or last started) phase")
    export_board.add_argument("--format", choices=["csv", "json", "markdown"], default="csv")
    export_board.add_argument("--out", type=Path, help="write here instead of stdout")
    export_board.add_argument(
        "--private",
        action="store_true",
        help="as for show: private ids of an open phase (organizers)",
    )
    export_board.add_argument(
        "--i-am-organizer",
        action="store_true",
        help="confirm --private while the phase is open (as for show)",
    )

    rescore = commands.add_parser(
        "rescore",
        help="score the stored submission files again with "
        "the current scorer; audited, never silent",
    )
    _config_options(rescore)
    rescore.add_argument("--task", help="only this task")
    rescore.add_argument("--phase", help="only this phase")
    rescore.add_argument(
        "--dry-run",
        action="store_true",
        help="say what would change; write nothing (no audit either)",
    )

    serve = commands.add_parser("serve", help="run the Streamlit leaderboard")
    _config_options(serve)
    serve.add_argument("--port", type=int, default=8501)
    serve.add_argument("--address", default="127.0.0.1")
    serve.add_argument(
        "--api-port",
        type=int,
        help="also serve the participant API on this port (it ends with the page)",
    )
    serve.add_argument(
        "--rate-limit", type=int, default=60, help="API requests per minute per token (default 60)"
    )

    serve_api = commands.add_parser(
        "serve-api", help="run the participant HTTP API (OpenAPI at /api/docs)"
    )
    _config_options(serve_api)
    serve_api.add_argument("--port", type=int, default=8000)
    serve_api.add_argument("--address", default="127.0.0.1")
    serve_api.add_argument(
        "--rate-limit", type=int, default=60, help="requests per minute per token (default 60)"
    )

    export = commands.add_parser(
        "export-challenge",
        help="participant copy of a dataset without test labels + the organizer's solution files",
    )
    export.add_argument("out", type=Path)
    export.add_argument("--dataset", type=Path, required=True, help="a built dataset folder")
    export.add_argument("--test-folds", type=int, nargs="+", required=True)
    return parser


def _config_options(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument("--config", type=Path, required=required, help="challenge TOML file")
    parser.add_argument("--db", help="database URL (overrides the config's)")


def _server_or_config_options(parser: argparse.ArgumentParser) -> None:
    server_options(parser, required=False)
    _config_options(parser, required=False)


def main(argv: list[str] | None = None) -> int:
    """Run one command and return its exit status; as the console script (``argv`` None) the
    process leaves through :func:`misme_console.run_console_script` instead."""
    if argv is None:
        from misme_console import run_console_script

        run_console_script(PROG, lambda: _main(None))
    return _main(argv)


def _main(argv: list[str] | None) -> int:
    from misme_console import internal_error

    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except LeaderboardError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001 - a bug of ours; keep the traceback opt-in
        return internal_error(PROG, error)
    finally:
        from leaderboard.store.sessions import close_engines

        close_engines()
        if "leaderboard.scoring.warm" in sys.modules:  # console scripts leave without atexit
            sys.modules["leaderboard.scoring.warm"].shutdown()


def _run(args: argparse.Namespace) -> int:
    if args.command == "export-challenge":
        return _export(args)
    if args.command in CLIENT_COMMANDS and getattr(args, "url", None):
        if getattr(args, "config", None):
            raise LeaderboardError("give --url (a server) or --config (the store), not both")
        from leaderboard.api.client import run

        return run(args)
    if getattr(args, "config", 0) is None:
        raise LeaderboardError(f"{args.command} needs --url URL (participants) or --config FILE")
    from leaderboard.challenge.config import load_config

    config = load_config(args.config, args.db)
    handlers = {
        "init": _init,
        "team": _team,
        "submit": _submit,
        "select": _select,
        "show": _show,
        "serve": _serve,
        "serve-api": _serve_api,
        "submissions": _submissions,
        "export": _export_board,
        "rescore": _rescore,
    }
    return handlers[args.command](args, config)


def _init(args, config) -> int:
    from leaderboard.challenge.config import shown_url
    from leaderboard.scoring.probe import check_worker_limits
    from leaderboard.store.schema import init_store
    from leaderboard.submissions.sweep import sweep_unfinished

    _check_solutions(config)
    check_worker_limits(config)
    init_store(config)
    swept = sweep_unfinished(config)
    if swept:
        print(f"{swept} submission(s) whose scoring never finished marked failed (not charged)")
    print(f"challenge {config.name!r} ready in {shown_url(config.database_url)}")
    return 0


def _check_solutions(config) -> None:
    """Every solution file reads, and holds every fold a phase names (else each submission fails)."""
    from benchmark.errors import BenchmarkError
    from benchmark.io import read_solution
    from benchmark.tasks import get_task

    for task in config.tasks:
        try:
            folds = set(read_solution(task.solution, get_task(task.name))["fold"])
        except BenchmarkError as error:
            lines = [line.strip(" -") for line in str(error).splitlines()]
            raise LeaderboardError(f"task {task.name}: {'; '.join(lines[:4])}") from None
        for phase in config.phases:
            missing = sorted(set(phase.folds or ()) - folds)
            if missing:
                raise LeaderboardError(
                    f"phase {phase.name}: fold(s) {missing} are not in {task.solution} "
                    f"(folds: {sorted(folds)})"
                )


def _team(args, config) -> int:
    from leaderboard.store.teams import add_team, list_teams

    if args.team_command == "add":
        token = add_team(config, args.name)
        print(f"team {args.name.strip()!r} added; its token (shown only once):")
        print(token)
        return 0
    for team in list_teams(config):
        print(f"{team.id}\t{team.name}")
    return 0


def _submit(args, config) -> int:
    from leaderboard.submissions.submit import submit

    token = _token(args)
    outcome = submit(config, args.predictions, args.task, token, args.phase, args.note)
    print(f"submission {outcome.submission_id}: {outcome.status}")
    if outcome.status == "scored":
        for name, value in sorted(outcome.public_metrics.items()):
            print(f"  {name} (public ids) = {value:.6g}")
        if warning := outcome.message.partition("; warning: ")[2]:
            print(f"warning: {warning}", file=sys.stderr)
    else:  # what was wrong with the file: a problem, not a result
        print(outcome.message, file=sys.stderr)
    if outcome.quota is not None:
        print(
            f"quota left: today {_left(outcome.quota.left_today)}, "
            f"total {_left(outcome.quota.left_total)}"
        )
    return 0 if outcome.status == "scored" else 2


def _left(value: int | None) -> str:
    return "unlimited" if value is None else str(value)


def _token(args) -> str:
    from leaderboard.api.client import token_from

    return token_from(args.token)


def _select(args, config) -> int:
    from leaderboard.submissions.select import select_submission

    chosen = select_submission(config, _token(args), args.submission, unselect=args.unselect)
    what = "selected" if chosen.selected else "no longer selected"
    print(f"submission {chosen.id} {what} for {chosen.task} / {chosen.phase}")
    return 0


def _visible_board(args, config):
    """The board `show` and `export` print: private ids of an open phase for organizers only."""
    from leaderboard.boards.ranking import build_board
    from leaderboard.store.sessions import utc_now
    from leaderboard.submissions.sweep import sweep_unfinished

    config.task(args.task)
    phase = args.phase or config.current_or_last_phase(utc_now()).name
    if args.private and not args.i_am_organizer and not config.phase(phase).has_ended(utc_now()):
        raise LeaderboardError(
            f"phase {phase} is still open: its private scores are hidden from "
            "the teams; add --i-am-organizer to see them"
        )
    sweep_unfinished(config)
    return build_board(config, args.task, phase, reveal_private=args.private)


def _show(args, config) -> int:
    from benchmark.tasks import get_task
    from leaderboard.boards.terminal import board_text

    if args.width is None:
        args.width = min(1000, max(100, shutil.get_terminal_size((100, 24)).columns))
    if not 40 <= args.width <= 1000:
        raise LeaderboardError(f"--width must be from 40 to 1000, not {args.width}")
    board = _visible_board(args, config)
    title = (
        f"{config.name} - {board.task} - phase {board.phase} - ranked on {board.subset} ids "
        f"by {board.primary_metric} ({'higher' if board.higher_is_better else 'lower'} is better)"
    )
    print(
        board_text(board, title, get_task(board.task).kind, width=args.width, metrics=args.metrics),
        end="",
    )
    return 0


def _export_board(args, config) -> int:
    from benchmark.cli import write_output
    from benchmark.errors import BenchmarkError
    from leaderboard.boards.export_board import export_board

    text = export_board(config, _visible_board(args, config), args.format)
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        write_output(args.out, text)
    except BenchmarkError as error:
        raise LeaderboardError(str(error)) from None
    print(f"{args.format} board of {args.task} written to {args.out}", file=sys.stderr)
    return 0


def _rescore(args, config) -> int:
    from leaderboard.challenge.config import primary_metric
    from leaderboard.submissions.rescore import rescore, summary_line

    done = rescore(config, args.task, args.phase, dry_run=args.dry_run)
    for item in done:
        print(summary_line(item, primary_metric(config, item.task)[0]))
    counts = {
        outcome: sum(d.outcome == outcome for d in done)
        for outcome in ("unchanged", "rescored", "failed", "no file")
    }
    note = (
        " (dry run: nothing written)"
        if args.dry_run
        else " (every score looked at is in the rescore_audit table)"
    )
    print(
        f"{len(done)} submission(s): {counts['unchanged']} unchanged, {counts['rescored']} "
        f"rescored, {counts['failed'] + counts['no file']} not rescored{note}"
    )
    return 0


def _serve(args, config) -> int:
    _check_port(args.address, args.port)
    if args.api_port is not None:
        _start_api_beside(args)
    import importlib.util

    pages = importlib.util.find_spec("leaderboard.app.pages").origin  # found, not imported
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        pages,
        "--server.headless",
        "true",
        "--server.address",
        args.address,
        "--server.port",
        str(args.port),
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--",
        "--config",
        str(args.config.resolve()),
    ]
    env = dict(os.environ)
    if args.db:
        env["MISME_LEADERBOARD_DB"] = args.db
    sys.stdout.flush()
    os.execve(sys.executable, command, env)  # the server takes this process's id (and signals)
    return 0


def _start_api_beside(args) -> None:
    """`serve-api` in a child process that ends when this process (soon the page) ends."""
    import subprocess

    from leaderboard.api.serve import PARENT_ENV

    if args.api_port == args.port:
        raise LeaderboardError("--api-port must differ from --port")
    _check_port(args.address, args.api_port)
    command = [sys.executable, "-m", "leaderboard.cli", "serve-api"]
    command += ["--config", str(args.config.resolve()), "--port", str(args.api_port)]
    command += ["--address", args.address, "--rate-limit", str(args.rate_limit)]
    command += ["--db", args.db] if args.db else []
    subprocess.Popen(command, env={**os.environ, PARENT_ENV: str(os.getpid())})


def _serve_api(args, config) -> int:
    from leaderboard.api.serve import serve_api

    _check_port(args.address, args.port)
    if args.rate_limit < 1:
        raise LeaderboardError(f"--rate-limit must be at least 1, not {args.rate_limit}")
    return serve_api(config, args.address, args.port, args.rate_limit)


def _submissions(args, config) -> int:
    from leaderboard.api.client import print_record
    from leaderboard.submissions.history import all_submissions

    for record in all_submissions(config, args.task, args.phase):
        if args.team is None or record["team"] == args.team:
            print_record(record)
    return 0


def _check_port(address: str, port: int) -> None:
    """Fail with one line here rather than inside Streamlit once it has started."""
    import socket

    if not 1 <= port <= 65535:
        raise LeaderboardError(f"--port must be from 1 to 65535, got {port}")
    try:
        family, kind, proto, _, sockaddr = socket.getaddrinfo(
            address, port, type=socket.SOCK_STREAM
        )[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(sockaddr)
    except OSError as error:
        raise LeaderboardError(
            f"cannot serve on {address}:{port}: {error.strerror or error}"
        ) from None


def _export(args) -> int:
    from leaderboard.challenge.export_challenge import export_challenge, standard_build_warning

    summary = export_challenge(args.dataset, args.out, tuple(args.test_folds))
    print(summary)
    if warning := standard_build_warning(args.dataset):
        print(f"warning: {warning}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

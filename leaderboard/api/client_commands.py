"""The participant client's command-line arguments (`misme-leaderboard ... --url URL`):
the options of `submit` and `select` against a server, and the commands only a server
answers (`status`, `mine`, `board`). Imports nothing heavy: `misme-leaderboard --help`
stays fast."""

from __future__ import annotations

import argparse
from pathlib import Path

CLIENT_COMMANDS = ("submit", "select", "status", "mine", "board")


def server_options(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument(
        "--url", required=required, help="the leaderboard's API address, e.g. http://host:8000"
    )
    parser.add_argument("--token", help="the team token (default: $MISME_TOKEN)")


def add_client_commands(commands) -> None:
    """`status`, `mine` and `board` (the subparsers of ``commands``)."""
    status = commands.add_parser("status", help="one of your team's submissions (on --url)")
    status.add_argument("submission", type=int)
    server_options(status)
    mine = commands.add_parser("mine", help="your team's submissions, newest first (on --url)")
    server_options(mine)
    mine.add_argument("--task")
    mine.add_argument("--phase")
    board = commands.add_parser("board", help="download the public board from --url")
    board.add_argument("--url", required=True, help="the leaderboard's API address")
    board.add_argument("--task", required=True)
    board.add_argument("--phase", help="default: the open (or last started) phase")
    board.add_argument("--format", choices=["csv", "json"], default="csv")
    board.add_argument("--out", type=Path, help="write here instead of stdout")

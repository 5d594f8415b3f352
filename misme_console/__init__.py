"""How every console script of the toolkit ends, shared by ``builders``, ``benchmark``,
``leaderboard`` and ``bench``: a termination signal becomes :class:`Interrupted`, an exit
flushes and leaves without interpreter finalisation (:func:`leave`), a reader that went
away (``... | head``) ends the script quietly with a shell's SIGPIPE status, and a bug of
ours is one line (:func:`internal_error`). This package imports nothing of the toolkit's."""

from __future__ import annotations

import os
import select
import signal
import sys
from collections.abc import Callable
from typing import NoReturn


class Interrupted(BaseException):
    """SIGINT or SIGTERM, raised in the main thread so that ``finally`` and ``with`` clean-ups run.

    A BaseException, like KeyboardInterrupt, so that ``except Exception`` never swallows it.
    """

    def __init__(self, signum: int):
        self.signum = signum
        self.exit_code = 128 + signum  # what a shell reports for a process the signal killed
        super().__init__(signal.Signals(signum).name)


TERMINATION_SIGNALS = (signal.SIGINT, signal.SIGTERM)
CLOSED_PIPE_STATUS = 128 + signal.SIGPIPE  # what a shell reports for `command | head`


def raise_on_termination() -> None:
    """Turn the first SIGINT/SIGTERM into :class:`Interrupted`; a second one leaves at once."""

    def interrupt(signum: int, _frame) -> None:
        for number in TERMINATION_SIGNALS:
            signal.signal(number, lambda again, _f: leave(128 + again))
        raise Interrupted(signum)

    for number in TERMINATION_SIGNALS:
        signal.signal(number, interrupt)


def leave(code: int) -> NoReturn:
    """Flush stdout and stderr, then end the process without interpreter finalisation.

    Finalisation can abort ("terminate called without an active exception", exit 134)
    when it destroys Arrow's thread pool while a worker thread is still joinable
    (apache/arrow#34314); everything this process had to write is written by now.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more can reach it
            pass
    os._exit(code)


def run_console_script(prog: str, body: Callable[[], int]) -> NoReturn:
    """Run a console script's ``body`` with SIGINT/SIGTERM as :class:`Interrupted`, then
    :func:`leave` with its exit status (130/143 and one line when interrupted)."""
    raise_on_termination()
    try:
        code = body()
    except BrokenPipeError:
        if not stdout_closed():
            raise
        code = _quietly_closed()
    except SystemExit as exiting:  # argparse's --help and usage errors
        code = _exit_status(exiting)
    except (KeyboardInterrupt, Interrupted) as interruption:
        code = getattr(interruption, "exit_code", 128 + signal.SIGINT)
        name = "Ctrl-C" if code == 128 + signal.SIGINT else signal.Signals(code - 128).name
        print(f"{prog}: interrupted ({name})", file=sys.stderr)
    leave(code)


def _exit_status(exiting: SystemExit) -> int:
    if exiting.code is None or isinstance(exiting.code, int):
        return exiting.code or 0
    print(exiting.code, file=sys.stderr)
    return 1


def stdout_closed() -> bool:
    """Whether standard output is a pipe or socket whose reader has gone (``... | head``)."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        events = poller.poll(0)
    except (AttributeError, OSError, ValueError):  # no poll(), or no file behind stdout
        return False
    return any(mask & (select.POLLERR | select.POLLHUP) for _fd, mask in events)


def _quietly_closed() -> int:
    """The exit status of a script whose stdout reader went away; stdout is pointed at
    /dev/null so that no later flush raises again."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError):
        pass
    return CLOSED_PIPE_STATUS


def internal_error(prog: str, error: Exception) -> int:
    """One line and exit status 1 for a bug of ours; with MISME_DEBUG set, re-raise it
    so that the traceback shows. Writing into a stdout whose reader went away is no bug:
    no line, exit status 141 (as a shell reports SIGPIPE)."""
    if isinstance(error, BrokenPipeError) and stdout_closed():
        return _quietly_closed()
    if os.environ.get("MISME_DEBUG"):
        raise error
    print(
        f"{prog}: internal error ({type(error).__name__}: {error}); please report it "
        "(set MISME_DEBUG=1 for a traceback)",
        file=sys.stderr,
    )
    return 1

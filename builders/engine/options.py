"""Which engine runs the units, and how many workers: checked once, here."""

from __future__ import annotations

from dataclasses import dataclass

from builders.errors import UserError

BACKENDS = ("local", "ray")


def check_workers(workers: int) -> int:
    """``workers`` if it is a usable worker count, else a UserError."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise UserError(f"--workers must be at least 1, got {workers!r}")
    return workers


@dataclass(frozen=True)
class Engine:
    """Where units run: ``local`` (this process or a pool of ``workers``) or ``ray``.

    For Ray, ``address`` None starts a local cluster sized to ``workers``; ``auto`` or
    ``HOST:PORT`` joins an existing one, where ``workers`` bounds the units in flight.
    ``verbose`` lets Ray's own logs through to the terminal.
    """

    backend: str = "local"
    workers: int = 1
    address: str | None = None
    verbose: bool = False

    def __post_init__(self) -> None:
        check_workers(self.workers)
        if self.backend not in BACKENDS:
            raise UserError(f"--engine must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        if self.address is not None and self.backend != "ray":
            raise UserError("--ray-address needs --engine ray")

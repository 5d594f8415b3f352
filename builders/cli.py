"""`misme-build`: the corpus builders' command line.

Each subcommand lives in its own module, which provides ``add_arguments(parser)`` and
``run(args) -> int``. Modules are imported only when their subcommand runs, so a
broken optional dependency of one builder never stops another.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from builders.errors import UserError

PROG = "misme-build"

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "demo-sources": (
        "builders.demo.sources_command",
        "synthesise every source corpus in its real format",
    ),
    "misme": ("builders.misme.cli", "plan, render, build or separate the MiSME corpus"),
    "instrumental-mer": (
        "builders.instrumental_mer.cli",
        "plan, render, build or score baselines of the instrumental-MER dataset",
    ),
    "muse-vad": (
        "builders.muse_vad.cli",
        "plan, render, build or score baselines of the MuSe-style VAD dataset",
    ),
    "verify": ("builders.verify_command", "compare a build with another build or a digest"),
    "features": ("builders.features_command", "extract openSMILE / Essentia feature tables"),
    "baselines": (
        "builders.misme.baselines",
        "cross-validated baseline predictions for experiments A-F",
    ),
    "demo": ("builders.demo.run", "run the whole demo chain end to end"),
}


def build_parser(argv: list[str]) -> tuple[argparse.ArgumentParser, object | None]:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = next((a for a in argv if not a.startswith("-")), None)
    module = None
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            module = importlib.import_module(module_name)
            module.add_arguments(sub_parser)
            sub_parser.set_defaults(run=module.run)
    return parser, module


def main(argv: list[str] | None = None) -> int:
    """Run one command and return its exit status; as the console script (``argv`` None) the
    process leaves through ``misme_console.run_console_script``: flush, then ``os._exit``
    (interpreter finalisation can abort in Arrow's thread pool), 130/143 with one line on
    Ctrl-C/SIGTERM (temporary files are removed on the way out; re-running resumes)."""
    if argv is None:
        from misme_console import run_console_script

        run_console_script(
            f"{PROG} (re-run the same command to resume)", lambda: _main(sys.argv[1:])
        )
    return _main(list(argv))


def _main(argv: list[str]) -> int:
    try:
        parser, _ = build_parser(argv)
        args = parser.parse_args(argv)
        if not getattr(args, "run", None):
            parser.print_help()
            return 2
        return int(args.run(args) or 0)
    except UserError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; re-run the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

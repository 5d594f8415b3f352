"""`misme-build`: the corpus builders' command line.

``misme-build <dataset> plan|render|build|baselines|...`` is generated for every dataset of
``builders.registry`` (``builders.dataset_command``). Every other subcommand lives in its
own module, which provides ``add_arguments(parser)`` and ``run(args) -> int``. Modules are
imported only when their subcommand runs, so a broken optional dependency of one builder
never stops another.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from builders import dataset_command, registry
from builders.errors import UserError
from builders.protocol import Dataset, Step

PROG = "misme-build"

# commands that are no dataset's step: name -> (module with add_arguments/run, help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "demo-sources": (
        "builders.demo.sources_command",
        "synthesise every source corpus in its real format",
    ),
    "verify": ("builders.verify_command", "compare a build with another build or a digest"),
    "release": ("builders.release_command", "a recipe-only release of a build (no audio)"),
    "features": ("builders.features_command", "extract openSMILE / Essentia feature tables"),
    "demo": ("builders.demo.run", "run the whole demo chain end to end"),
    "loudness": (
        "builders.loudness_command",
        "print files' integrated loudness and true peak, measured as the builders measure them",
    ),
}
# alias -> (dataset, step): `misme-build baselines` is `misme-build misme baselines`
ALIASES: dict[str, tuple[str, str]] = {"baselines": ("misme", "baselines")}


def command_names() -> list[str]:
    """The commands in the order ``--help`` lists them."""
    return [
        "demo-sources",
        *registry.names(),
        "verify",
        "release",
        "features",
        "loudness",
        *ALIASES,
        "demo",
    ]


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    """The parser of ``misme-build``; only the chosen command's module is imported."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name in command_names():
        help_text = _help_text(name)
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == chosen:
            _add_command(sub_parser, name)
    return parser


def _help_text(name: str) -> str:
    if name in SUBCOMMANDS:
        return SUBCOMMANDS[name][1]
    if name in ALIASES:
        dataset, step = ALIASES[name]
        return f"the same as `{PROG} {dataset} {step}`"
    return registry.help_text(name)


def _add_command(parser: argparse.ArgumentParser, name: str) -> None:
    if name in SUBCOMMANDS:
        module = importlib.import_module(SUBCOMMANDS[name][0])
        module.add_arguments(parser)
        parser.set_defaults(run=module.run)
    elif name in ALIASES:
        dataset_name, step_name = ALIASES[name]
        step = dataset_step(registry.dataset(dataset_name), step_name)
        step.add_arguments(parser)
        parser.set_defaults(run=step.run)
    else:
        dataset = registry.dataset(name)
        dataset_command.add_arguments(parser, dataset)
        parser.set_defaults(run=dataset_command.runner(dataset))


def dataset_step(dataset: Dataset, name: str) -> Step:
    """The step ``name`` of ``dataset``."""
    return {step.name: step for step in dataset_command.dataset_steps(dataset)}[name]


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
        parser = build_parser(argv)
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

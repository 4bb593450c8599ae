"""The command line: ``dystonia-triage``. A thin layer: it reads input, calls the library and
prints. Bad input gets a message naming the field and the allowed values, and exit code 2.

Heavy modules (pydantic models, the rules engine) are imported inside the commands so that
``--help`` and the first question of the questionnaire appear quickly.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, Iterator, Optional, Sequence

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
# Reading case input is the library's (the web page reads the same way); named here too for the commands.
from triage.inputs import (  # noqa: E402,F401
    MAX_INPUT_BYTES, MAX_PROBLEMS, InputProblem, input_from, parse_cases, parse_inputs, read_input)


class LaterChoices(Sequence[str]):
    """An option's allowed values, looked up the first time argparse needs them (to check a
    value given, or for the help that lists them), not when the parser is built: building it
    must not load the knowledge base, or every start (the questionnaire's too) waits for it."""

    def __init__(self, find: Callable[[], Sequence[str]]):
        self._find = find
        self._values: Optional[tuple[str, ...]] = None

    def _all(self) -> tuple[str, ...]:
        if self._values is None:
            self._values = tuple(self._find())
        return self._values

    def __getitem__(self, index):
        return self._all()[index]

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __contains__(self, value: object) -> bool:
        return value in self._all()


TOP_LEVEL_OPTIONS = ("-h", "--help", "--version")


def build_parser(commands: Optional[Sequence[str]] = None) -> argparse.ArgumentParser:
    """The command line; with ``commands``, only those sub-commands (the default: all)."""
    import importlib

    from triage.commands import MODULES

    parser = argparse.ArgumentParser(
        prog="dystonia-triage",
        description=(
            "A rule-based triage assistant for dystonia. It asks about symptoms and says which "
            "patterns the answers may fit, how urgent it is and what may come next. It never "
            "diagnoses: only a neurologist can."
        ),
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in MODULES if commands is None else commands:
        importlib.import_module(f"triage.commands.{name}").add_parser(sub)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    # The command uses no pydantic plugins; looking for them scans every installed package
    # and delays the first question.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or (argv[0].startswith("-") and argv[0] not in TOP_LEVEL_OPTIONS):
        # no command: the questionnaire, with its options if any (dystonia-triage --for
        # clinician), and without building the other commands' parsers
        argv = ["interview", *argv]
        parser = build_parser(argv[:1])
    else:
        parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from triage import __version__

        print(f"dystonia-triage {__version__}")
        return EXIT_OK
    from triage.errors import TriageError

    try:
        return args.func(args)
    except InputProblem as exc:
        print(f"dystonia-triage: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except TriageError as exc:
        print(f"dystonia-triage: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Run the command line in this process, with its standard streams captured (fast enough for
hypothesis, where a new Python process per example would take minutes)."""

from __future__ import annotations

import io
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from typing import Sequence


@dataclass
class Outcome:
    code: int
    out: str
    err: str


def run_main(args: Sequence[str], stdin: bytes = b"") -> Outcome:
    """``dystonia-triage ARGS`` with ``stdin`` as its input. Any exception that escapes
    ``main`` (a traceback for the user) escapes this function too, so the test fails."""
    from triage.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse exits on usage errors and --help
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        sys.stdin = saved
    return Outcome(code, out.getvalue(), err.getvalue())

"""Batches that stream: JSON Lines in, JSON Lines out, in constant memory whatever the count.

``dystonia-triage assess PATH --format jsonl`` reads one case per line (a case object or a
FHIR QuestionnaireResponse; blank lines are skipped) and writes one line per case, in order:
the assessment, or for a line that cannot be assessed an error object
``{"error": {"line": N, "problems": [...]}}``. Each case is read, assessed, written and
forgotten before the next is read. Input whose first character is ``[`` is read as a JSON
array, one element at a time. The exit code is 2 when a line was bad (after every line is
written), else 0.

Only a single line (or array element) has a size limit, :data:`MAX_LINE_BYTES`; the stream as
a whole has none. A progress line goes to standard error only when it is a terminal and the
batch takes more than a moment; it is never part of the output.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import IO, Iterator, Optional

from triage.inputs import MAX_INPUT_BYTES, MAX_PROBLEMS, InputProblem, open_input

MAX_LINE_BYTES = MAX_INPUT_BYTES  # one line is one case: the cap of a case file
CHUNK = 1 << 16
PROGRESS_AFTER_S = 1.0  # a batch that takes longer than this shows its progress (on a terminal)


@dataclass
class Item:
    """One line (or array element): its number, and its parsed value or what is wrong."""

    where: int
    value: object = None
    problem: Optional[str] = None


# --- reading ---------------------------------------------------------------------------------


def _decode(raw: bytes, first: bool) -> str:
    return raw.decode("utf-8-sig" if first else "utf-8")


def _json(text: str) -> object:
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply to be a case") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg} at column {exc.colno}") from None
    except ValueError:
        raise ValueError("not valid for a case: a number is far too long") from None


def json_lines(stream: IO[bytes], first: bytes = b"", skipped: int = 0) -> Iterator[Item]:
    """Each non-blank line of ``stream`` (after ``first``, bytes of the first line already
    read, and ``skipped`` blank lines before it), parsed."""
    number = skipped
    pending = first
    while True:
        line = pending + stream.readline(MAX_LINE_BYTES + 1 - len(pending))
        pending = b""
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_BYTES and not line.endswith(b"\n"):
            while True:  # skip the rest of the line, a chunk at a time
                rest = stream.readline(CHUNK)
                if not rest or rest.endswith(b"\n"):
                    break
            yield Item(number, problem=f"longer than {MAX_LINE_BYTES:,} bytes; a case is a few hundred bytes")
            continue
        try:
            text = _decode(line, number == 1)
        except UnicodeDecodeError as exc:
            yield Item(number, problem=f"not UTF-8 text (byte {exc.start})")
            continue
        if not text.strip():
            continue
        try:
            yield Item(number, _json(text))
        except ValueError as exc:
            yield Item(number, problem=str(exc))


def json_array(stream: IO[bytes], first: bytes = b"") -> Iterator[Item]:
    """The elements of a JSON array, parsed one at a time (``Item.where`` counts elements
    from 1). A malformed array stops the stream with its last item a problem."""
    decoder = json.JSONDecoder()
    buf = _decode(first + stream.read(CHUNK), True).lstrip()
    eof = False
    if not buf.startswith("["):
        yield Item(1, problem="expected a JSON array of cases")
        return
    pos, count, expect_value = 1, 0, True

    def more() -> bool:
        nonlocal buf, pos, eof
        data = stream.read(CHUNK)
        if not data:
            eof = True
            return False
        buf = buf[pos:] + data.decode("utf-8", errors="strict")
        pos = 0
        return True

    while True:
        while pos < len(buf) and buf[pos] in " \t\r\n":
            pos += 1
        if pos >= len(buf):
            if eof or not more():
                yield Item(count + 1, problem="the array is not closed with ]")
                return
            continue
        char = buf[pos]
        if char == "]":
            if count == 0:
                yield Item(1, problem="the array is empty; expected at least one case")
            return
        if not expect_value:
            if char != ",":
                yield Item(count + 1, problem=f"expected , or ] after case {count}")
                return
            pos += 1
            expect_value = True
            continue
        try:
            value, end = decoder.raw_decode(buf, pos)
        except RecursionError:
            yield Item(count + 1, problem="nested too deeply to be a case")
            return
        except ValueError as exc:  # incomplete (read more) or malformed
            if not eof and len(buf) - pos <= MAX_LINE_BYTES and more():
                continue
            if len(buf) - pos > MAX_LINE_BYTES:
                yield Item(count + 1, problem=f"longer than {MAX_LINE_BYTES:,} bytes; a case is a few hundred bytes")
            else:
                msg = exc.msg if isinstance(exc, json.JSONDecodeError) else "a number is far too long"
                yield Item(count + 1, problem=f"not valid JSON: {msg}")
            return
        count += 1
        pos, expect_value = end, False
        yield Item(count, value)
        if pos > CHUNK:  # drop what has been read
            buf, pos = buf[pos:], 0


def items(stream: IO[bytes]) -> tuple[str, Iterator[Item]]:
    """``("line" | "case", items)``: a JSON array when the input starts with ``[``, else lines."""
    blank = b" \t\r\n\xef\xbb\xbf"  # white space and a byte-order mark
    peek = getattr(stream, "peek", None)
    ahead = peek(CHUNK) if peek else b""
    if ahead.lstrip(blank):
        if ahead.lstrip(blank).startswith(b"["):
            return "case", json_array(stream)
        return "line", json_lines(stream)
    head, skipped = b"", 0  # only white space in sight: read up to the first other byte
    while True:
        byte = stream.read(1)
        if not byte:
            break
        if byte == b"\n":
            skipped, head = skipped + 1, b""
        elif byte in blank:
            head += byte
        else:
            head += byte
            break
    if head.lstrip(blank).startswith(b"["):
        return "case", json_array(stream, head.lstrip(blank))
    return "line", json_lines(stream, head, skipped)


# --- progress --------------------------------------------------------------------------------


class Progress:
    """A one-line count on standard error, when it is a terminal and the batch is long."""

    def __init__(self, out: IO[str], total_bytes: Optional[int] = None):
        self.out = out
        self.on = _is_terminal(out) and os.environ.get("TERM") != "dumb"
        self.total = total_bytes
        self.start = self.last = time.monotonic()
        self.shown = False

    def update(self, count: int, done_bytes: Optional[int] = None) -> None:
        if not self.on:
            return
        now = time.monotonic()
        if now - self.start < PROGRESS_AFTER_S or now - self.last < 0.2:
            return
        self.last = now
        rate = count / (now - self.start)
        share = f" ({100 * done_bytes / self.total:.0f}%)" if self.total and done_bytes is not None else ""
        self.out.write(f"\rassessed {count:,} cases{share}, {rate:,.0f} a second ")
        self.out.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.out.write("\r\x1b[K")
            self.out.flush()


def _is_terminal(out: IO[str]) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False


# --- the batch -------------------------------------------------------------------------------


@dataclass
class Outcome:
    count: int = 0
    bad: list[str] = field(default_factory=list)
    bad_count: int = 0


def assess_stream(stream: IO[bytes], out: IO[str], name: str, err: IO[str] = sys.stderr,
                  total_bytes: Optional[int] = None, flush_each: bool = False) -> Outcome:
    """Assess every case of ``stream`` and write one JSON line for each to ``out``."""
    from triage.assessment import assess, to_json
    from triage.inputs import input_from
    from triage.errors import CaseError

    unit, stream_items = items(stream)
    outcome = Outcome()
    progress = Progress(err, total_bytes)
    tell = getattr(stream, "tell", None) if total_bytes else None
    try:
        for item in stream_items:
            outcome.count += 1
            problems: list[str] = []
            if item.problem is not None:
                problems = [item.problem]
            else:
                try:
                    case, _asked = input_from(item.value, f"{name} {unit} {item.where}")
                    out.write(to_json(assess(case)).decode())
                    out.write("\n")
                except CaseError as exc:
                    problems = str(exc).splitlines()
            if problems:
                out.write(json.dumps({"error": {unit: item.where, "problems": problems}}, ensure_ascii=False, separators=(",", ":")))
                out.write("\n")
                outcome.bad_count += 1
                if len(outcome.bad) < MAX_PROBLEMS:
                    outcome.bad.append(f"{unit} {item.where}: " + "; ".join(problems))
            if flush_each:
                out.flush()
            progress.update(outcome.count, tell() if tell else None)
    finally:
        progress.close()
    return outcome


def run(path: str, out: IO[str] = sys.stdout, err: IO[str] = sys.stderr) -> int:
    """The ``assess --format jsonl`` command: exit 0, or 2 when some line was bad."""
    from triage.cli import EXIT_OK, EXIT_USAGE

    name = "stdin" if path == "-" else path
    stream = open_input(path)
    try:
        regular = _regular_size(stream)
        outcome = assess_stream(stream, out, name, err, total_bytes=regular,
                                flush_each=regular is None)
    finally:
        if path != "-":
            stream.close()
    out.flush()
    if outcome.count == 0:
        raise InputProblem(f"{name}: empty; expected JSON Lines (one case per line) or a JSON array of cases")
    if outcome.bad_count:
        more = outcome.bad_count - len(outcome.bad)
        lines = outcome.bad + ([f"... and {more:,} more"] if more > 0 else [])
        print(f"dystonia-triage: {name}: {outcome.bad_count:,} of {outcome.count:,} could not be assessed "
              "(each has an error line in the output)\n  " + "\n  ".join(lines), file=err)
        return EXIT_USAGE
    return EXIT_OK


def _regular_size(stream: IO[bytes]) -> Optional[int]:
    """The size of a regular file (for the progress), None for a pipe or a terminal."""
    import stat

    try:
        st = os.fstat(stream.fileno())
    except (OSError, AttributeError, ValueError):
        return None
    return st.st_size if stat.S_ISREG(st.st_mode) else None

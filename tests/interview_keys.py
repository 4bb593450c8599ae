"""Drive the questionnaire through questionary with named keys (prompt_toolkit's pipe input
and DummyOutput). All keys are sent up front and the pipe is then closed, so a test whose keys
run out ends with EOFError (exit code 2) instead of hanging."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import functools

import prompt_toolkit.application.application as pt_application
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.data_structures import Size
from prompt_toolkit.output import DummyOutput
from prompt_toolkit.output.vt100 import Vt100_Output

from triage import knowledge
from triage.questionnaire.session import Questionnaire, Session
from triage.terminal.interview import TerminalInterview, words
from triage.terminal.prompts import KeysIO


# Speed only: every prompt builds prompt_toolkit's default key bindings afresh (about 20 ms);
# they are the same every time, so while these helpers drive an interview they are built once.
_LOADERS = {name: getattr(pt_application, name)
            for name in ("load_key_bindings", "load_page_navigation_bindings")}
_CACHED = {name: functools.lru_cache(maxsize=1)(loader) for name, loader in _LOADERS.items()}


class Keys:
    DOWN = "\x1b[B"
    UP = "\x1b[A"
    ENTER = "\r"
    SPACE = " "
    CTRL_C = "\x03"
    CLEAR_LINE = "\x15"  # Ctrl-U
    WHY = "h"
    BACK = "b"


KB = knowledge.default()
IV = Questionnaire(KB)  # one questionnaire for the tests, so its caches serve them all


def pick(index: int, start: int = 0) -> str:
    """Move from ``start`` to ``index`` in a list and press Enter."""
    return (Keys.DOWN * (index - start) if index >= start else Keys.UP * (start - index)) + Keys.ENTER


def answer(qid: str, value: Any, *, previous: Any = None, offered: Optional[list[str]] = None) -> str:
    """The keys that give ``value`` to question ``qid`` (a choice id, a list of choice ids,
    yes / no / unsure, or a number; ``None`` for "none of these" or "I don't know").
    ``previous`` is the answer the prompt starts from (when changing an answer); ``offered``
    the choices on the screen (default: all)."""
    q = KB.question(qid)
    if q.kind == "number":
        return Keys.CLEAR_LINE + ("" if value is None else str(value)) + Keys.ENTER
    codes = offered if offered is not None else q.answer_ids()
    if q.kind == "several_of":
        wanted = [codes.index(v) for v in (value or [])] or [len(codes)]  # none of these: last
        old = [codes.index(v) for v in (previous or [])] if previous is not None else []
        if previous == []:
            old = [len(codes)]
        keys, at = "", 0
        for i in sorted(set(wanted) ^ set(old)):  # toggle what differs
            keys += Keys.DOWN * (i - at) + Keys.SPACE
            at = i
        return keys + Keys.ENTER
    start = codes.index(previous) if previous is not None else 0
    return pick(codes.index(value), start)


@dataclass
class Result:
    code: int
    out: str
    flow: TerminalInterview


def drive(*keys: str, session: Optional[Session] = None, educator: bool = False,
          folder: Optional[Path] = None, width: int = 80, screen: Optional[io.StringIO] = None) -> Result:
    """Run an interview on ``keys``. With ``screen``, what prompt_toolkit draws is written
    there as a terminal of ``width`` columns would get it (else it is thrown away)."""
    iv = IV
    out = io.StringIO()
    try:
        for name, cached in _CACHED.items():
            setattr(pt_application, name, cached)
        with create_pipe_input() as inp:
            inp.send_text("".join(keys))
            inp.close()
            output = DummyOutput() if screen is None else Vt100_Output(
                screen, lambda: Size(rows=60, columns=width), term="xterm")
            kio = KeysIO(words(iv), out=out, input=inp, output=output, width=width)
            flow = TerminalInterview(kio, session or iv.session(), educator=educator, err=out,
                                     folder=folder or Path("."), warm_up=False)
            code = flow.run()
    finally:
        for name, loader in _LOADERS.items():
            setattr(pt_application, name, loader)
    return Result(code, out.getvalue(), flow)


def straight(script: dict) -> list[str]:
    """The keys for answering the questions in ``script`` (question id -> answer) in the file's
    order. Only the questions the interview asks may be in it."""
    return [answer(q.id, script[q.id]) for q in KB.questions if q.id in script]


# review: Enter on "show the result"; how: Enter on "Finish"; two saves: Enter on "No"
FINISH = Keys.ENTER * 4


def default_answer(qid: str) -> Any:
    """What a script answers when it does not name a question: no, none, not sure."""
    return KB.question(qid).quiet_answer()


@dataclass
class Step:
    qid: str
    value: Any
    offered: list[str]  # the choices on the screen

    def keys(self) -> str:
        return answer(self.qid, self.value, offered=self.offered)


def path(script: dict, audience: Optional[str] = None) -> list[Step]:
    """The questions the interview asks for ``script``, the choices it offers and the
    answers given, in order (computed with the library, so a UI test can send the right
    keys). Choices a script ticks that are not offered are left out."""
    session = IV.session(audience=audience)
    if audience:
        session.preset("respondent", audience)
    steps = []
    while (q := session.next_question()) is not None:
        offered = [c.id for c in session.offered(q)] if q.kind != "yes_no" else q.answer_ids()
        value = script.get(q.id, default_answer(q.id))
        if q.kind == "several_of":
            value = [v for v in value if v in offered]
        steps.append(Step(q.id, value, offered))
        session.answer(q.id, value)
    return steps


def asked(script: dict) -> list[str]:
    return [s.qid for s in path(script)]


def keys_for(script: dict, audience: Optional[str] = None) -> list[str]:
    return [s.keys() for s in path(script, audience)]

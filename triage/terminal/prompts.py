"""Two ways to ask a question at a terminal, with the same small interface:

* :class:`KeysIO` — questionary (arrow keys, space to tick, ``h`` for why, ``b`` for back);
* :class:`PlainIO` — numbered answers read line by line: no arrow keys, no colour, works with
  a screen reader and with piped answers.

Each prompt returns the answer, or :data:`WHY` / :data:`BACK`. Ctrl-C raises
``KeyboardInterrupt`` and the end of the input raises ``EOFError``; the flow handles both.
Nothing here knows about dystonia: the words come from the caller.
"""

from __future__ import annotations

import re
import shutil
import sys
import textwrap
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence, TextIO


class _Sentinel:
    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


WHY = _Sentinel("WHY")
BACK = _Sentinel("BACK")
NONE = "none"  # the value of a checklist's "none of these" (what the questionnaire reads)
Read = Callable[[Any], Any]  # what was typed or ticked -> the answer; ValueError: say why


@dataclass
class Option:
    label: str
    value: Any
    description: Optional[str] = None


@dataclass
class Words:
    """The few words the prompts themselves show (from questions.yaml's ``interview``)."""

    why: str
    back: str
    instruction: str  # keys for a single choice
    several: str  # keys for a checklist
    several_plain: str
    choice_invalid: str
    yes: str
    no: str


def terminal_width() -> int:
    """The terminal's width in columns (80 when it cannot be told)."""
    return shutil.get_terminal_size((80, 24)).columns


def text_width(columns: int) -> int:
    """The columns the interview wraps its text to on a terminal of ``columns``: the last
    column left free, at most 78, at least 30."""
    return max(min(columns - 1, 78), 30)


def fit(message: str, width: int, indent: str = "  ") -> str:
    """``message`` wrapped to ``width`` columns after questionary's "? " mark, each line of
    it on its own (a help line keeps its indent), so that no word is cut off at the edge."""
    room = max(width - 3, 20)  # the "? " mark, and the last column left free
    lines = []
    for line in message.split("\n"):
        lead = line[:len(line) - len(line.lstrip())]
        lines.append(textwrap.fill(line.strip(), width=room, initial_indent=lead,
                                   subsequent_indent=lead or indent, break_on_hyphens=False) or lead)
    return "\n".join(lines)


def fit_prompt(message: str, width: int, answers: Sequence[str] = ()) -> str:
    """The question of a prompt wrapped to ``width``; when the longest answer would not fit
    after its last line (questionary shows the answer there), the answer goes on a line
    of its own."""
    text = fit(message, width)
    longest = max((len(a.split("\n")[0]) for a in answers), default=0)
    if longest and 2 + len(text.split("\n")[-1]) + 1 + longest > width:
        text += "\n "
    return text


def fit_hint(hint: str, width: int) -> str:
    """A key hint on lines of its own under the question, wrapped to ``width``."""
    return "\n" + textwrap.fill(" ".join(hint.split()), width=max(width - 2, 20), initial_indent="  ",
                                 subsequent_indent="  ", break_on_hyphens=False) if hint.strip() else hint


def shorten(text: str, width: int) -> str:
    """``text`` on one line of at most ``width`` columns (ended with "…" when cut)."""
    text = " ".join(text.split())
    return text if len(text) <= width else text[:max(width - 1, 1)].rstrip() + "…"


def fit_choice(label: str, width: int, prefix: int) -> str:
    """A choice's label wrapped to ``width`` columns after a ``prefix`` of that many columns
    (the pointer, and the tick box of a checklist); later lines are indented under it."""
    room = max(width - prefix - 1, 20)  # the last column left free
    return textwrap.fill(" ".join(label.split()), width=room, subsequent_indent=" " * (prefix + 2),
                         break_on_hyphens=False)


def _validator(read: Read) -> Callable[[Any], Any]:
    """questionary's validate: True, or the message ``read`` gives for what was typed or ticked."""
    def validate(given: Any) -> Any:
        try:
            read(given)
        except ValueError as exc:
            return str(exc)
        return True

    return validate


class KeysIO:
    """Questions with questionary. ``input``/``output`` let tests drive it with a pipe;
    ``width`` fixes the terminal width (default: the terminal's, when each prompt is drawn)."""

    def __init__(self, words: Words, *, out: Optional[TextIO] = None, input=None, output=None,
                 width: Optional[int] = None):
        self.words = words
        self.out = out or sys.stdout  # looked up now, not at import (tests replace the streams)
        self._io = {k: v for k, v in (("input", input), ("output", output)) if v is not None}
        self.when_shown: Optional[Callable[[], None]] = None  # run once the first prompt is drawn
        self._width = width

    @property
    def width(self) -> int:
        return self._width or terminal_width()

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    @staticmethod
    def _keys(extra: bool):
        from prompt_toolkit.key_binding import KeyBindings

        kb = KeyBindings()
        if extra:
            @kb.add("h")
            def _why(event) -> None:
                event.app.exit(result=WHY)

            @kb.add("b")
            def _back(event) -> None:
                event.app.exit(result=BACK)

        return kb

    def _ask(self, question, extra: bool = True):
        from prompt_toolkit.key_binding import merge_key_bindings

        app = question.application
        app.key_bindings = merge_key_bindings([app.key_bindings, self._keys(extra)])
        if self.when_shown is not None:
            hook, self.when_shown = self.when_shown, None

            def shown(_app) -> None:
                app.after_render -= shown
                hook()

            app.after_render += shown
        return question.unsafe_ask()

    def select(self, message: str, options: Sequence[Option], default: Any = None,
               extras: bool = True, instruction: Optional[str] = None) -> Any:
        import questionary

        width = self.width
        choices: list = [questionary.Choice(fit_choice(o.label, width, 3), value=o.value,
                                            description=o.description) for o in options]
        if extras:
            choices += [questionary.Separator(),
                        questionary.Choice(self.words.why, value=WHY),
                        questionary.Choice(self.words.back, value=BACK)]
        values = [o.value for o in options]
        hint = instruction or (self.words.instruction if extras else " ")
        q = questionary.select(fit_prompt(message, width, [c.title for c in choices[:len(options)]]),
                               choices=choices, default=default if default in values else None,
                               instruction=fit_hint(hint, width),
                               **self._io)
        return self._ask(q, extras)

    def checkbox(self, message: str, options: Sequence[Option], read: Read,
                 checked: Optional[Sequence[Any]] = None, none_label: Optional[str] = None) -> Any:
        """Tick several; ``checked`` is the earlier answer (``[]`` ticks "none"), ``None`` if
        there was none. ``read`` turns the ticked values (:data:`NONE` for "none of these")
        into the answer, or raises ``ValueError`` with the message to show."""
        import questionary

        width = self.width
        choices = [questionary.Choice(fit_choice(o.label, width, 5), value=o.value,
                                      description=o.description,
                                      checked=o.value in (checked or ())) for o in options]
        if none_label:
            choices.append(questionary.Choice(none_label, value=NONE,
                                              checked=checked is not None and not checked))

        q = questionary.checkbox(fit_prompt(message, width, ["done (99 selections)"] +
                                            [f"[{c.title}]" for c in choices]),
                                 choices=choices, validate=_validator(read),
                                 instruction=fit_hint(self.words.several, width), **self._io)
        result = self._ask(q)
        if result in (WHY, BACK):
            return result
        return read(result)

    def number(self, message: str, hint: str, read: Read, default: Optional[int] = None) -> Any:
        """A number typed; ``read`` turns the text into the answer, or raises ``ValueError``
        with the message to show."""
        import questionary

        width = self.width
        q = questionary.text(fit(message, width), default="" if default is None else str(default),
                             validate=_validator(read), instruction=fit_hint(hint, width), **self._io)
        result = self._ask(q)
        if result in (WHY, BACK):
            return result
        return read(result)

    def confirm(self, message: str, default: bool = True) -> bool:
        return self.select(message, [Option(self.words.yes, True), Option(self.words.no, False)],
                           default=default, extras=False)

    def text(self, message: str, default: str = "") -> str:
        import questionary

        # The default is shown greyed in the empty line (and taken on a bare Enter), not typed
        # into it: a name typed replaces it instead of being appended to it.
        q = questionary.text(fit_prompt(message, self.width, [default + "x" * 10]), default="",
                             placeholder=[("class:placeholder fg:ansibrightblack", default)] if default else None,
                             **self._io)
        return self._ask(q, extra=False) or default


class PlainIO:
    """Numbered answers read line by line from ``inp``; ``h`` why, ``b`` back, ``q`` stop."""

    def __init__(self, words: Words, *, inp: Optional[TextIO] = None, out: Optional[TextIO] = None):
        self.words = words
        self.inp = inp or sys.stdin  # looked up now, not at import (tests replace the streams)
        self.out = out or sys.stdout
        self.when_shown: Optional[Callable[[], None]] = None  # run once the first prompt is shown
        self.width = terminal_width()

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def _line(self) -> str:
        self.out.write("> ")
        self.out.flush()
        if self.when_shown is not None:
            hook, self.when_shown = self.when_shown, None
            hook()
        line = self.inp.readline()
        if not line:
            self.say()
            raise EOFError
        line = line.strip()
        if not self.inp.isatty():
            self.say(line)  # echo piped answers, so a transcript reads like a conversation
        if line.lower() == "q":
            raise KeyboardInterrupt
        return line

    def _special(self, line: str, extras: bool) -> Any:
        if extras and line.lower() == "h":
            return WHY
        if extras and line.lower() == "b":
            return BACK
        return None

    def _list(self, message: str, options: Sequence[Option], extras: bool, marks: Sequence[bool] = ()) -> None:
        self.say(message)
        for i, o in enumerate(options, 1):
            mark = ""
            if marks:
                mark = "[x] " if marks[i - 1] else "[ ] "
            self.say(f"  {i}. {mark}{o.label}")
            if o.description:
                self.say(f"     {' '.join(o.description.split())}")
        if extras:
            self.say(f"  h. {self.words.why}   b. {self.words.back}")

    def select(self, message: str, options: Sequence[Option], default: Any = None,
               extras: bool = True, instruction: Optional[str] = None) -> Any:
        values = [o.value for o in options]
        self._list(message, options, extras)
        while True:
            line = self._line()
            special = self._special(line, extras)
            if special is not None:
                return special
            if not line and default in values:
                return default
            if line.isascii() and line.isdigit() and 1 <= int(line) <= len(options):
                return options[int(line) - 1].value
            self.say(self.words.choice_invalid)

    def checkbox(self, message: str, options: Sequence[Option], read: Read,
                 checked: Optional[Sequence[Any]] = None, none_label: Optional[str] = None) -> Any:
        opts = list(options) + ([Option(none_label, NONE)] if none_label else [])
        marks = [o.value in checked if o.value is not NONE else not checked for o in opts] if checked is not None else []
        self._list(message, opts, True, marks)
        self.say(self.words.several_plain)
        while True:
            line = self._line()
            special = self._special(line, True)
            if special is not None:
                return special
            parts = [p for p in re.split(r"[\s,;]+", line) if p]
            if not parts and checked is not None:
                values = [o.value for o, mark in zip(opts, marks) if mark]
            elif all(p.isascii() and p.isdigit() and 1 <= int(p) <= len(opts) for p in parts):
                values = list(dict.fromkeys(opts[int(p) - 1].value for p in parts))
            else:
                self.say(self.words.choice_invalid)
                continue
            try:
                return read(values)
            except ValueError as exc:
                self.say(str(exc))

    def number(self, message: str, hint: str, read: Read, default: Optional[int] = None) -> Any:
        self.say(message)
        self.say(f"  {hint}")
        while True:
            line = self._line()
            special = self._special(line, True)
            if special is not None:
                return special
            try:
                return read(line)
            except ValueError as exc:
                self.say(str(exc))

    def confirm(self, message: str, default: bool = True) -> bool:
        return self.select(message, [Option(self.words.yes, True), Option(self.words.no, False)],
                           default=default, extras=False)

    def text(self, message: str, default: str = "") -> str:
        self.say(f"{message} [{default}]" if default else message)
        line = self._line()
        return line or default

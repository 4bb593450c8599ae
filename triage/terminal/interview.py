"""The interview at a terminal: welcome, then the questionnaire session's questions one at a
time, the emergency the moment the session says so, review, the result with "how", and the
offer to save. A thin loop: the session (:mod:`triage.questionnaire`) decides everything, the
prompts (:mod:`triage.terminal.prompts`) ask; every word comes from the knowledge base.

Nothing is lost: Ctrl-C at any point offers to save the answers so far (owner-only, atomic),
and a second Ctrl-C quits without a traceback.
"""

from __future__ import annotations

import json
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any, Callable, Optional, TextIO

from triage.errors import EngineError
from triage.questionnaire.answers import AnswerError
from triage.questionnaire.session import Emergency, Questionnaire, Session
from triage.terminal.prompts import BACK, WHY, Option, PlainIO, Words, text_width

EXIT_OK, EXIT_USAGE, EXIT_INTERRUPTED = 0, 2, 130
DONE = "__done__"
ANSWERS_FILE = "dystonia-triage-answers.json"
CASE_FILE = "dystonia-triage-case.json"
REPORT_FILE = "dystonia-triage-report.md"


def _why():
    """The explanations of a session (why a question is asked, how a result was reached):
    imported when first needed, not before the first question is on the screen."""
    from triage.explanation import asked

    return asked


def _wrap(text: str, first: str = "", rest: str = "", width: int = 78) -> str:
    return textwrap.fill(" ".join(text.split()), width=width, initial_indent=first, subsequent_indent=rest,
                         break_on_hyphens=False)


def build_engine(iv: Questionnaire) -> None:
    """Build the rules engine (one assessment of an empty case), so that the first answer does
    not wait for it."""
    iv.assessor.assessment({"version": 1})


class Reader:
    """What is typed or ticked at question ``q`` -> the session's answer (``ValueError``: the
    message to show). It names its question, so a first screen drawn ahead can read with it."""

    def __init__(self, session: Session, q):
        self.session, self.q = session, q
        self.question = q.id

    def __call__(self, given: Any) -> Any:
        return self.session.parse(self.q, given if isinstance(given, list) else [given])


def words(iv: Questionnaire) -> Words:
    t = iv.text
    return Words(why=t.why, back=t.back, instruction=t.keys, several=t.several_instruction,
                 several_plain=t.several_plain, choice_invalid=t.choice_invalid,
                 yes=t.answer_yes, no=t.answer_no)


class TerminalInterview:
    """One interview. ``io`` is a :class:`KeysIO` or a :class:`PlainIO`."""

    def __init__(self, io, session: Session, *, educator: bool = False, err: Optional[TextIO] = None,
                 folder: Path = Path("."), warm_up: bool = True, resumed_from: Optional[str] = None,
                 clinics_file: Optional[Path] = None):
        self.io = io
        self.session = session
        self.iv = session.questionnaire
        self.t = self.iv.text
        self.educator = educator
        self.err = err or sys.stderr
        self.folder = folder
        self.warm_up = warm_up
        self.resumed_from = resumed_from
        self.last = None  # the assessment after the last answer (for educators' firings)
        self.section: Optional[str] = None
        self.shown = None  # the assessment shown as the result
        self.asked: list[str] = []  # every question put to the person, in order (again after back)
        self.clinics_file = clinics_file  # the clinic directory (None: TRIAGE_CLINICS, else the example)
        self.clinics: Any = None  # the clinics found in the find-a-specialist step (never the place typed)

    @property
    def width(self) -> int:
        """The columns to wrap text to: the terminal's, at most 78."""
        return text_width(getattr(self.io, "width", 79))

    @property
    def educating(self) -> bool:
        """Whether each rule is shown as it fires: --for educator, or an educator answering."""
        return self.educator or self.session.who() == "educator"

    # -- running -------------------------------------------------------------------------------
    def run(self) -> int:
        try:
            return self._run()
        except KeyboardInterrupt:
            return self._interrupted()
        except EngineError as exc:
            # Ctrl-C while the rules compute: the engine catches the KeyboardInterrupt in a rule's
            # action and gives it back as its own error. It is still Ctrl-C.
            if isinstance(exc.__cause__, KeyboardInterrupt) or "KeyboardInterrupt" in str(exc):
                return self._interrupted()
            raise
        except EOFError:
            print(self.t.end_of_input, file=self.err)
            return EXIT_USAGE

    def _run(self) -> int:
        self.welcome()
        if self.warm_up:  # build the rules engine while the first question is on the screen
            # not a daemon: a person who quits at once waits the moment it needs to finish,
            # rather than the interpreter shutting down under a thread inside the engine's C code
            self.io.when_shown = lambda: threading.Thread(target=build_engine, args=(self.iv,),
                                                          name="engine warm-up").start()
        if self.session.answers:
            self._after_answer()
        if not self.questions():
            return self.result()
        while True:
            choice = self.review()
            if choice == DONE:
                break
            if self.ask(self.iv.by_id[choice]) is BACK:
                continue  # back to the review
            if not self._after_answer() or not self.questions():
                break
        return self.result()

    def welcome(self) -> None:
        say = self.io.say
        say(self.t.title)
        say("=" * len(self.t.title))
        who = self.session.who()  # known from the start with --for
        say(_wrap(self.t.worded("welcome", who), width=self.width))
        say(_wrap(self.iv.kb.text.disclaimer_for(who), width=self.width))
        say()
        say(_wrap(self.t.worded("emergency_now", who), width=self.width))
        say()
        keys = self.t.welcome_keys_plain if isinstance(self.io, PlainIO) else self.t.welcome_keys
        say(_wrap(keys, width=self.width))
        if self.resumed_from:
            say(self.t.resumed.format(path=self.resumed_from))
        say()

    def questions(self) -> bool:
        """Ask until no question is left. False when the person chose to stop after an
        emergency (go straight to the result)."""
        while True:
            q = self.session.next_question()
            if q is None:
                return True
            if self.ask(q) is BACK:
                self.session.back()
                continue
            if not self._after_answer():
                return False

    def ask(self, q) -> Any:
        """Ask one question until it is answered (showing why on request); BACK goes back."""
        if q.section != self.section:
            self.section = q.section
            self.io.say(f"-- {self.iv.sections[q.section]} --")
        self.session.mark_asked(q.id)
        self.asked.append(q.id)
        while True:
            value = self._prompt(q)
            if value is WHY:
                self.io.say(self.t.why_title + ":")
                for line in _why().why(self.session, q):
                    indent = "  " + " " * (len(line) - len(line.lstrip()))
                    self.io.say(_wrap(line, indent, indent + "  ", self.width))
                self.io.say()
                continue
            if value is BACK:
                return BACK
            try:
                self.session.answer(q.id, value)
            except AnswerError as exc:  # an impossible case: say why, ask again
                self.io.say(str(exc))
                continue
            return value

    def _prompt(self, q) -> Any:
        s = self.session
        message = s.wording(q)
        hint = s.help(q)
        if hint:
            message += "\n  " + hint
        default = s.default(q.id)
        read = Reader(s, q)

        if q.kind == "number":
            low, high = s.bounds(q)
            return self.io.number(message, self.t.number_prompt.format(min=low, max=high), read, default)
        if q.kind == "several_of":
            options = [Option(c.label or c.id, c.id, c.description) for c in s.offered(q)]
            return self.io.checkbox(message, options, read, checked=default if s.has_default(q.id) else None,
                                    none_label=q.none)
        if q.kind == "yes_no":
            options = [Option(self.t.yes_no_label(code), code) for code in q.answer_ids()]
        else:
            options = [Option(c.label or c.id, c.id, c.description) for c in q.choices]
        return self.io.select(message, options, default=default)

    def _after_answer(self) -> bool:
        """Show new rule firings (educators) and an emergency at once. False: stop here."""
        now = self.session.assessment()
        if self.educating:
            for line in _why().new_firings(self.session, self.last, now):
                self.io.say(_wrap(line, "  ", "    ", self.width))
        self.last = now
        emergency = self.session.emergency_to_show()
        return True if emergency is None else self.emergency(emergency)

    def emergency(self, e: Emergency) -> bool:
        say = self.io.say
        bar = "!" * self.width
        say()
        say(bar)
        say(e.label.upper())
        say(bar)
        say(_wrap(e.action, width=self.width))
        for reason in e.reasons:
            say(_wrap(f"- {reason}", "  ", "    ", self.width))
        say(bar)
        say(_wrap(self.t.worded("emergency_after", self.session.who()), width=self.width))
        say()
        return self.io.confirm(self.t.worded("emergency_go_on", self.session.who()), default=True)

    # -- review ---------------------------------------------------------------------------------
    def review(self) -> Any:
        self.io.say()
        self.io.say(f"-- {self.t.review_title} --")
        self.section = None
        options = [Option(self.t.review_row.format(short=q.short, answer=label), q.id)
                   for q, label in self.session.review()]
        options.append(Option(self.t.review_done, DONE))
        return self.io.select(self.t.review_prompt, options, default=DONE, extras=False)

    # -- result ---------------------------------------------------------------------------------
    def result(self) -> int:
        from triage import report

        a = self.session.assessment()
        self.shown = a
        self.io.say()
        self.io.say(f"-- {self.t.result_title} --")
        self.io.say(report.text(a, rules=self.educating, width=self.width,
                                respondent=self.session.who()).rstrip("\n"))
        if self.session.shows_chart():  # one block a nurse copies into the record as it is
            self.io.say()
            self.io.say(f"-- {self.t.chart_title} --")
            self.io.say(self.session.chart(a).rstrip("\n"))
        try:
            self.how(a)
            self.offer_save(a)
        except EOFError:  # the result is on the screen: an input that ends here is no error
            self.io.say()
        e = self.session.emergency()
        if e is not None:  # the last words on the screen are what to do now, not only "thank you"
            self.io.say(_wrap(f"{e.label.upper()}: {e.action}", width=self.width))
        self.io.say(self.t.worded("goodbye", self.session.who()))
        return EXIT_OK

    def how(self, a) -> None:
        from triage import clinics

        kb = self.iv.kb
        options = []
        if clinics.offered(kb, a):  # never on an emergency result: its action is emergency care
            options.append(Option(kb.specialist_words.offer, ("specialist", None)))
        options += [Option(f"{a.care_label} ({a.care_level})", ("care", a.care_because))]
        options += [Option(c.label, ("candidate", c.because)) for c in a.candidates]
        options += [Option(f.label, ("finding", f.because)) for f in a.mimics + a.causes]
        options.append(Option(self.t.how_done, DONE))
        while True:
            self.io.say()
            choice = self.io.select(self.t.how_prompt, options, default=DONE, extras=False)
            if choice == DONE:
                return
            if choice[0] == "specialist":
                self.find_specialist(a)
                continue
            found = _why().how(self.session, a, choice[1])
            self.io.say(self.t.how_title + ":")
            self.io.say("  " + self.t.how_answers)
            for line in found["answers"]:
                self.io.say(_wrap(line, "    - ", "      ", self.width))
            self.io.say("  " + self.t.how_rules)
            for line in found["rules"]:
                self.io.say(_wrap(line, "    - ", "      ", self.width))

    def find_specialist(self, a) -> None:
        """The optional find-a-specialist step: a ZIP code or town (asked again until found, or
        left empty), then the nearest clinics, those offering what the result needs first. The
        place is only used to sort them: it is not kept, saved or logged."""
        from triage import clinics

        kb = self.iv.kb
        w = kb.specialist_words
        directory = clinics.current(self.clinics_file, kb)
        self.io.say()
        self.io.say(f"-- {w.heading} --")
        self.io.say(_wrap(f"{w.intro} {w.not_stored}", width=self.width))
        while True:
            typed = self.io.text(w.prompt).strip()
            if not typed:
                return
            try:
                place = clinics.find_place(typed)
            except clinics.PlaceNotFound as exc:
                self.io.say(_wrap(clinics.not_found_message(kb, exc), width=self.width))
                continue
            break
        found = self.clinics = clinics.suggest(kb, a, place, directory)

        def wrap(text: str, indent: str = "", hang: int = 0) -> str:
            return _wrap(text, indent, indent + " " * hang, self.width)

        for line in clinics.text_lines(found, wrap, place.name)[1:]:  # under the heading above
            self.io.say(line)
        self.io.say(wrap(w.call_first, "  "))

    def offer_save(self, a) -> None:
        """Offer the answers (the case, JSON) and the report (Markdown, with the pertinent
        negatives the session recorded)."""
        from triage import report
        from triage.assessment import to_case
        from triage.files import save_text

        self.io.say()
        case = self.session.case()
        case_text = json.dumps(case, indent=2, ensure_ascii=False) + "\n"
        who = self.session.who()
        self._save(self.t.worded("save_case", who), CASE_FILE, lambda path: save_text(path, case_text))
        report_text = report.markdown(a, to_case(case), asked=self.session.record(), clinics=self.clinics)
        self._save(self.t.worded("save_report", who), REPORT_FILE, lambda path: save_text(path, report_text))

    def _save(self, question: str, default_name: str, write: Callable[[str], Path],
              default: bool = False) -> Optional[Path]:
        """Offer to save; ``write(name)`` writes the file (atomically, owner-only).

        An existing file is never replaced silently: at a terminal the person is asked (and
        offered a free name instead); line by line (``--plain``, piped answers) the file is saved
        under a free name, which is said. After a failed save the person chooses whether to try
        another name, so Enter or the next answers typed never become file names.
        """
        from triage.files import free_name

        if not self.io.confirm(question, default=default):
            return None
        offered = str(self.folder / default_name)
        while True:
            name = self.io.text(self.t.file_name, default=offered).strip()
            if not name:
                return None
            target = Path(name).expanduser()
            if target.exists() and not target.is_dir():
                if isinstance(self.io, PlainIO):
                    new = free_name(target)
                    self.io.say(self.t.save_new_name.format(path=target, new=new))
                    target = new
                elif not self.io.confirm(self.t.save_exists.format(path=target), default=False):
                    offered = str(free_name(target))
                    continue
            try:
                path = write(str(target))
            except OSError as exc:
                self.io.say(self.t.save_failed.format(path=target, reason=exc.strerror or exc))
                if not self.io.confirm(self.t.save_again, default=False):
                    return None
                offered = ""
                continue
            self.io.say(self.t.saved.format(path=path))
            return path

    # -- Ctrl-C ------------------------------------------------------------------------------
    def _interrupted(self) -> int:
        try:
            self.io.say()
            answers = self.session.active
            if answers:
                from triage import fhir

                # an in-progress FHIR QuestionnaireResponse: --resume reads it, and so does assess
                path = self._save(self.t.interrupted, ANSWERS_FILE,
                                  lambda name: fhir.save_in_progress(name, answers), default=True)
                if path is not None:
                    self.io.say(self.t.resume_hint.format(**resume_command(path)))
                    return EXIT_INTERRUPTED
            self.io.say(self.t.quit)
        except (KeyboardInterrupt, EOFError):
            print("\n" + self.t.quit, file=self.err)
        return EXIT_INTERRUPTED


def resume_command(path: Path) -> dict:
    """The command that resumes from ``path``, as the person can type it where they started:
    through ``./dev`` (which says so in ``TRIAGE_VIA_DEV`` and changes to the project's folder),
    ``./dev run interview`` with the file's path from their folder; else the installed command."""
    import os

    dev = os.environ.get("TRIAGE_VIA_DEV")
    if not dev:
        return {"command": "dystonia-triage interview", "path": str(path)}
    full = Path(path).resolve()
    caller = Path(os.environ.get("TRIAGE_CALLER_DIR") or ".").resolve()
    shown = str(full.relative_to(caller)) if full.is_relative_to(caller) else str(full)
    return {"command": f"{dev} run interview", "path": shown}


__all__ = ["TerminalInterview", "words", "EXIT_OK", "EXIT_USAGE", "EXIT_INTERRUPTED"]

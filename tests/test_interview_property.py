"""Property: for paths through the questionnaire (random answers, going back, changing an
answer at the review), the case it saves validates against the contract, and ``assess`` of
that case equals the result the questionnaire showed."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.interview_keys import IV, KB
from triage import assess, report
from triage.models import Case
from triage.terminal.interview import CASE_FILE, DONE, TerminalInterview
from triage.terminal.prompts import BACK, NONE

TEXT = KB.interview


class DrawIO:
    """Answers every prompt with a value drawn by hypothesis."""

    def __init__(self, data):
        self.data = data
        self.lines: list[str] = []
        self.backs = 0
        self.changes = 0

    def say(self, text: str = "") -> None:
        self.lines.append(text)

    def _back(self) -> bool:
        if self.backs < 2 and self.data.draw(st.integers(0, 9), label="back?") == 0:
            self.backs += 1
            return True
        return False

    def select(self, message, options, default=None, extras=True, instruction=None):
        if message == TEXT.review_prompt:
            if self.changes < 1 and self.data.draw(st.booleans(), label="change?"):
                self.changes += 1
                return self.data.draw(st.sampled_from([o.value for o in options if o.value != DONE]))
            return DONE
        if message == TEXT.how_prompt:
            return DONE
        if extras and self._back():
            return BACK
        return self.data.draw(st.sampled_from([o.value for o in options]), label=message[:30])

    def checkbox(self, message, options, read, checked=None, none_label=None):
        if self._back():
            return BACK
        ticked = self.data.draw(st.lists(st.sampled_from([o.value for o in options]), max_size=3, unique=True),
                                label=message[:30])
        return read(ticked or [NONE])

    def number(self, message, hint, read, default=None):
        if self._back():
            return BACK
        # what a person may type: a number in or out of range, nothing, or not a number
        while True:
            typed = self.data.draw(st.one_of(st.integers(0, 130).map(str), st.just(""), st.just("abc")),
                                   label=message[:30])
            try:
                return read(typed)
            except ValueError:
                continue

    def confirm(self, message, default=True):
        if message in {TEXT.worded("save_case", w) for w in (None, "self", "caregiver", "clinician", "educator")}:
            return True
        if message in {TEXT.worded("save_report", w) for w in (None, "self", "caregiver", "clinician", "educator")}:
            return False
        return self.data.draw(st.booleans(), label="go on after the emergency?")

    def text(self, message, default=""):
        return default


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_saved_case_is_valid_and_assesses_to_what_was_shown(data):
    io = DrawIO(data)
    with tempfile.TemporaryDirectory() as folder:
        flow = TerminalInterview(io, IV.session(), folder=Path(folder), warm_up=False)
        assert flow.run() == 0
        saved = json.loads((Path(folder) / CASE_FILE).read_text())
    Case.model_validate(saved)  # the contract
    again = assess(saved)
    assert again == flow.shown
    shown = "\n".join(io.lines)
    assert report.text(again, rules=flow.educating, width=flow.width, respondent=flow.session.who()).rstrip("\n") in shown
    # each question once, plus two for each step back (the question left and the one before
    # it again) and one for each answer changed at the review
    assert len(flow.asked) <= len(KB.questions) + 2 * io.backs + io.changes

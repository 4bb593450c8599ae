"""Parity: the same answers given through the terminal and through the web pages make the same
case, the same record of what was asked (the pertinent negatives included), the same questions
in the same order, the same assessment and the same emergency point — for every teaching case
and for answer sets drawn by hypothesis. Both front ends drive one questionnaire session, so
this holds by construction; the test proves nothing was written twice."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.interview_keys import IV, KB
from tests.webhelp import answers_of, question_of, title_of
from triage import assess, teaching
from triage.terminal.interview import DONE, TerminalInterview
from triage.terminal.prompts import NONE
from triage.web.app import create_app

TEXT = KB.interview


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as c:
        yield c


class StoryIO:
    """A person at the terminal who answers each question from a story (question id -> answer)."""

    def __init__(self, story: dict):
        self.story = story
        self.flow: Any = None
        self.emergencies: list[str] = []
        self.lines: list[str] = []

    def _value(self):
        return self.story[self.flow.asked[-1]]

    def say(self, text: str = "") -> None:
        self.lines.append(text)

    def select(self, message, options, default=None, extras=True, instruction=None):
        if message in (TEXT.review_prompt, TEXT.how_prompt):
            return DONE
        return self._value()

    def checkbox(self, message, options, read, checked=None, none_label=None):
        offered = {o.value for o in options}
        ticked = [v for v in self._value() if v in offered]
        return read(ticked or [NONE])

    def number(self, message, hint, read, default=None):
        value = self._value()
        return read("" if value is None else str(value))

    def confirm(self, message, default=True):
        if message in {TEXT.worded("emergency_go_on", who) for who in (None, "self", "caregiver", "clinician", "educator")}:
            self.emergencies.append(self.flow.asked[-1])
            return True
        return False  # no saving

    def text(self, message, default=""):
        return default


def terminal(story: dict, folder: Path) -> dict:
    io = StoryIO(story)
    flow = TerminalInterview(io, IV.session(), folder=folder, warm_up=False)
    io.flow = flow
    assert flow.run() == 0
    s = flow.session
    return {"case": s.case(), "record": s.record(), "asked": flow.asked, "assessment": flow.shown,
            "emergencies": io.emergencies}


def form_value(q, value) -> list[str]:
    if q.kind == "several_of":
        return list(value) or ["none"]
    if q.kind == "number":
        return ["" if value is None else str(value)]
    return [value]


def web(client, story: dict) -> dict:
    from triage.web import state

    r = client.post("/step", data={"go": "start"})
    asked, emergencies = [], []
    for _ in range(60):
        if title_of(r.text) == TEXT.review_title:
            break
        qid = question_of(r.text)
        if "emergency-title" in r.text:  # the emergency page: go on with the questions
            emergencies.append(qid)
            r = client.post("/step", data={"answers": answers_of(r.text), "q": qid, "go": "continue"})
            continue
        q = KB.question(qid)
        asked.append(qid)
        value = story[qid]
        if q.kind == "several_of":
            offered = set(re.findall(r'name="answer"\s+value="([^"]*)"', r.text))
            value = [v for v in value if v in offered]
        r = client.post("/step", data={"answers": answers_of(r.text), "q": qid, "go": "next",
                                       "answer": form_value(q, value)})
        assert r.status_code == 200, r.text[:300]
    else:
        raise AssertionError("the web questionnaire never reached the review")
    hidden = answers_of(r.text)
    case = json.loads(client.post("/download/case.json", data={"answers": hidden}).text)
    session = state.load(IV, hidden)
    return {"case": case, "record": session.record(), "asked": asked, "assessment": assess(case),
            "emergencies": emergencies}


def story_of(case) -> dict:
    """Answers for every question: those that make the case, and no / none / not known else."""
    answers = IV.record.answers_from_case(case)
    return {q.id: answers.get(q.id, q.quiet_answer()) for q in KB.questions}


def same(t: dict, w: dict) -> None:
    assert t["asked"] == w["asked"]
    assert t["emergencies"] == w["emergencies"]
    assert t["case"] == w["case"]
    assert t["record"] == w["record"]
    assert t["assessment"].model_dump(exclude={"trace"}) == w["assessment"].model_dump(exclude={"trace"})


@pytest.mark.parametrize("tc", teaching.default(), ids=lambda tc: tc.id)
def test_terminal_and_web_agree_on_every_teaching_case(tc, client, tmp_path):
    story = story_of(tc.case)
    t, w = terminal(story, tmp_path), web(client, story)
    same(t, w)
    # the record lists what was asked and denied, not only what was reported
    assert t["record"].absent.get("red_flags") or tc.case.red_flags


def answer_sets():
    """A random answer to every question (the front ends ask whichever apply)."""
    parts = {}
    for q in KB.questions:
        ids = q.answer_ids()
        if q.kind == "several_of":
            parts[q.id] = st.lists(st.sampled_from(ids), max_size=3, unique=True)
        elif q.kind == "number":
            parts[q.id] = st.none() | st.integers(0, 90)
        else:
            parts[q.id] = st.sampled_from(ids)
    return st.fixed_dictionaries(parts).map(_fit_ages)


def _fit_ages(story: dict) -> dict:
    if story.get("age") is not None and story.get("onset_age") is not None and story["onset_age"] > story["age"]:
        story["onset_age"] = story["age"]
    return story


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(story=answer_sets())
def test_terminal_and_web_agree_on_drawn_answers(story, client, tmp_path):
    same(terminal(story, tmp_path), web(client, story))


def test_an_emergency_after_a_cleared_red_flag_shows_in_both(client, tmp_path):
    """Tick a warning sign, clear it, then an anti-sickness medicine started this week with a
    movement: both front ends show the acute drug reaction's emergency at once."""
    story = story_of(teaching.by_id("acute_dystonic_reaction").case)
    t, w = terminal(story, tmp_path), web(client, story)
    same(t, w)
    assert t["emergencies"] == ["dopamine_blocker"]
    s = IV.session()
    s.answer("red_flags", ["stroke_signs"])
    assert s.emergency_to_show() is not None
    s.answer("red_flags", [])
    assert s.emergency_to_show() is None
    for qid in ("respondent", "age", "symptoms"):
        s.answer(qid, story[qid])
    s.answer("dopamine_blocker", "recent")
    shown = s.emergency_to_show()
    assert shown is not None and shown.level == "emergency"
    assert s.emergency_to_show() is None  # shown once; it stays in s.emergency() for every page
    assert s.emergency() == shown

"""Lay stories answered question by question by a simulated person.

The person knows only their story, in everyday words: what they notice, what is true of them,
what they are not sure of. At each question they read the words on the screen (the question
and its choices, as the terminal shows them) and answer from their story: a choice is ticked
when its words say something they notice; a yes/no question is "yes" when it asks about
something they notice, "not sure" when it asks about something they are not sure of, else no.
Nothing here names a question id or a contract id, so a question worded in a way people would
misread shows up as a wrong result.

Each story states what a clinician expects from the conventions (the pattern, the care level,
key next steps, steps that must not be there), and probes check over- and under-triage: a
strained voice or long-slurred jaw speech is not an emergency, a head-only tremor is not
essential tremor, and a jaw locked after metoclopramide shows its emergency within the first
five questions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import pytest

from tests.interview_keys import IV, KB
from triage.terminal.interview import DONE, TerminalInterview
from triage.terminal.prompts import NONE

TEXT = KB.interview


# Words that say a sign is new or sudden: someone whose trouble is long-standing does not tick them.
NEW = ("new ", "suddenly", "hours or days", "within hours")


@dataclass
class Person:
    """What someone would say about themselves, in their words (lower case)."""

    who: str  # the words of the "who is answering" choice they would pick
    age: Optional[int]
    began_at: Optional[int]
    notices: list[str]  # words that, seen in a question or a choice, say "yes, that is me"
    not_sure: list[str] = field(default_factory=list)
    patient_age: Optional[int] = None  # a caregiver's or clinician's patient
    parts: list[str] = field(default_factory=list)  # the body parts that move ...
    moves: list[str] = field(default_factory=list)  # ... and how: a choice naming both fits
    recent: bool = False  # whether it started in the last hours or days

    def says(self, text: str) -> bool:
        text = " ".join(text.lower().split())
        if not self.recent and any(word in text for word in NEW):
            return False
        if any(phrase in text for phrase in self.notices):
            return True
        return any(p in text for p in self.parts) and any(m in text for m in self.moves)

    def unsure(self, text: str) -> bool:
        text = " ".join(text.lower().split())
        return any(phrase in text for phrase in self.not_sure)


class PersonIO:
    """The terminal, as the simulated person reads it and answers."""

    def __init__(self, person: Person):
        self.person = person
        self.emergency_at: Optional[int] = None  # questions answered when the emergency showed
        self.asked = 0
        self.screen: list[str] = []

    def say(self, text: str = "") -> None:
        self.screen.append(text)

    def select(self, message, options, default=None, extras=True, instruction=None):
        if message in (TEXT.review_prompt, TEXT.how_prompt):
            return DONE
        self.asked += 1
        p = self.person
        labels = [(o.label, o.value) for o in options]
        if any(v == "self" for _label, v in labels) and any(v == "caregiver" for _label, v in labels):
            return next(v for label, v in labels if p.who in label.lower())
        if [v for _l, v in labels] == ["yes", "no", "unsure"]:  # a yes/no question: read the question
            question = message.split("\n")[0]
            if p.says(question):
                return "yes"
            return "unsure" if p.unsure(question) else "no"
        for label, value in labels:  # a choice: the first whose words fit the story
            if p.says(label):
                return value
        for label, value in labels:
            if p.unsure(label) or label.lower() in ("not sure", "no"):
                return value
        return labels[-1][1]

    def checkbox(self, message, options, read, checked=None, none_label=None):
        self.asked += 1
        ticked = [o.value for o in options if self.person.says(o.label)]
        return read(ticked or [NONE])

    def number(self, message, hint, read, default=None):
        self.asked += 1
        text = message.lower()
        value = self.person.began_at if ("began" in text or "begin" in text) else (
            self.person.patient_age if self.person.patient_age is not None else self.person.age)
        return read("" if value is None else str(value))

    def confirm(self, message, default=True):
        if message in {TEXT.worded("emergency_go_on", who) for who in (None, "self", "caregiver", "clinician", "educator")}:
            if self.emergency_at is None:
                self.emergency_at = self.asked
            return True
        return False  # no saving

    def text(self, message, default=""):
        return default


def answer(person: Person):
    io = PersonIO(person)
    flow = TerminalInterview(io, IV.session(), warm_up=False)
    assert flow.run() == 0
    return flow.shown, io


ME = "about myself"
CARER = "someone i care for"
NURSE = "clinician"


@dataclass
class Story:
    id: str
    person: Person
    types: list[str]  # the pattern listed first, then any others (empty: no dystonia type)
    care: str
    steps: list[str] = field(default_factory=list)
    not_steps: list[str] = field(default_factory=list)
    mimics: list[str] = field(default_factory=list)
    causes: Optional[list[str]] = None  # None: not checked
    emergency_within: Optional[int] = None


STORIES = [
    Story("blepharospasm", Person(ME, 61, 58, ["blinking", "squeezing shut", "touching a spot"]),
          ["focal.blepharospasm"], "routine", ["eye_exam", "record_video"], ["genetic_testing", "mri_brain"]),
    Story("cervical", Person(ME, 45, 40, ["neck or head pulled", "touching a spot", "neck"]),
          ["focal.cervical"], "routine", ["wilson_screening"], ["mri_brain"]),
    Story("jaw", Person(ME, 55, 52, ["jaw forced open", "trouble chewing"]),
          ["focal.facial"], "routine", ["record_video"], ["laryngoscopy", "mri_brain"]),
    Story("strangled_voice", Person(ME, 48, 45, ["strained, strangled", "voice"]),
          ["focal.laryngeal"], "routine", ["laryngoscopy"], ["mri_brain"]),
    Story("writers_cramp", Person(ME, 41, 38, ["the right", "only during one activity"],
                                  parts=["hand"], moves=["cramp"]),
          ["focal.upper_limb"], "routine", ["record_video"], ["mri_brain"], causes=["idiopathic"]),
    Story("musicians_dystonia", Person(ME, 34, 31, ["will not do what it is told", "playing an instrument",
                                                    "the left", "only during one activity"]),
          ["focal.upper_limb"], "routine", ["wilson_screening"]),
    Story("child_foot_better_in_morning",
          Person(CARER, 40, 7, ["turns in or points down", "the left", "better in the morning"], patient_age=9),
          ["focal.lower_limb"], "routine", ["levodopa_trial", "genetic_testing", "wilson_screening"], ["mri_brain"]),
    Story("generalized_teenager",
          Person(CARER, 45, 11, ["spasms throughout the body", "back, hips or body"], patient_age=15),
          ["generalized"], "routine", ["mri_brain", "genetic_testing", "levodopa_trial"]),
    Story("hemidystonia_after_stroke",
          Person(ME, 66, 65, ["cramps, curls", "turns in or points down", "the left", "a stroke in the past",
                              "left shoulder", "left hip"]),
          ["hemidystonia"], "routine", ["mri_brain"], causes=["structural"]),
    Story("myoclonus_dystonia",
          Person(ME, 17, 8, ["lightning-like jerks", "neck or head pulled", "alcohol", "relative", "family"]),
          ["myoclonus_dystonia", "focal.cervical"], "routine", ["genetic_testing"]),
    Story("hemifacial_spasm", Person(ME, 59, 57, ["eye twitching", "one side of your face", "pulling on their own"]),
          ["segmental"], "routine", ["mri_brain"], mimics=["hemifacial_spasm"]),
    Story("essential_tremor", Person(ME, 68, 60, ["shaking (tremor)", "hands or arms"]),
          [], "routine", ["record_video"], ["wilson_screening", "genetic_testing"], mimics=["essential_tremor"]),
    Story("tics", Person(CARER, 38, 8, ["blinking", "pulling on their own", "an urge", "hold the movement back"],
                         patient_age=11),
          ["segmental"], "routine", mimics=["tics"]),
    Story("acute_reaction_to_metoclopramide",
          Person(NURSE, None, None, ["jaw forced open", "in the last 7 days", "came on suddenly"], patient_age=24,
                 recent=True),
          ["focal.facial"], "emergency", ["medication_review"],
          ["genetic_testing", "wilson_screening", "levodopa_trial", "symptom_diary", "mri_brain"],
          causes=["drug_induced_acute"], emergency_within=5),
    Story("tardive", Person(ME, 52, 50, ["neck or head pulled", "3 months or longer"]),
          ["focal.cervical"], "routine", ["medication_review"], causes=["tardive"]),
    # probes: answers a person may give that must not over- or under-triage
    Story("probe_strained_voice_for_months", Person(ME, 50, 46, ["strained, strangled", "tight"]),
          ["focal.laryngeal"], "routine"),
    Story("probe_slurred_jaw_speech_for_years", Person(ME, 60, 50, ["slurred", "jaw or tongue getting in the way",
                                                                    "jaw forced open"]),
          ["focal.facial"], "routine"),
    Story("probe_head_only_tremor", Person(ME, 58, 57, ["shaking (tremor)", "the head"]),
          ["focal.cervical"], "routine", mimics=[]),
    Story("probe_both_hands_shaking", Person(ME, 70, 62, ["shaking (tremor)", "hands or arms"]),
          [], "routine", mimics=["essential_tremor"]),
    Story("probe_stroke_survivor_twisting_arm_and_leg",
          Person(ME, 70, 69, ["the left", "a stroke in the past", "left shoulder", "left hip"],
                 parts=["arm", "hand", "leg", "foot"], moves=["twist", "turns in"]),
          ["hemidystonia"], "routine", ["mri_brain"]),
    Story("probe_childs_foot", Person(CARER, 36, 6, ["the right"], patient_age=7, parts=["foot"],
                                      moves=["twist", "turns in"]),
          ["focal.lower_limb"], "routine", ["levodopa_trial"], ["mri_brain"]),
]


@pytest.mark.parametrize("story", STORIES, ids=lambda s: s.id)
def test_a_lay_story_answered_question_by_question(story: Story):
    result, io = answer(story.person)
    types = [c.type for c in result.candidates]
    screen = "\n".join(io.screen)
    assert types[:1] == story.types[:1] and set(story.types) <= set(types), (types, screen[-3000:])
    assert result.care_level == story.care, (result.care_level, [f.id for f in result.red_flags])
    steps = {s.id for s in result.next_steps}
    assert set(story.steps) <= steps, (set(story.steps) - steps)
    assert not set(story.not_steps) & steps, (set(story.not_steps) & steps)
    assert [m.id for m in result.mimics] == story.mimics
    if story.causes is not None:
        assert sorted(c.id for c in result.causes) == sorted(story.causes)
    if story.emergency_within is not None:
        assert io.emergency_at is not None and io.emergency_at <= story.emergency_within, io.emergency_at
    else:
        assert io.emergency_at is None, "an emergency was shown for a story with none"

"""Helpers for the web tests: read a page's hidden answers and text, submit a step."""

from __future__ import annotations

import html
import re

ANSWERS = re.compile(r'name="answers" value="([^"]*)"')


def answers_of(page: str) -> str:
    """The hidden answers field of a page, as the browser would send it back."""
    m = ANSWERS.search(page)
    assert m, "the page carries no answers field"
    return html.unescape(m.group(1))


def answers_dict(page: str) -> dict:
    """The answers a page carries, read (the field is ``SIGNATURE.JSON``)."""
    import json

    return json.loads(answers_of(page).partition(".")[2])


def signed(answers) -> str:
    """A hidden answers field as this server would sign it (``answers``: a dict, or JSON text)."""
    import json

    from triage.web import state

    return state.sign(answers if isinstance(answers, str) else json.dumps(answers))


def title_of(page: str) -> str:
    return html.unescape(re.search(r"<title>(.*?) – Dystonia triage</title>", page).group(1))


def text_of(page: str) -> str:
    """The words of a page, tags removed, spaces collapsed."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))).strip()


QID = re.compile(r'name="q" value="([^"]*)"')


def question_of(page: str):
    """The id of the question a page asks (``None`` on other pages)."""
    m = QID.search(page)
    return m.group(1) if m else None


# Stories: what a person answers to each question the questionnaire may ask (form values).
# The questionnaire decides which questions it asks; a story answers whichever come.
NO = ["no"]
BLEPHAROSPASM = {
    "red_flags": ["none"], "respondent": ["self"], "age": ["61"], "onset_age": ["58"],
    "symptoms": ["eye_blinking"], "other_regions": ["none"], "sensory_trick": ["yes"],
    "task_specific": NO, "better_after_sleep": NO, "alcohol_improves": NO, "one_side_face": NO,
    "urge_before": NO, "urge_to_move": NO, "worse_with_stress": NO, "onset": ["gradual"], "course": ["progressive"],
    "family_history": NO, "tremor_sites": ["none"],
    "dopamine_blocker": ["none"], "history": ["none"],
    "details": ["sensory_trick"],  # the same details, as one checklist
}


def trick_question():
    """Where the questionnaire asks about a sensory trick: ``(question id, form value that says
    yes, form value that says no)`` (a yes/no question, or one box of a details checklist)."""
    from triage.knowledge import default

    ids = {q.id for q in default().questions}
    return ("sensory_trick", "yes", "no") if "sensory_trick" in ids else ("details", "sensory_trick", "none")

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


def title_of(page: str) -> str:
    return html.unescape(re.search(r"<title>(.*?) – Dystonia triage</title>", page).group(1))


def text_of(page: str) -> str:
    """The words of a page, tags removed, spaces collapsed."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))).strip()


# A complete blepharospasm path, as the interim questions ask it: (question id, answer).
BLEPHAROSPASM = [
    ("red_flags", ["none"]), ("respondent", ["self"]), ("age", ["61"]), ("onset_age", ["58"]),
    ("symptoms", ["eye_blinking"]), ("regions", ["eyes"]), ("features", ["sensory_trick"]),
    ("onset", ["gradual"]), ("course", ["progressive"]), ("dopamine_blocker", ["none"]),
    ("history", ["none"]),
]

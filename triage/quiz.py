"""The teaching-case quiz: the learner reads a story, picks the type it fits best, and then
sees the answer with the rules behind it. Front ends only ask and print; this module builds
the question and the reveal."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from triage.models import KB
from triage.teaching import TeachingCase

NONE = "none"  # the choice "nothing the rules recognise"
LOOK_ALIKE = "look_alike"  # the choice "a look-alike condition, not dystonia"


@dataclass
class QuizQuestion:
    case: TeachingCase
    prompt: str
    choices: list[tuple[str, str]]  # (value, label)

    def is_correct(self, value: str) -> bool:
        """Judged by the case's teaching point: a look-alike case (one that expects a mimic) is
        about the look-alike, whatever pattern the movements may also fit."""
        e = self.case.expect
        if e.mimics:
            return value == LOOK_ALIKE
        return value in e.types if e.types else value == NONE


def question(tc: TeachingCase) -> QuizQuestion:
    types = KB.types
    choices = [(t.id, t.label) for t in sorted(types, key=lambda t: t.rank)]
    choices.append((LOOK_ALIKE, "A look-alike condition, not dystonia"))
    choices.append((NONE, "None of these: nothing the rules recognise"))
    return QuizQuestion(tc, "Which pattern does this story fit best?", choices)


def story(tc: TeachingCase, width: int = 78) -> str:
    return f"{tc.title}\n\n" + textwrap.fill(" ".join(tc.story.split()), width) + "\n"


def reveal(q: QuizQuestion, chosen: str) -> str:
    """The answer, the rules that led to it and the teaching point."""
    from triage.assessment import assess

    tc = q.case
    result = assess(tc.case)
    labels = dict(q.choices)
    out = []
    if q.is_correct(chosen):
        out.append(f"Right: {labels.get(chosen, chosen)}.")
    else:
        out.append(f"Not quite: you chose {labels.get(chosen, chosen)}.")
    if result.candidates:
        out.append("The rules say the answers may fit:")
        from triage import rulebook

        book = rulebook.default()
        rules = {r.id: r for r in book.rules}
        for c in result.candidates:
            out.append(f"  - {c.label} (support: {c.support})")
            for rid in c.because:
                out.append(f"      {rid}: {rules[rid].explain} [{rules[rid].source}]")
    else:
        out.append("The rules find no dystonia type here.")
    if result.mimics:
        out.append("Look-alike conditions: " + ", ".join(m.label for m in result.mimics))
    out.append(f"Care level: {result.care_label} ({result.care_level})")
    if tc.known_disagreement:
        out.append("")
        out.append(textwrap.fill("Note: the conventions expect " + ", ".join(tc.expect.types or ["no type"])
                                 + ". " + " ".join(tc.known_disagreement.split()), 78))
    out.append("")
    out.append(textwrap.fill("Teaching point: " + " ".join(tc.teaching_point.split()), 78))
    out.append(f"(See every step: dystonia-triage cases show {tc.id})")
    return "\n".join(out) + "\n"

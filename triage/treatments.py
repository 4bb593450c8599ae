"""Treatments a neurologist may discuss, for the candidate types and look-alikes of a result.

Pure functions over the knowledge base (``knowledge/treatments.yaml``): every front end (the
terminal, the web page, the appointment report, ``explain``) shows what :func:`for_result`
returns. They are options to talk about, never advice to start, stop or change a medicine:
when a medicine is among them, the words about the prescriber follow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Optional

from triage.knowledge import KnowledgeBase, worded


@dataclass(frozen=True)
class Source:
    key: str
    citation: str


@dataclass(frozen=True)
class Option:
    """One treatment option, once, with the patterns it is listed for."""

    id: str
    label: str
    text: str
    medicine: bool
    patterns: list[str] = field(default_factory=list)  # the labels of the types and look-alikes
    notes: list[str] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)


@dataclass(frozen=True)
class Treatments:
    heading: str
    intro: str
    options: list[Option]
    prescriber: Optional[str]  # when a medicine is among the options
    for_pattern: str
    source_label: str

    def patterns_line(self, option: Option) -> str:
        return self.for_pattern.format(labels="; ".join(option.patterns))


def for_patterns(kb: KnowledgeBase, patterns: Iterable[tuple[str, str]],
                 respondent: Optional[str] = None, steps: Optional[set[str]] = None) -> Optional[Treatments]:
    """The options for ``patterns`` (pairs of a type or look-alike id and its label), each
    option once, in the order first listed; ``None`` when there is none. ``steps``: the
    result's next steps, for the options listed only beside one (``with_step``); None lists
    every option."""
    options = kb.by_id("treatment_options")
    sources = kb.by_id("sources")
    found: dict[str, Option] = {}
    for pattern_id, label in patterns:
        for entry in kb.treatments.get(pattern_id, []):
            if entry.with_step is not None and steps is not None and entry.with_step not in steps:
                continue
            opt = options[entry.option]
            item = found.get(entry.option)
            if item is None:
                item = found[entry.option] = Option(id=opt.id, label=opt.label,  # type: ignore[attr-defined]
                                                    text=" ".join(opt.text.split()),  # type: ignore[attr-defined]
                                                    medicine=opt.medicine)  # type: ignore[attr-defined]
            if label not in item.patterns:
                item.patterns.append(label)
            if entry.note and entry.note not in item.notes:
                item.notes.append(" ".join(entry.note.split()))
            src = sources[entry.source]
            if entry.source not in [s.key for s in item.sources]:
                item.sources.append(Source(entry.source, src.citation))  # type: ignore[attr-defined]
    if not found:
        return None
    words = kb.treatment_words
    medicine = any(o.medicine for o in found.values())
    return Treatments(heading=words.heading, intro=" ".join(words.intro.split()), options=list(found.values()),
                      prescriber=" ".join(worded(words.prescriber, respondent).split()) if medicine else None,
                      for_pattern=words.for_pattern, source_label=words.source)


def for_result(kb: KnowledgeBase, assessment, respondent: Optional[str] = None) -> Optional[Treatments]:
    """The options for an assessment's candidates, then its look-alikes; none on an emergency
    result, whose action is emergency care (nothing may come before it or stand in for it)."""
    if kb.is_emergency(assessment.care_level):
        return None
    patterns = [(c.type, c.label) for c in assessment.candidates] + [(m.id, m.label) for m in assessment.mimics]
    return for_patterns(kb, patterns, respondent, steps={s.id for s in assessment.next_steps})



def text_lines(t: Treatments, wrap, *, sources: bool = True) -> list[str]:
    """The options as plain-text lines; ``wrap(text, indent, hang)`` fills a paragraph."""
    out = [t.heading + ":", wrap(t.intro, "  ")]
    for o in t.options:
        words = " ".join([f"{o.label}: {o.text}", *o.notes, t.patterns_line(o)])
        out.append(wrap(f"- {words}", "  ", 2))
        if sources:  # the keys of knowledge/sources.yaml: the full citations are in the reports
            out.append(wrap(f"{t.source_label}: " + ", ".join(s.key for s in o.sources), "    "))
    if t.prescriber:
        out.append(wrap(t.prescriber, "  "))
    return out

"""Render an assessment for people: plain text for a terminal, Markdown for a file.

Nothing here decides anything: it only lays out what :func:`triage.assess` concluded. Meaning
never depends on colour; the care level is always spelt out in words.
"""

from __future__ import annotations

import textwrap
from typing import Optional

from triage.models import KB, Assessment, Case

WIDTH = 78


def _support_words(level: str) -> str:
    return KB.text.support_label.get(level, level)


def _wrap(text: str, indent: str = "", width: int = WIDTH, hang: int = 0) -> str:
    """Fill ``text``; continuation lines are indented ``hang`` more (for list items)."""
    return textwrap.fill(" ".join(text.split()), width=width, initial_indent=indent,
                         subsequent_indent=indent + " " * hang)


def is_emergency(a: Assessment) -> bool:
    return a.care_level in ("emergency", "emergency_ambulance")


def text(a: Assessment, *, rules: bool = True) -> str:
    """The plain-text report: what to do now first, then what the answers may fit."""
    out: list[str] = []
    rule = "=" * WIDTH
    out += [rule, f"CARE LEVEL: {a.care_label.upper()} ({a.care_level})", rule,
            _wrap("What to do now: " + a.care_action), ""]
    if a.red_flags:
        out.append("Warning signs you reported:")
        out += [_wrap(f"- {f.label}", "  ", hang=2) for f in a.red_flags]
        out.append("")
    if a.candidates:
        out.append("What the answers may fit (not a diagnosis):")
        for i, c in enumerate(a.candidates, 1):
            out.append(_wrap(f"{i}. {c.label}", "  ", hang=3))
            out.append(_wrap(f"Match: {_support_words(c.support)}", "     "))
            out.append(_wrap(c.description, "     "))
            if rules:
                out.append(_wrap("Rules behind it: " + ", ".join(c.because), "     "))
        out.append("")
    else:
        out += [_wrap(KB.text.nothing_found), ""]
    for title, items in (("Possible causes, for the neurologist to weigh:", a.causes),
                         ("Look-alike conditions to rule out:", a.mimics)):
        if items:
            out.append(title)
            for f in items:
                out.append(_wrap(f"- {f.label}", "  ", hang=2))
                out.append(_wrap(f.description, "    "))
            out.append("")
    out.append("Next steps:")
    out += [_wrap(f"- {s.text}", "  ", hang=2) for s in a.next_steps]
    out += ["", _wrap(a.disclaimer)]
    return "\n".join(out) + "\n"


def markdown(a: Assessment, case: Optional[Case] = None) -> str:
    """The Markdown report, for a file to bring to the appointment."""
    out: list[str] = ["# Dystonia triage report", ""]
    out += [f"**Care level: {a.care_label}** (`{a.care_level}`)", "", a.care_action, ""]
    if a.red_flags:
        out += ["## Warning signs reported", ""]
        out += [f"- {f.label}" for f in a.red_flags] + [""]
    out += ["## What the answers may fit", ""]
    if a.candidates:
        out += ["| Type | Match | Why (rules) |", "|---|---|---|"]
        for c in a.candidates:
            out.append(f"| {c.label} | {_support_words(c.support)} | {', '.join(c.because)} |")
        out.append("")
        for c in a.candidates:
            out += [f"**{c.label}.** {' '.join(c.description.split())}", ""]
    else:
        out += [KB.text.nothing_found, ""]
    for title, items in (("Possible causes", a.causes), ("Look-alike conditions", a.mimics)):
        if items:
            out += [f"## {title}", ""]
            out += [f"- **{f.label}.** {' '.join(f.description.split())}" for f in items] + [""]
    out += ["## Next steps", ""]
    out += [f"- {' '.join(s.text.split())}" for s in a.next_steps] + [""]
    out += ["---", "", f"*{a.disclaimer}*", ""]
    return "\n".join(out)

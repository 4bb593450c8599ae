"""The explanations as text, for a terminal or a file."""

from __future__ import annotations

from triage.explanation.nodes import Explanation, FactNode, RuleNode, SourceRef
from triage.explanation.what_if import WhatIf
from triage.explanation.why_not import WhyNot
from triage.models import KB

# --- text ------------------------------------------------------------------------------------

INDENT = "  "


def _source_text(src: SourceRef) -> str:
    cite = f"{src.key} — {src.citation}" if src.citation and src.citation != src.key else src.key
    return cite


def _rule_lines(n: RuleNode, pad: str, shown: set, out: list[str]) -> None:
    out.append(f"{pad}<- rule {n.rule}: {n.explain}")
    out.append(f"{pad}   source: {_source_text(n.source)}")
    for f in n.matched:
        _fact_lines(f, pad + "     ", shown, out)


def _fact_lines(f: FactNode, pad: str, shown: set, out: list[str]) -> None:
    if f.origin == "answer":
        value = f.text.split(" = ", 1)[1] if " = " in f.text else f.text
        out.append(f"{pad}answer: {f.field} = {value}")
        return
    key = repr(sorted((k, str(v)) for k, v in f.fact.items()))
    if f.shown_above or key in shown:
        out.append(f"{pad}fact: {f.text} (explained above)")
        return
    shown.add(key)
    out.append(f"{pad}fact: {f.text}")
    for r in f.by:
        _rule_lines(r, pad + "  ", shown, out)


TITLES = {
    "care_level": "Care level",
    "candidate": "May fit the pattern of",
    "cause": "Possible cause",
    "mimic": "Look-alike condition",
    "next_step": "Next step",
}


def _why_not_lines(w: WhyNot, depth: int, out: list[str]) -> None:
    pad = INDENT * depth
    out.append(f"{pad}not {w.label} (rule {w.rule}: {w.explain})")
    for r in w.reasons:
        if r.kind == "blocked":
            out.append(f"{pad}  - {r.text}")
            out.append(f"{pad}    present: {'; '.join(r.blocking)}"
                       + (f" (from rules: {', '.join(r.blocking_rules)})" if r.blocking_rules else ""))
        else:
            if r.found:
                out.append(f"{pad}  - found: {'; '.join(r.found)}")
            out.append(f"{pad}  - {r.text}: none"
                       + (f" (there is: {'; '.join(r.instead)})" if r.instead else ""))
            for d in r.deeper:
                _why_not_lines(d, depth + 2, out)


def text(ex: Explanation) -> str:
    """The explanation as an indented tree, conclusion by conclusion."""
    out: list[str] = ["EXPLANATION (for learning; not a diagnosis)", ""]
    answers = "; ".join(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
                        for k, v in ex.case.items() if k != "version" and v not in ([], None))
    out += [f"Answers: {answers or 'none'}", ""]
    shown: set = set()
    for c in ex.conclusions:
        head = f"{TITLES[c.kind]}: {c.label} [{c.id}]"
        if c.detail:
            head += f" — support: {c.detail}"
        out.append(head)
        for n in c.because:
            _rule_lines(n, INDENT, shown, out)
        out.append("")
    out += _treatment_lines(ex)
    if ex.not_concluded:
        out += ["Not concluded, and why not:", ""]
        for w in ex.not_concluded:
            _why_not_lines(w, 1, out)
        out.append("")
    out.append(" ".join(ex.disclaimer.split()))
    return "\n".join(out) + "\n"


def _treatment_lines(ex: Explanation) -> list[str]:
    """Treatments a neurologist may discuss for the candidates and look-alikes concluded, each
    with its source (:mod:`triage.treatments`)."""
    import textwrap

    from triage import treatments

    found = ex.treatments  # none on an emergency result: its action is emergency care
    if found is None:
        return []

    def wrap(text: str, indent: str = "", hang: int = 0) -> str:
        return textwrap.fill(" ".join(text.split()), width=100, initial_indent=indent,
                             subsequent_indent=indent + " " * hang, break_on_hyphens=False)

    return [*treatments.text_lines(found, wrap), ""]


def what_if_text(w: WhatIf) -> str:
    out = ["WHAT IF (for learning; not a diagnosis)", ""]
    out.append("Changes: " + ", ".join(
        f"{'+' if c.op == 'add' else '-'} {c.field}{'=' + c.value if c.value else ''}" for c in w.changes))
    out.append("")
    if not w.differences:
        out += ["The result does not change.", ""]
    for part, d in w.differences.items():
        b, a = d["before"], d["after"]
        if isinstance(b, list):
            gone = [x for x in b if x not in a]
            new = [x for x in a if x not in b]
            out.append(f"{part}:")
            out += [f"  - {x}" for x in gone] + [f"  + {x}" for x in new]
            if not gone and not new:
                out.append(f"  order: {', '.join(b)} -> {', '.join(a)}")
        else:
            out.append(f"{part}: {b} -> {a}")
    out.append("")
    for title, rules in (("Rules that fire only after the change:", w.rules_only_after),
                         ("Rules that no longer fire:", w.rules_only_before)):
        if rules:
            out.append(title)
            out += [f"  {r.rule}: {r.explain} [{r.source.key}]" for r in rules]
            out.append("")
    out.append(" ".join(KB.text.disclaimer_for().split()))
    return "\n".join(out) + "\n"


"""Render an assessment for people: plain text for a terminal, Markdown for a file.

Nothing here decides anything: it only lays out what :func:`triage.assess` concluded. Meaning
never depends on colour; the care level is always spelt out in words.
"""

from __future__ import annotations

import datetime as _dt
import functools
import textwrap
from dataclasses import dataclass
from typing import Optional

from triage import casefields
from triage import knowledge as kbase
from triage.models import KB, Assessment, Asked, Case

WIDTH = 78


def _support_words(level: str) -> str:
    return KB.text.support_label.get(level, level)


@functools.lru_cache(maxsize=4096)
def _wrap(text: str, indent: str = "", width: int = WIDTH, hang: int = 0) -> str:
    """Fill ``text``; continuation lines are indented ``hang`` more (for list items). The words
    come from the knowledge base, so the same few hundred paragraphs recur: each is filled
    once per process (the cache is bounded)."""
    return textwrap.fill(" ".join(text.split()), width=width, initial_indent=indent,
                         subsequent_indent=indent + " " * hang)


def step_text(step, emergency: bool, respondent: Optional[str] = None, a: Optional[Assessment] = None) -> str:
    """A next step's words; on an emergency result, seeing a neurologist comes after
    emergency care (next_steps.yaml ``after_emergency``). A step marked ``with_reason`` (the
    brain scan) says why it is suggested for this case: the words of the rules behind it."""
    from triage.knowledge import worded

    entry = KB.by_id("next_steps")[step.id]
    after = entry.after_emergency
    words = worded(after, respondent) if emergency and after else step.text
    if a is not None and entry.with_reason:
        reasons = list(dict.fromkeys(t.explain for t in a.trace
                                     if any(f.get("t") == "next_step" and f.get("v") == step.id for f in t.concluded)))
        if reasons:
            words = f"{words} {KB.report.step_reason.format(reasons=' '.join(reasons))}"
    return words


def is_emergency(a: Assessment) -> bool:
    """Whether the assessment's care level is an emergency (care_levels.yaml says which)."""
    return KB.is_emergency(a.care_level)


def regions_taken(a: Assessment) -> list[str]:
    """The labels of the body regions the rules took as involved, in the knowledge base's order."""
    regions = KB.by_id("regions")
    return [regions[r].label for r in a.regions]


def text(a: Assessment, *, rules: bool = True, width: int = WIDTH, respondent: Optional[str] = None) -> str:
    """The plain-text report: what to do now first, then what the answers may fit. ``rules``
    lists the rule ids behind each pattern (for educators and clinicians); ``width`` is the
    terminal's; ``respondent`` who it is worded for. On an emergency result the next steps
    come "after emergency care"."""
    def wrap(text: str, indent: str = "", hang: int = 0) -> str:
        return _wrap(text, indent, width, hang)

    out: list[str] = []
    rule = "=" * width
    emergency = is_emergency(a)
    level = f"CARE LEVEL: {a.care_label.upper()}" + (f" ({a.care_level})" if rules else "")  # the id: for educators
    out += [rule, level, rule,
            wrap("What to do now: " + a.care_action), ""]
    if a.red_flags:
        out.append("Warning signs reported:")
        out += [wrap(f"- {f.label}", "  ", hang=2) for f in a.red_flags]
        out.append("")
    if a.candidates:
        out.append("What the answers may fit (not a diagnosis):")
        for i, c in enumerate(a.candidates, 1):
            out.append(wrap(f"{i}. {c.label}", "  ", hang=3))
            out.append(wrap(_support_words(c.support), "     "))
            out.append(wrap(c.description, "     "))
            if rules:
                out.append(wrap("Rules behind it: " + ", ".join(c.because), "     "))
        if a.regions:  # every region, also those that do not change the pattern (the neck beside a hemidystonia)
            out.append(wrap(f"{KB.report.regions_taken} " + "; ".join(regions_taken(a)) + ".", "  "))
        out.append("")
    else:
        out += [wrap(KB.text.nothing_found), ""]
    for title, items in (("Possible causes, for the neurologist to weigh:", a.causes),
                         ("Look-alike conditions to rule out:", a.mimics)):
        if items:
            out.append(title)
            for f in items:
                out.append(wrap(f"- {f.label}", "  ", hang=2))
                out.append(wrap(f.description, "    "))
            out.append("")
    out.append(KB.report.after_emergency_heading + ":" if emergency else "Next steps:")
    out += [wrap(f"- {step_text(s, emergency, respondent, a)}", "  ", hang=2) for s in a.next_steps]
    out += _treatment_lines(a, wrap, respondent, sources=rules)
    out += ["", wrap(a.disclaimer)]
    return "\n".join(out) + "\n"


def _treatment_lines(a: Assessment, wrap, respondent: Optional[str] = None, sources: bool = True) -> list[str]:
    """Treatments a neurologist may discuss (:mod:`triage.treatments`), after the next steps:
    on an emergency result they come after the emergency action and "after emergency care"."""
    from triage import treatments

    found = treatments.for_result(KB, a, respondent)
    # the source keys, like the rule ids, are for educators and clinicians: the report that a
    # patient takes away spells the sources out in full
    return [] if found is None else ["", *treatments.text_lines(found, wrap, sources=sources)]


# --- the appointment report and the nurse summary ------------------------------------------
# One view of the assessment and the case (:func:`report_view`) feeds three Jinja2 templates in
# ``triage/templates/``: the HTML page, the Markdown file and the nurse summary. The words come
# from ``knowledge/report.yaml``.

# the report's order: the warning signs first
CASE_LISTS = ("red_flags", *(f for f in casefields.LIST_FIELDS if f != "red_flags"))
CASE_SCALARS = tuple(f for f in casefields.SCALAR_FIELDS if f != "respondent")


@dataclass(frozen=True)
class Meta:
    """What a report says about itself: the date and the versions behind it."""

    date: str
    tool_version: str
    kb_version: str
    kb_fingerprint: str

    @property
    def kb(self) -> str:
        return f"{self.kb_version} ({self.kb_fingerprint})"


def report_meta(today: Optional[_dt.date] = None) -> Meta:
    """The date (today unless given) and the tool's and knowledge base's versions."""
    from triage import __version__, knowledge

    return Meta(date=(today or _dt.date.today()).isoformat(), tool_version=__version__,
                kb_version=KB.about.version, kb_fingerprint=knowledge.fingerprint())


@dataclass(frozen=True)
class Answer:
    field: str
    id: str
    topic: str
    answer: str
    term: str


def _labels(field: str) -> dict[str, str]:
    if field in CASE_SCALARS:
        return {c.id: c.label for c in getattr(KB.case, field)}
    items = {"features": KB.features, "history": KB.history}.get(field) or getattr(KB, field)
    return {i.id: i.label for i in items}


def _answer(field: str, value: str) -> Answer:
    label = _labels(field)[value]
    return Answer(field=field, id=value, topic=KB.report.topics[field],
                  answer=label[:1].upper() + label[1:],
                  term=getattr(KB.chart.terms, field)[value])


def answer_groups(case: Optional[Case], asked: Optional[Asked] = None) -> dict:
    """The answers as ``present``, ``absent`` and ``unsure`` lists of :class:`Answer`.

    A case records what was reported, and its scalar answers (a medicine "none", a "not sure").
    Which other items were asked and answered "no" or "not sure" only a questionnaire knows
    (``asked``); without it, ``absent_known`` is false and the report says so.
    """
    present: list[Answer] = []
    absent: list[Answer] = []
    unsure: list[Answer] = []
    scalar_absent: list[Answer] = []
    scalar_unsure: list[Answer] = []
    if case is not None:
        for field in CASE_LISTS:
            present += [_answer(field, v) for v in dict.fromkeys(getattr(case, field))]
        for field in CASE_SCALARS:
            value = getattr(case, field)
            if value is None:
                continue
            group = {"unknown": scalar_unsure, "none": scalar_absent}.get(value, present)
            group.append(_answer(field, value))
    if asked is not None:
        reported = {(a.field, a.id) for a in present}
        for field in CASE_LISTS:
            absent += [_answer(field, v) for v in asked.absent.get(field, []) if (field, v) not in reported]
            unsure += [_answer(field, v) for v in asked.unsure.get(field, []) if (field, v) not in reported]
    absent += scalar_absent
    unsure += scalar_unsure
    return {"present": present, "absent": absent, "unsure": unsure, "absent_known": asked is not None}


def _by_topic(answers: list[Answer]) -> list[tuple[str, list[str]]]:
    """Answers grouped by topic, in the order the topics first appear (one table row each)."""
    rows: dict[str, list[str]] = {}
    for a in answers:
        rows.setdefault(a.topic, []).append(a.answer)
    return list(rows.items())


def _why(rule_ids: list[str], explains: dict[str, tuple[str, str]]) -> list[str]:
    skip = set(KB.report.why_skip_layers)
    out: list[str] = []
    for rid in rule_ids:
        layer, text = explains[rid]
        if layer not in skip and text not in out:
            out.append(text)
    return out


def _explains(a: Assessment) -> dict[str, tuple[str, str]]:
    """Rule id -> (layer, plain explanation), from the trace, or the rule book without one."""
    found = {t.rule: (t.layer, t.explain) for t in a.trace}
    wanted = {r for c in a.candidates for r in c.because} | {r for f in a.causes + a.mimics for r in f.because}
    wanted |= set(a.care_because)
    if wanted - set(found):
        from triage import rulebook

        book = rulebook.default()
        found.update({r.id: (r.layer, r.explain) for r in book.rules if r.id in wanted})
    return found


def _questions(a: Assessment, respondent: Optional[str] = None) -> list[str]:
    have = {"candidates": {c.type for c in a.candidates}, "causes": {f.id for f in a.causes},
            "mimics": {f.id for f in a.mimics}, "next_steps": {s.id for s in a.next_steps},
            "care_levels": {a.care_level}}
    out = []
    for q in KB.ask_neurologist:
        if q.unless and any(have[kind] & set(ids) for kind, ids in q.unless.items()):
            continue
        if q.when is None or any(have[kind] if ids == "any" else have[kind] & set(ids)
                                 for kind, ids in q.when.items()):
            out.append(" ".join(kbase.worded(q.text, respondent).split()))
    return out


def _code_text(codes) -> list[str]:
    from triage.assessment import SYSTEMS

    names = {uri: name for uri, name in SYSTEMS.values()}
    return [f"{names.get(c.system, c.system)} {c.code}" + (f" ({c.display})" if c.display else "")
            for c in codes]


def report_view(a: Assessment, case: Optional[Case] = None, *, asked: Optional[Asked] = None,
                meta: Optional[Meta] = None, clinics=None) -> dict:
    """Everything the report templates show, in display order, as plain values. ``clinics``:
    the clinics a person chose to find near them (:func:`triage.clinics.suggest`), shown
    without the place they typed."""
    from triage import treatments

    meta = meta or report_meta()
    explains = _explains(a)
    words, chart = KB.report, KB.chart

    def finding(f, table: str) -> dict:
        return {"id": f.id, "label": f.label, "description": " ".join(f.description.split()),
                "why": _why(f.because, explains), "codes": _code_text(f.codes),
                "term": getattr(chart.terms, table)[f.id], "icd": _icd(f.codes)}

    candidates = [{"type": c.type, "label": c.label, "support": c.support,
                   "match": _support_words(c.support), "description": " ".join(c.description.split()),
                   "why": _why(c.because, explains), "codes": _code_text(c.codes),
                   "term": chart.terms.types[c.type], "icd": _icd(c.codes)} for c in a.candidates]
    return {
        "w": words, "chart": chart, "meta": meta, "a": a, "case": case,
        "respondent": words.respondent.get(case.respondent) if case and case.respondent else None,
        "respondent_term": chart.terms.respondent.get(case.respondent) if case and case.respondent else None,
        "age": case.age if case else None, "onset_age": case.onset_age if case else None,
        "emergency": is_emergency(a),
        "care_term": chart.terms.care_levels[a.care_level],
        # what made it this care level: the care rules' words (a warning sign, a recent medicine)
        "care_reasons": list(dict.fromkeys(explains[r][1] for r in a.care_because
                                           if r in explains and explains[r][0] == "care")),
        "red_flags": [{"id": f.id, "label": f.label, "term": chart.terms.red_flags[f.id]} for f in a.red_flags],
        "n_red_flags": len(KB.red_flags),
        "answers": (answers := answer_groups(case, asked)),
        "answer_rows": {key: _by_topic(answers[key]) for key in ("present", "absent", "unsure")},
        "candidates": candidates,
        "regions_taken": regions_taken(a),
        "causes": [finding(f, "causes") for f in a.causes],
        "mimics": [finding(f, "mimics") for f in a.mimics],
        "next_steps": [{"id": s.id, "text": " ".join(step_text(s, is_emergency(a), case.respondent if case else None, a).split()),
                        "term": chart.terms.next_steps[s.id]} for s in a.next_steps],
        "next_steps_heading": words.after_emergency_heading if is_emergency(a) else words.next_steps_heading,
        "questions": _questions(a, case.respondent if case else None),
        "disclaimer": " ".join(a.disclaimer.split()),
        "treatments": treatments.for_result(KB, a, case.respondent if case else None),
        "clinics": clinics,
    }


def _icd(codes) -> Optional[str]:
    from triage.assessment import SYSTEMS

    uri = SYSTEMS["icd10cm"][0]
    return next((c.code for c in codes if c.system == uri), None)


@functools.lru_cache(maxsize=2)
def _env(html: bool):
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("triage", "templates"),
        autoescape=html, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def _render(template: str, view: dict) -> str:
    return _env(template.endswith(".html.j2")).get_template(template).render(**view)


def html_report(a: Assessment, case: Optional[Case] = None, *, asked: Optional[Asked] = None,
                meta: Optional[Meta] = None, clinics=None) -> str:
    """The appointment report as one self-contained HTML page (inline CSS, no scripts, no
    external assets, print styles for A4 and Letter). The web page reuses it; its body alone
    is :func:`html_report_body`."""
    return html_reports([(a, case, asked)], meta=meta, clinics=clinics)


def html_report_body(a: Assessment, case: Optional[Case] = None, *, asked: Optional[Asked] = None,
                     meta: Optional[Meta] = None, id_prefix: str = "", clinics=None) -> str:
    """The report without the page around it (for a page that has its own head and styles);
    ``id_prefix`` keeps element ids unique when a page holds several reports."""
    return _render("report_body.html.j2", {**report_view(a, case, asked=asked, meta=meta, clinics=clinics),
                                           "idp": id_prefix})


def report_css() -> str:
    """The report's style sheet (screen and print), for a page that shows :func:`html_report_body`."""
    return _env(False).get_template("report.css").render()


def html_reports(items, *, meta: Optional[Meta] = None, clinics=None) -> str:
    """Several reports ``(assessment, case, asked)`` in one page, each starting a new
    printed page (``clinics``: a single report's chosen clinics)."""
    from markupsafe import Markup

    meta = meta or report_meta()
    items = list(items)
    bodies = [Markup(html_report_body(a, c, asked=asked, meta=meta,
                                      id_prefix=f"case{i + 1}-" if len(items) > 1 else "", clinics=clinics))
              for i, (a, c, asked) in enumerate(items)]
    return _render("report.html.j2", {"w": KB.report, "meta": meta, "bodies": bodies})


def markdown(a: Assessment, case: Optional[Case] = None, *, asked: Optional[Asked] = None,
             meta: Optional[Meta] = None, clinics=None) -> str:
    """The appointment report in Markdown: the same content as :func:`html_report`."""
    return _render("report.md.j2", report_view(a, case, asked=asked, meta=meta, clinics=clinics))


def summary(a: Assessment, case: Optional[Case] = None, *, asked: Optional[Asked] = None,
            meta: Optional[Meta] = None) -> str:
    """The nurse summary: a compact plain-text block for a chart, about 15 lines at most."""
    return _render("summary.txt.j2", report_view(a, case, asked=asked, meta=meta))

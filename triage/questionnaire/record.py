"""The one mapping between answers, the case (the contract) and the record of what was asked.

Every front end goes through it: the terminal and the web build the case and the report's
record from the answers here, ``--resume`` and FHIR import read answers back through it, and
teaching cases and FHIR export turn a case into answers with it. Answers are keyed by question
id (see :mod:`triage.questionnaire.answers` for their shape).

Regions: a question that names body regions adds to the regions the rules derive from the
symptoms (minus those it refines: a side-unknown arm placed on the left), because a case that
names any region gets no derived ones. Deriving them needs the rules; the caller passes that
in as ``derive_regions`` (symptoms -> regions), so this module stays pure.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Optional

from triage.questionnaire import questions as qmod
from triage.questionnaire.questions import NO, UNSURE, YES, Question

DeriveRegions = Callable[[tuple[str, ...]], list[str]]


class Record:
    """The mapping for one knowledge base's questions."""

    def __init__(self, kb, derive_regions: DeriveRegions):
        self.kb = kb
        self.questions: list[Question] = list(kb.questions)
        self.by_id = {q.id: q for q in self.questions}
        self._position = {q.id: i for i, q in enumerate(self.questions)}
        self.derive_regions = derive_regions
        self._region_order = kb.ids("regions")

    # -- which answers count ------------------------------------------------------------------
    def active(self, answers: Mapping[str, Any]) -> dict:
        """The answers of questions whose condition holds, in question order (an answer to a
        question that no longer applies, after an earlier answer changed, does not count)."""
        out: dict = {}
        for q in self.questions:
            if q.id in answers and q.applies(out, record=True):
                out[q.id] = answers[q.id]
        return out

    @staticmethod
    def ids(q: Question, value: Any) -> list[str]:
        """The contract ids an answer puts in the case."""
        if value is None:
            return []
        if q.kind == "yes_no":
            return [q.value] if value == YES else []  # type: ignore[list-item]
        codes = value if isinstance(value, list) else [value]
        return [i for code in codes for i in q.choice(code).ids]

    # -- answers -> case ----------------------------------------------------------------------
    def case(self, answers: Mapping[str, Any], regions: Optional[Iterable[str]] = None) -> dict:
        """The contract case the answers make (``version`` 1; unanswered fields left out).
        ``regions``, when given, are the case's body regions exactly (a FHIR response that
        carries them)."""
        active = self.active(answers)
        case: dict[str, Any] = {"version": 1}
        lists: dict[str, list[str]] = {}
        named: list[str] = []
        replaced: set[str] = set()
        for q in self.questions:
            if q.id not in active:
                continue
            value = active[q.id]
            if q.kind == "number":
                if value is not None:
                    case[q.fills] = value
            elif q.fills == "regions":
                named += [r for r in self.ids(q, value) if r not in named]
                replaced |= set(q.replaces)
            elif q.fills in qmod.LIST_FIELDS:
                items = lists.setdefault(q.fills, [])
                items += [i for i in self.ids(q, value) if i not in items]
            else:
                case[q.fills] = self.ids(q, value)[0]
        case.update({k: v for k, v in lists.items() if v})
        if regions is not None:
            regions = list(regions)
            if regions:
                case["regions"] = regions
        elif named:
            derived = [r for r in self.derive_regions(tuple(case.get("symptoms", ()))) if r not in replaced]
            case["regions"] = sorted(dict.fromkeys(derived + named), key=self._region_order.index)
        return case

    # -- answers -> what was asked --------------------------------------------------------------
    def asked(self, answers: Mapping[str, Any],
              shown: Optional[Callable[[Question, dict, Any], list[str]]] = None):
        """What the answers say was asked and answered "no" or "not sure" (the pertinent
        negatives a report lists), by case list field.

        Body regions are left out: a region question asks about parts *other* than those the
        symptoms already point to, so a region it leaves unticked may still be involved.

        ``shown(question, answers before it, its answer)``: the choices a checklist showed (the
        interview's checklists may show only the choices that could change the result, and a
        choice never shown was never denied); without it every choice was shown, as on the
        full FHIR form."""
        from triage.models import Asked

        absent: dict[str, list[str]] = {}
        unsure: dict[str, list[str]] = {}
        for q in self.questions:
            if q.id not in answers or q.fills not in qmod.LIST_FIELDS or q.fills == "regions":
                continue
            value = answers[q.id]
            if q.kind == "yes_no":
                target = {NO: absent, UNSURE: unsure}.get(value)
                if target is not None:
                    bucket = target.setdefault(q.fills, [])
                    if q.value not in bucket:
                        bucket.append(q.value)  # type: ignore[arg-type]
            elif q.kind == "several_of":
                chosen = set(self.ids(q, value))
                choices = q.choices
                if shown is not None:
                    at = self._position[q.id]
                    before = {k: v for k, v in answers.items() if self._position.get(k, at) < at}
                    ids = set(shown(q, before, value))
                    choices = [c for c in choices if c.id in ids]
                bucket = absent.setdefault(q.fills, [])
                bucket += [i for c in choices for i in c.ids if i not in chosen and i not in bucket]
        return Asked(absent={k: v for k, v in absent.items() if v},
                     unsure={k: v for k, v in unsure.items() if v})

    # -- case -> answers ------------------------------------------------------------------------
    def answers_from_case(self, case, asked=None) -> dict:
        """Answers that make ``case`` (a :class:`~triage.models.Case`); a case that names body
        regions carries them separately (see :meth:`case`'s ``regions``). Only what the case
        reports is answered: a yes/no it does not report, or an empty list, stays unanswered,
        so the record never claims a denial the case does not make.

        ``asked`` (:class:`~triage.models.Asked`, what a questionnaire says was answered "no"
        or "not sure", see :meth:`asked`) gives those answers back too: a yes/no it lists as
        absent is "no", as unsure "not sure"; a checklist whose every choice is either in the
        case or listed as absent was asked, and what is not ticked was denied."""
        absent = asked.absent if asked is not None else {}
        unsure = asked.unsure if asked is not None else {}
        answers: dict[str, Any] = {}
        regions = list(case.regions)
        for q in self.questions:
            field = q.fills
            if not q.applies(answers, record=True):
                continue
            if q.kind == "number":
                if getattr(case, field) is not None:
                    answers[q.id] = getattr(case, field)
            elif field in qmod.SCALAR_FIELDS:
                value = getattr(case, field)
                if value is not None:
                    answers[q.id] = next(c.id for c in q.choices if c.ids == [value])
            elif q.kind == "yes_no":
                opens = [f for f in self.questions if f.kind == "yes_no" and f.fills == field
                         and any(c.question == q.id and c.any_of == [YES] for c in f.when)]
                if q.value in getattr(case, field) or any(f.value in getattr(case, field) for f in opens):
                    answers[q.id] = YES  # (a follow-up's yes implies this one: held back implies an urge)
                elif q.value in absent.get(field, ()):
                    answers[q.id] = NO
                elif q.value in unsure.get(field, ()):
                    answers[q.id] = UNSURE
            elif field == "regions":
                if not regions:
                    continue
                covered = {i for c in q.choices for i in c.ids}
                mine = [r for r in regions if r in covered]
                if q.kind == "one_of":
                    match = next((c.id for c in q.choices if set(c.ids) == set(mine)), None)
                    if match is not None:
                        answers[q.id] = match
                        regions = [r for r in regions if r not in mine]
                else:
                    answers[q.id] = [c.id for c in q.choices if set(c.ids) <= set(mine)]
                    regions = [r for r in regions if r not in mine]
            else:  # several_of over a list field
                # a case says only what was reported: an empty list is not "asked, and none"
                have = getattr(case, field)
                denied = set(absent.get(field, ()))
                own = {i for c in q.choices for i in c.ids}
                # answered when the case reports one of its own choices (another question may
                # fill the same field: a family history is a yes/no of its own), or when the
                # record says it was asked: every choice reported or denied
                if own & set(have) or (denied and own <= set(have) | denied):
                    # in the case's order, so that the case read back is the same, list for list
                    single = {c.ids[0]: c.id for c in q.choices if len(c.ids) == 1}
                    answers[q.id] = [single[v] for v in have if v in single]
        return answers


__all__ = ["Record", "DeriveRegions"]

"""``assess(case) -> Assessment``: pure, no I/O, no prompts."""

from __future__ import annotations

from typing import Union

from pydantic import ValidationError

from triage import engine as engine_mod
from triage import knowledge as kbase
from triage.errors import CaseError
from triage.models import (
    KB,
    Assessment,
    Candidate,
    Case,
    Code,
    Finding,
    NextStep,
    RedFlagFinding,
    TraceEntry,
)

# The canonical FHIR code system URIs (HL7 Terminology, THO): the knowledge key -> (URI, name).
SYSTEMS = {
    "icd10cm": ("http://hl7.org/fhir/sid/icd-10-cm", "ICD-10-CM"),
    "snomed": ("http://snomed.info/sct", "SNOMED CT"),
    "hpo": ("http://human-phenotype-ontology.org", "HPO"),
}


def case_facts(case: Case) -> list[dict]:
    """The answer facts of a case, one per answer (rules/facts.yaml says which field is which)."""
    book = engine_mod.default().book
    facts: list[dict] = []
    for name, spec in book.facts.items():
        if not spec.from_case:
            continue
        value = getattr(case, spec.from_case)
        values = value if isinstance(value, list) else [value]
        facts += [{"t": name, "v": v} for v in values if v is not None]
    return facts


def to_case(data: Union[Case, dict]) -> Case:
    """Validate a case; a problem raises :class:`CaseError` naming the field."""
    if isinstance(data, Case):
        return data
    from triage.validation import describe

    try:
        return Case.model_validate(data)
    except ValidationError as exc:
        raise CaseError(describe(exc)) from None


def _codes(codes) -> list[Code]:
    """The codes of a type, cause or look-alike; ``display`` is the code's own title."""
    out = []
    for key, (system, _name) in SYSTEMS.items():
        value = getattr(codes, key, None)
        if value:
            out.append(Code(system=system, code=value, display=getattr(KB.code_titles, key)[value]))
    return out


def assess(data: Union[Case, dict]) -> Assessment:
    """Assess one case. Pure: the same case always gives the same assessment."""
    case = to_case(data)
    eng = engine_mod.default()
    run = eng.run(case_facts(case))
    book = eng.book
    types, causes, mimics = KB.by_id("types"), KB.by_id("causes"), KB.by_id("mimics")
    support_rank = {s.id: s.rank for s in KB.support}

    support = {f["of"]: f for f in run.of_type("support")}
    candidates = []
    for fact in run.of_type("candidate"):
        t = types[fact["v"]]
        level = support.get(t.id)
        because = run.because(fact) + ([r for r in run.because(level) if r not in run.because(fact)] if level else [])
        candidates.append(Candidate(
            type=t.id, label=t.label, support=level["v"] if level else "possible",
            because=because, description=t.description, codes=_codes(t.codes),
        ))
    # KNOWLEDGE: hemidystonia first, myoclonus-dystonia before the distribution type; the
    # types' rank says so, and support orders candidates of equal rank.
    candidates.sort(key=lambda c: (types[c.type].rank, -support_rank[c.support]))

    def findings(fact_type: str, table: dict) -> list[Finding]:
        out = []
        for fact in run.of_type(fact_type):
            item = table[fact["v"]]
            out.append(Finding(id=item.id, label=item.label, description=item.description,
                               because=run.because(fact), codes=_codes(item.codes)))
        order = list(table)
        return sorted(out, key=lambda f: order.index(f.id))

    involved = {f["v"] for f in run.of_type("region")}
    level_fact = run.of_type("care_level")[0]
    level = KB.by_id("care_levels")[level_fact["v"]]
    flags = KB.by_id("red_flags")
    step_order = list(KB.by_id("next_steps"))
    steps = sorted(run.of_type("next_step"), key=lambda f: step_order.index(f["v"]))
    return Assessment(
        care_level=level.id,
        care_label=level.label,
        care_action=kbase.worded(level.action, case.respondent),
        care_because=run.because(level_fact),
        candidates=candidates,
        causes=findings("cause", causes),
        mimics=findings("mimic", mimics),
        red_flags=[RedFlagFinding(id=f.id, label=f.label, care_level=f.care_level)
                   for f in flags.values() if f.id in case.red_flags],
        next_steps=[NextStep(id=f["v"], text=kbase.worded(KB.by_id("next_steps")[f["v"]].text, case.respondent),
                             because=run.because(f))
                    for f in steps],
        regions=[r for r in KB.by_id("regions") if r in involved],
        disclaimer=KB.text.disclaimer,
        # the trace is built from the engine's own records: no need to validate it again
        trace=[TraceEntry.model_construct(rule=f.rule, layer=f.layer, explain=book.rule(f.rule).explain,
                                          source=book.rule(f.rule).source, matched=f.matched,
                                          concluded=f.concluded)
               for f in run.firings],
    )

"""``check``: the knowledge base checked beyond its schema.

Loading already rejects unknown keys, broken references, unknown source keys and malformed
codes (ICD-10-CM, SNOMED CT, HPO); ``check`` reports those too, and then checks what a loader
cannot see on its own:

* every id of the contract (``knowledge/contract.yaml``) is present;
* every rule input can be asked (each answer fact comes from a field of the case) and every
  answer is read by some rule (except those the contract file marks as recorded only);
* every question's answer (knowledge/questions.yaml) is read by some rule, and every rule
  input can be asked by some question;
* every type, cause, mimic, care level and next step is reached by at least one teaching case,
  and every red flag is used by one;
* the codes of the types, causes and mimics are well formed;
* every candidate type and look-alike has treatments a neurologist may discuss
  (``knowledge/treatments.yaml``), each citing a known source (a source is checked at load);
* the clinic directory (``TRIAGE_CLINICS``, else ``knowledge/clinics.yaml``) loads.

Each check returns a list of problems; an empty list means it passed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, TypeVar

T = TypeVar("T")

from pydantic import BaseModel, ConfigDict, ValidationError

from triage import knowledge as kbase
from triage.casefields import FIELDS
from triage.errors import KnowledgeError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Contract(_Strict):
    version: int
    ids: dict[str, list[str]]
    recorded_only: dict[str, str] = {}


class ContractFile(_Strict):
    contract: Contract


# contract id list -> where the knowledge base keeps it
CONTRACT_TABLES = {
    **{f.name: f.table for f in FIELDS if f.table},
    "care_levels": "care_levels", "types": "types", "support": "support", "causes": "causes",
    "mimics": "mimics", "next_steps": "next_steps",
}
# what the teaching cases must reach, all together: the assessment part -> the knowledge table
COVERAGE = {"types": "types", "causes": "causes", "mimics": "mimics",
            "care_levels": "care_levels", "next_steps": "next_steps", "red_flags": "red_flags"}


@dataclass
class Result:
    name: str
    problems: list[str] = field(default_factory=list)
    detail: str = ""


def _table_ids(kb: kbase.KnowledgeBase, where: str) -> list[str]:
    if where.startswith("case."):
        return [c.id for c in getattr(kb.case, where.split(".", 1)[1])]
    return [getattr(i, "key", None) or i.id for i in getattr(kb, where)]


def load_contract(directory: Path) -> Contract:
    path = directory / "contract.yaml"
    if not path.exists():
        raise KnowledgeError(f"{path}: missing; it lists the contract ids that must stay present")
    try:
        return ContractFile.model_validate(kbase.read_yaml(path)).contract
    except ValidationError as exc:
        detail = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise KnowledgeError(f"{path}: {detail}") from None


def check_contract(kb, contract: Contract, path: str) -> list[str]:
    problems = []
    for name, ids in contract.ids.items():
        where = CONTRACT_TABLES.get(name)
        if where is None:
            problems.append(f"{path}: contract.ids.{name}: unknown list; known: {', '.join(CONTRACT_TABLES)}")
            continue
        have = set(_table_ids(kb, where))
        for i in ids:
            if i not in have:
                problems.append(f"contract id {name}.{i} is missing from the knowledge base ({where})")
    return problems


def _list_fields() -> set[str]:
    from triage.casefields import LIST_FIELDS

    return set(LIST_FIELDS)


def check_answers(eng, kb, contract: Contract, case_fields: list[str]) -> list[str]:
    """Every rule input can be asked, and every answer is read by some rule. An answer is
    read when some rule has a pattern that it passes (the engine keeps only those)."""
    book = eng.book
    problems = []
    declared: dict[str, str] = {}
    for name, spec in book.facts.items():
        if not spec.from_case:
            continue
        if spec.from_case not in case_fields:
            problems.append(f"facts.{name}: comes from the case field {spec.from_case!r}, which a case "
                            f"cannot give (fields: {', '.join(case_fields)})")
        declared[spec.from_case] = name
    recorded = contract.recorded_only
    for key in recorded:
        fld = key.split(".", 1)[0]
        if fld not in case_fields:
            problems.append(f"contract.recorded_only.{key}: {fld!r} is not a case field")
    lists = _list_fields()
    for fld in case_fields:
        fact_type = declared.get(fld)
        if fact_type is None:
            problems.append(f"case field {fld!r}: no fact comes from it (rules/facts.yaml), so no rule can read it")
            continue
        spec = book.facts[fact_type]
        values = _table_ids(kb, spec.values) if spec.values else [0, 20, 30, 50, 120]
        read = {v for v in values if eng.answer_facts([{"t": fact_type, "v": v}])}
        if fld in lists:
            for v in values:
                key = f"{fld}.{v}"
                if v not in read and key not in recorded and fld not in recorded:
                    problems.append(f"answer {key}: no rule reads it; add a rule, or list it under "
                                    f"contract.recorded_only in contract.yaml with the reason")
                if v in read and key in recorded:
                    readers = ", ".join(r.id for r in book.readers(eng.answer_facts([{"t": fact_type, "v": v}])[0]))
                    problems.append(f"answer {key}: listed as recorded only, but rule(s) {readers} read it")
        if not read and fld not in recorded:
            problems.append(f"case field {fld!r}: no rule reads any of its answers; add a rule, or list it "
                            f"under contract.recorded_only in contract.yaml with the reason")
        if read and fld in recorded:
            problems.append(f"case field {fld!r}: listed as recorded only, but a rule reads it")
    return problems


def check_questions(eng, kb, contract: Contract) -> list[str]:
    """Every question's answer is read by some rule (or the contract file says it is recorded
    only), and every rule input can be asked by some question (knowledge/questions.yaml)."""
    from triage.questionnaire.questions import LIST_FIELDS

    book = eng.book
    recorded = contract.recorded_only
    fact_of = {spec.from_case: name for name, spec in book.facts.items() if spec.from_case}
    asked: dict[str, set] = {}
    numbers: set[str] = set()
    problems: list[str] = []

    def read(fact_type: str, value) -> list[dict]:
        return eng.answer_facts([{"t": fact_type, "v": value}])

    for q in kb.questions:
        fact = fact_of.get(q.fills)
        where = f"questions.yaml: {q.id}"
        if fact is None:
            problems.append(f"{where}: fills {q.fills!r}, which no rule fact comes from (rules/facts.yaml)")
            continue
        if q.kind == "number":
            numbers.add(q.fills)
            lo, hi = q.min if q.min is not None else 0, q.max if q.max is not None else 0
            values = sorted({lo, hi, (lo + hi) // 2, *range(lo, hi + 1, 5)})
        else:
            values = [q.value] if q.kind == "yes_no" else list(dict.fromkeys(i for c in q.choices for i in c.ids))
            asked.setdefault(q.fills, set()).update(values)
        read_values = [v for v in values if read(fact, v)]
        if not read_values and q.fills not in recorded and not all(f"{q.fills}.{v}" in recorded for v in values):
            problems.append(f"{where}: no rule reads any of its answers ({q.fills}); add a rule, or list it "
                            f"under contract.recorded_only in contract.yaml with the reason")
        if q.fills in LIST_FIELDS and q.fills not in recorded:
            for v in values:
                if v not in read_values and f"{q.fills}.{v}" not in recorded:
                    problems.append(f"{where}: the answer {q.fills}.{v} is read by no rule")
    for rule in book.rules:
        for p in rule.when + rule.unless:
            spec = book.facts[p.fact]
            if not spec.from_case:
                continue
            if spec.values:
                ok = any(p.accepts(f) for v in asked.get(spec.from_case, ()) for f in read(p.fact, v))
            else:
                ok = spec.from_case in numbers
            if not ok:
                from triage.catalogue import pattern_words

                problems.append(f"rule {rule.id}: reads {pattern_words(p, rule).replace('**', '').replace('`', '')}, "
                                f"which no question in questions.yaml can give")
    return problems


def check_record_questions(kb) -> list[str]:
    """A question asked for the record (``record:`` in questions.yaml) is asked because the
    neurologist needs its answer, so the appointment report and the chart summary must show
    the case field it fills."""
    from triage.casefields import NUMBER_FIELDS

    shown_in_report = set(kb.report.topics) | set(NUMBER_FIELDS)
    shown_in_chart = set(type(kb.chart.terms).model_fields) | set(NUMBER_FIELDS)
    problems = []
    for q in kb.questions:
        if q.record is None:
            continue
        if q.fills not in shown_in_report:
            problems.append(f"questions.yaml: {q.id}: asked for the record, but the report shows no "
                            f"{q.fills!r} (add it to report.yaml report.topics)")
        if q.fills not in shown_in_chart:
            problems.append(f"questions.yaml: {q.id}: asked for the record, but the chart summary has no "
                            f"terms for {q.fills!r} (report.yaml chart.terms)")
    return problems


def check_coverage(eng, kb, cases) -> tuple[list[str], str]:
    """Every type, cause, mimic, care level and next step is reached by a teaching case (run on
    these rules), and every red flag is used by one."""
    book = eng.book
    reached: dict[str, set[str]] = {k: set() for k in COVERAGE}
    for tc in cases:
        facts = []
        for name, spec in book.facts.items():
            if spec.from_case and spec.from_case in type(tc.case).model_fields:  # else reported above
                value = getattr(tc.case, spec.from_case)
                facts += [{"t": name, "v": v} for v in (value if isinstance(value, list) else [value]) if v is not None]
        run = eng.run(facts)
        reached["types"] |= {f["v"] for f in run.of_type("candidate")}
        reached["causes"] |= {f["v"] for f in run.of_type("cause")}
        reached["mimics"] |= {f["v"] for f in run.of_type("mimic")}
        reached["care_levels"] |= {f["v"] for f in run.of_type("care_level")}
        reached["next_steps"] |= {f["v"] for f in run.of_type("next_step")}
        reached["red_flags"] |= set(tc.case.red_flags)
    problems = []
    for part, table in COVERAGE.items():
        for i in _table_ids(kb, table):
            if i not in reached[part]:
                problems.append(f"{part}: {i} is reached by no teaching case (knowledge/cases/)")
    return problems, f"{len(cases)} teaching cases"


def check_codes(kb) -> list[str]:
    problems = []
    for table in ("types", "mimics", "causes"):
        for item in getattr(kb, table):
            c = item.codes
            for name, value, shape in (("icd10cm", c.icd10cm, kbase.ICD10CM), ("snomed", c.snomed, kbase.SNOMED),
                                       ("hpo", c.hpo, kbase.HPO)):
                if value and not shape.match(value):
                    problems.append(f"{table}.{item.id}.codes.{name}: malformed {value!r}")
    return problems


def _directory(kdir: Path, kb):
    import os

    from triage import clinics

    given = os.environ.get(clinics.ENV)
    return clinics.load(Path(given) if given else kdir / "clinics.yaml", kb)


def check_treatments(kb) -> list[str]:
    """Every candidate type and look-alike has at least one treatment a neurologist may discuss."""
    problems = []
    for table, what in (("types", "candidate type"), ("mimics", "look-alike")):
        for i in kb.ids(table):
            if not kb.treatments.get(i):
                problems.append(f"treatments.yaml: treatments.{i}: the {what} {i!r} has no treatment entry")
    return problems


def run_checks(knowledge: Path | None = None, rules: Path | None = None) -> list[Result]:
    """Every check, in order. A check that cannot run because an earlier one failed is skipped."""
    from triage import rulebook, teaching
    from triage.paths import knowledge_dir, rules_dir

    kdir = Path(knowledge) if knowledge else knowledge_dir()
    rdir = Path(rules) if rules else rules_dir()
    results: list[Result] = []

    def step(name: str, fn: Callable[[], T]) -> Optional[T]:
        try:
            value = fn()
        except KnowledgeError as exc:  # RulesError is a KnowledgeError
            # loaders join their problems with "; ", each starting with the file it is in
            results.append(Result(name, [p.strip() for p in re.split(r"; (?=\S*(?:/|\.yaml))", str(exc))]))
            return None
        results.append(Result(name))
        return value

    kb = step("knowledge base loads (schema, references, sources, codes)", lambda: kbase.load(kdir))
    if kb is None:
        return results
    book = step("rules load (facts, sources, values, layers)", lambda: rulebook.load(rdir, kb))
    contract = step("contract file loads", lambda: load_contract(kdir))
    cases = step("teaching cases load", lambda: teaching.load(teaching.cases_dir(kdir), kb))
    if contract is not None:
        results.append(Result("every contract id is present", check_contract(kb, contract, str(kdir / "contract.yaml"))))
    results.append(Result("codes are well formed (ICD-10-CM, SNOMED CT, HPO)", check_codes(kb)))
    results.append(Result("every candidate type and look-alike has treatments, each with a source",
                          check_treatments(kb)))
    step("the clinic directory loads (TRIAGE_CLINICS, else knowledge/clinics.yaml)", lambda: _directory(kdir, kb))
    eng = None
    if book is not None:
        from triage.engine import Engine

        eng = Engine(book)
    if eng is not None and contract is not None:
        from triage.casefields import FIELDS

        fields = [f.name for f in FIELDS]
        results.append(Result("every rule input can be asked and every answer is read", check_answers(eng, kb, contract, fields)))
        results.append(Result("every question's answer is read and every rule input can be asked by a question",
                              check_questions(eng, kb, contract)))
    results.append(Result("every answer asked for the record is shown in the report and the chart summary",
                          check_record_questions(kb)))
    if eng is not None and cases is not None:
        problems, detail = check_coverage(eng, kb, cases)
        results.append(Result("teaching cases reach every type, cause, mimic, care level, next step and red flag",
                              problems, detail))
    return results

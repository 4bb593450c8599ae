"""The report and export data in knowledge/ (about, codes, report, fhir) is validated at load
like the rest: a broken copy fails naming the file and the key. And the codes on results use
the canonical FHIR code system URIs with the titles from knowledge/codes.yaml."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import ROOT, run_cli, edit
from triage import knowledge, rulebook
from triage.errors import KnowledgeError
from triage.models import KB


@pytest.mark.parametrize("file, old, new, message", [
    ("about.yaml", 'version: "1.0.0"', 'version: "one"', "about.yaml: about.version"),
    ("codes.yaml", "    G24.5: Blepharospasm\n", "", "'G24.5' has no title"),
    ("report.yaml", "      tics: tics\n", "", "chart.terms.mimics: missing 'tics'"),
    ("report.yaml", "      tremor: tremor\n", "      tremor: tremor\n      hiccups: hiccups\n",
     "chart.terms.symptoms: unknown id 'hiccups'"),
    ("report.yaml", "when: {next_steps: [mri_brain]}", "when: {next_steps: [ct_scan]}",
     "ask_neurologist.6.when.next_steps: unknown id 'ct_scan'"),
    ("report.yaml", "when: {mimics: any}", "when: {rumours: any}", "ask_neurologist.4.when.rumours"),
    ("report.yaml", "unless: {causes: [drug_induced_acute]}", "unless: {causes: [rumour]}",
     "ask_neurologist.2.unless.causes: unknown id 'rumour'"),
    ("report.yaml", "    self: The person themselves\n", "", "report.respondent: missing 'self'"),
    ("report.yaml", "  title: Dystonia triage report\n", "  title: Dystonia triage report\n  colour: red\n",
     "report.colour: Extra inputs are not permitted"),
    ("fhir.yaml", "status: active", "status: final", "fhir.yaml: fhir.status"),
    ("fhir.yaml", "base: http://dystonia-triage.invalid/fhir", "base: not a url", "fhir.yaml: fhir.base"),
])
def test_broken_report_data_fails_naming_file_and_key(kb_copy, file, old, new, message):
    edit(kb_copy / file, old, new)
    with pytest.raises(KnowledgeError) as info:
        knowledge.load(kb_copy)
    assert message in str(info.value)


def test_why_skips_only_layers_that_exist():
    layers = {layer.name for layer in rulebook.default().layers}
    assert set(KB.report.why_skip_layers) <= layers


def test_the_fingerprint_changes_with_the_content(tmp_path, monkeypatch):
    from triage import paths

    before = knowledge._fingerprint()
    copy = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", copy)
    edit(copy / "text.yaml", "Please see one.", "Please see one soon.")
    monkeypatch.setattr(knowledge, "knowledge_dir", lambda: copy)
    knowledge._fingerprint.cache_clear()
    try:
        assert knowledge.fingerprint() != before
    finally:
        knowledge._fingerprint.cache_clear()
    assert paths.knowledge_dir() == ROOT / "knowledge"


ICD, HPO, SNOMED = "http://hl7.org/fhir/sid/icd-10-cm", "http://human-phenotype-ontology.org", "http://snomed.info/sct"


def test_results_carry_their_codes_with_canonical_systems_and_titles():
    case = {"version": 1, "age": 44, "onset_age": 40, "symptoms": ["eye_blinking", "tremor"],
            "features": ["one_side_face", "urge_to_move"], "dopamine_blocker": "long_term"}
    r = run_cli("assess", "-", "--format", "json", input=json.dumps(case))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    found = [c for item in doc["candidates"] + doc["causes"] + doc["mimics"] for c in item["codes"]]
    assert {c["system"] for c in found} <= {ICD, HPO, SNOMED}
    titles = {ICD: KB.code_titles.icd10cm, HPO: KB.code_titles.hpo, SNOMED: KB.code_titles.snomed}
    for c in found:
        assert c["display"] == titles[c["system"]][c["code"]]
    assert {"tardive"} <= {c["id"] for c in doc["causes"]}
    tardive = next(c for c in doc["causes"] if c["id"] == "tardive")
    assert tardive["codes"] == [{"system": ICD, "code": "G24.09", "display": "Other drug induced dystonia"}]
    tics = next(m for m in doc["mimics"] if m["id"] == "tics")
    assert tics["codes"] == [{"system": ICD, "code": "F95.9", "display": "Tic disorder, unspecified"},
                             {"system": HPO, "code": "HP:0100033", "display": "Tics"}]


@pytest.mark.parametrize("t", KB.types, ids=lambda t: t.id)
def test_every_candidate_type_has_an_icd10cm_code_for_the_nurse_summary(t):
    assert t.codes.icd10cm and t.codes.icd10cm in KB.code_titles.icd10cm

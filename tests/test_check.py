"""``dystonia-triage check``: passes on the project's knowledge base and fails, naming the
problem, on a deliberately broken copy (one test per kind of problem)."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import ROOT, run_cli


def test_check_passes_on_the_knowledge_base():
    r = run_cli("check")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "FAIL" not in r.stdout
    assert "ok   every contract id is present" in r.stdout
    assert "ok   teaching cases reach every type, cause, mimic, care level, next step and red flag" in r.stdout


@pytest.fixture
def copy(tmp_path):
    """A copy of knowledge/ and rules/, and a function to edit one of its files."""
    shutil.copytree(ROOT / "knowledge", tmp_path / "knowledge")
    shutil.copytree(ROOT / "rules", tmp_path / "rules")

    def edit(rel: str, old: str, new: str) -> None:
        path = tmp_path / rel
        text = path.read_text()
        assert old in text, f"{old!r} not in {rel}"
        path.write_text(text.replace(old, new, 1))

    def check():
        return run_cli("check", "--knowledge", str(tmp_path / "knowledge"), "--rules", str(tmp_path / "rules"))

    edit.check = check
    edit.root = tmp_path
    return edit


def _fails_with(r, *messages):
    assert r.returncode == 1, r.stdout + r.stderr
    assert "FAIL" in r.stdout
    for m in messages:
        assert m in r.stdout


def test_the_unbroken_copy_passes(copy):
    r = copy.check()
    assert r.returncode == 0, r.stdout


def test_a_missing_contract_id(copy):
    # as if the knowledge base had dropped an id that outside callers rely on
    copy("knowledge/contract.yaml", "mimics: [hemifacial_spasm,", "mimics: [restless_legs, hemifacial_spasm,")
    _fails_with(copy.check(), "FAIL every contract id is present",
                "contract id mimics.restless_legs is missing from the knowledge base (mimics)")


def test_a_rule_citing_an_unknown_source(copy):
    copy("rules/50_distribution.yaml", "source: DUK-HEMI", "source: NO-SUCH-SOURCE")
    _fails_with(copy.check(), "FAIL rules load", "source 'NO-SUCH-SOURCE' is not a key of knowledge/sources.yaml")


def test_a_rule_input_that_cannot_be_asked(copy):
    copy("rules/facts.yaml", "from_case: course", "from_case: how_it_changes")
    _fails_with(copy.check(), "facts.course: comes from the case field 'how_it_changes', which a case cannot give")


def test_an_answer_that_no_rule_reads(copy):
    copy("knowledge/contract.yaml", "    course: Whether it is getting worse", "    # course: Whether")
    _fails_with(copy.check(), "case field 'course': no rule reads any of its answers")


def test_an_answer_value_that_no_rule_reads(copy):
    copy("knowledge/contract.yaml", "    features.worse_with_stress: >-", "    # features.worse_with_stress: >-")
    copy("knowledge/contract.yaml", "      Worse with stress is typical", "      # Worse")
    copy("knowledge/contract.yaml", "      conventions give it no weight", "      # conventions")
    _fails_with(copy.check(), "answer features.worse_with_stress: no rule reads it")


def test_a_recorded_only_answer_that_a_rule_reads(copy):
    copy("knowledge/contract.yaml", "  recorded_only:\n", "  recorded_only:\n    features.sensory_trick: said to be unused\n")
    _fails_with(copy.check(), "answer features.sensory_trick: listed as recorded only, but rule(s) essential_tremor, hallmark_raises_distribution_type read it")


def test_a_mimic_that_no_teaching_case_reaches(copy):
    (copy.root / "knowledge" / "cases" / "essential_tremor.yaml").unlink()
    _fails_with(copy.check(), "mimics: essential_tremor is reached by no teaching case")


def test_a_next_step_that_no_teaching_case_reaches(copy):
    for name in ("spasmodic_dysphonia", "breathing_difficulty"):
        (copy.root / "knowledge" / "cases" / f"{name}.yaml").unlink()
    _fails_with(copy.check(), "next_steps: laryngoscopy is reached by no teaching case",
                "types: focal.laryngeal is reached by no teaching case")


TRUNK = ("  focal.truncal:\n    - {option: physical_therapy, source: PMC3899473}\n"
         "    - {option: botulinum_toxin, source: GK}\n    - {option: anticholinergics, source: TERMSARASAB16}\n"
         "    - {option: baclofen, source: TERMSARASAB16}\n")


@pytest.mark.parametrize("file, old, new, messages", [
    ("knowledge/treatments.yaml", "  tics:\n    - {option: tic_behaviour_therapy, source: GK}\n", "",
     ["FAIL every candidate type and look-alike has treatments, each with a source",
      "treatments.yaml: treatments.tics: the look-alike 'tics' has no treatment entry"]),
    ("knowledge/treatments.yaml", TRUNK, "",
     ["treatments.yaml: treatments.focal.truncal: the candidate type 'focal.truncal' has no treatment entry"]),
    ("knowledge/treatments.yaml", "  focal.truncal:\n", "  focal.trunk_gone:\n",
     ["treatments.yaml: treatments.focal.trunk_gone: unknown type or look-alike"]),
    ("knowledge/treatments.yaml", "{option: speech_therapy, source: PMC3899473}",
     "{option: speech_therapy, source: NO-SUCH-SOURCE}",
     ["FAIL knowledge base loads", "treatments.yaml: treatments.focal.facial.2.source: unknown source 'NO-SUCH-SOURCE'"]),
    ("knowledge/clinics.yaml", "services: [movement_disorders]", "services: [acupuncture]",
     ["FAIL the clinic directory loads", "clinics.yaml: clinics.0.services: unknown service 'acupuncture'"]),
], ids=["look-alike without treatments", "type without treatments", "treatments for an unknown type",
        "unknown source", "unknown clinic service"])
def test_broken_treatments_or_clinic_directory(copy, file, old, new, messages):
    copy(file, old, new)
    _fails_with(copy.check(), *messages)


@pytest.mark.parametrize("old, new, message", [
    ('hpo: "HP:0032005"', 'hpo: "HP:32005"', "malformed id 'HP:32005'"),
    ("icd10cm: G24.1}", "icd10cm: G241}", "malformed code 'G241'"),
    ("icd10cm: G24.8, hpo: \"HP:0032005\"", "icd10cm: G24.8, snomed: \"12AB\", hpo: \"HP:0032005\"", "malformed id '12AB'"),
])
def test_a_malformed_code(copy, old, new, message):
    copy("knowledge/types.yaml", old, new)
    _fails_with(copy.check(), "FAIL knowledge base loads", message)


def test_a_broken_teaching_case(copy):
    copy("knowledge/cases/writers_cramp.yaml", "title:", "titel:")
    _fails_with(copy.check(), "FAIL teaching cases load", "writers_cramp.yaml")


def test_a_missing_contract_file(copy):
    (copy.root / "knowledge" / "contract.yaml").unlink()
    _fails_with(copy.check(), "FAIL contract file loads", "contract.yaml: missing")


def test_a_folder_that_does_not_exist_is_a_usage_error(tmp_path):
    r = run_cli("check", "--knowledge", str(tmp_path / "nope"))
    assert r.returncode == 2 and "not a folder" in r.stderr


def _drop_question(root, question_id: str) -> None:
    import yaml

    path = root / "knowledge" / "questions.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["questions"] = [q for q in doc["questions"] if q["id"] != question_id]
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def test_a_rule_input_that_no_question_asks(copy):
    _drop_question(copy.root, "one_side_face")
    _fails_with(copy.check(), "FAIL every question's answer is read and every rule input can be asked by a question",
                "rule hemifacial_spasm: reads feature that is one_side_face, which no question in questions.yaml can give")


def test_a_question_whose_answer_no_rule_reads(copy):
    copy("knowledge/contract.yaml", "    course: Whether it is getting worse", "    # course: Whether")
    _fails_with(copy.check(), "FAIL every question's answer is read",
                "questions.yaml: course: no rule reads any of its answers (course)")


def test_teaching_cases_are_checked_against_the_folders_own_vocabulary(copy):
    """check --knowledge DIR reads DIR's ids, not the installed ones: a teaching case that uses
    an answer id only DIR knows loads, and one that uses an id DIR dropped is refused."""
    copy("knowledge/case.yaml", "    - {id: unknown, label: \"Not sure\"}\n  course:",
         "    - {id: unknown, label: \"Not sure\"}\n    - {id: stepwise, label: \"In steps\"}\n  course:")
    copy("knowledge/report.yaml", "unknown: onset type NK}", "unknown: onset type NK, stepwise: stepwise onset}")
    copy("knowledge/cases/sudden_hand.yaml", "onset: sudden", "onset: stepwise")
    out = copy.check().stdout
    assert "ok   teaching cases load" in out, out
    copy("knowledge/cases/sudden_hand.yaml", "onset: stepwise", "onset: slowly")
    out = copy.check().stdout
    assert "FAIL teaching cases load" in out and "'stepwise'" in out, out


def test_a_question_asked_for_the_record_that_the_report_does_not_show(copy):
    """Where the shaking is, asked for the record, must be a topic of the report; without it
    check fails and names the field."""
    copy("knowledge/report.yaml", "    tremor_sites: Where the shaking is\n", "")
    r = copy.check()
    assert r.returncode != 0
    assert "report.topics: missing 'tremor_sites'" in r.stdout

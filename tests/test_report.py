"""The reports people read: the appointment report (Markdown and HTML) and the nurse summary.

Golden files in tests/golden/ hold the Markdown and the summary of the cases in
tests/report_cases/ (and of one questionnaire answer set), with the date and versions fixed.
When a change to the knowledge base or the templates is meant, regenerate them with
``UPDATE_GOLDEN=1 ./dev test tests/test_report.py`` and read the diff before committing.
"""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser

import pytest

from tests.conftest import ROOT, run_cli
from triage import assess, report
from triage.fhir import asked_from_answers, case_from_answers
from triage.knowledge import worded
from triage.models import KB, Asked, Case

CASES = ROOT / "tests" / "report_cases"
GOLDEN = ROOT / "tests" / "golden"
META = report.Meta(date="2026-01-31", tool_version="9.9.9", kb_version="8.8.8", kb_fingerprint="0123456789ab")

# An answer set as the questionnaire keeps it: every red flag denied, symptoms ticked, details
# answered yes, no or not sure. Its report can list what was answered "no".
ANSWERS = {
    "red_flags": [], "respondent": "self", "age": 47, "onset_age": 45,
    "symptoms": ["neck_craning", "tremor"], "other_regions": [], "sensory_trick": "yes",
    "task_specific": "no", "alcohol_improves": "unsure", "onset": "gradual", "course": "stable",
    "dopamine_blocker": "none", "tremor_sites": ["head", "arms"], "family_history": "no", "history": [],
}


# Teaching cases (knowledge/cases/) with golden reports: one per kind of result.
TEACHING = ["blepharospasm_classic", "swallowing_after_haloperidol", "hemidystonia_after_stroke",
            "myoclonus_dystonia_teen", "tardive_dystonia", "tics_child", "nothing_recognised"]


def fixtures() -> dict[str, tuple[Case, Asked | None]]:
    import yaml

    out = {p.stem: (Case.model_validate_json(p.read_text()), None) for p in sorted(CASES.glob("*.json"))}
    out["answered_cervical"] = (case_from_answers(ANSWERS), asked_from_answers(ANSWERS))
    for name in TEACHING:
        doc = yaml.safe_load((ROOT / "knowledge" / "cases" / f"{name}.yaml").read_text())
        out[f"teaching_{name}"] = (Case.model_validate(doc["case"]), None)
    return out


FIXTURES = fixtures()


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing; run with UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from the golden file"


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_markdown_report_matches_the_golden_file(name):
    case, asked = FIXTURES[name]
    check_golden(f"{name}.md", report.markdown(assess(case), case, asked=asked, meta=META))


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_nurse_summary_matches_the_golden_file(name):
    case, asked = FIXTURES[name]
    check_golden(f"{name}.summary.txt", report.summary(assess(case), case, asked=asked, meta=META))


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_nurse_summary_is_short_and_coded(name):
    case, asked = FIXTURES[name]
    a = assess(case)
    text = report.summary(a, case, asked=asked, meta=META)
    lines = text.splitlines()
    assert len(lines) <= 15
    assert lines[0].startswith(KB.chart.title)
    for c in a.candidates:
        icd = next((x.code for x in c.codes if x.system == "http://hl7.org/fhir/sid/icd-10-cm"), None)
        if a.coding_note:  # a drug-induced cause is coded instead of the pattern (ICD-10-CM tabular)
            assert icd is None and f"{KB.chart.terms.types[c.type]} [{c.support}]" in text
            assert f"{KB.chart.coding}: {a.coding_note}" in text
        else:
            assert icd and f"{KB.chart.terms.types[c.type]} {icd} [{c.support}]" in text
    care = next(line for line in lines if line.startswith(KB.chart.care + ":"))
    assert KB.chart.terms.care_levels[a.care_level] in care
    for s in a.next_steps:
        assert KB.chart.terms.next_steps[s.id] in text


def test_summary_lists_what_the_questionnaire_heard_as_no_and_not_sure():
    case, asked = FIXTURES["answered_cervical"]
    text = report.summary(assess(case), case, asked=asked, meta=META)
    negatives = next(line for line in text.splitlines() if line.startswith(KB.chart.negatives))
    assert "no task-specific" in negatives and "no dopamine-blocker exposure" in negatives
    assert "no family history of dystonia" in negatives
    assert f"{KB.chart.unsure}: alcohol-responsive" in text
    assert f"{KB.chart.red_flags}: {KB.chart.all_denied}" in text


def test_a_bare_case_does_not_claim_negatives_it_does_not_know():
    case, _ = FIXTURES["tardive_writer"]
    text = report.summary(assess(case), case, meta=META)
    assert f"{KB.chart.negatives}: {KB.chart.none_known}" in text
    bleph, _ = FIXTURES["blepharospasm"]  # says "none" to the medicine question, nothing else
    assert KB.chart.absent_not_known in report.summary(assess(bleph), bleph, meta=META)
    assert f"{KB.chart.red_flags}: {KB.chart.none_reported}" in text
    md = report.markdown(assess(case), case, meta=META)
    assert " ".join(KB.report.absent_not_known.split()) in md


def test_the_markdown_report_asks_about_medicines_only_when_they_matter():
    medicine = "Could one of my medicines be causing this?"
    tardive, _ = FIXTURES["tardive_writer"]
    bleph, _ = FIXTURES["blepharospasm"]
    assert medicine in report.markdown(assess(tardive), tardive, meta=META)
    assert medicine not in report.markdown(assess(bleph), bleph, meta=META)


def test_every_neurologist_question_can_be_shown():
    """Each question in knowledge/report.yaml names ids the assessment can hold."""
    shown = set()
    for case, _asked in FIXTURES.values():
        shown |= set(report._questions(assess(case)))
    always = [q for q in KB.ask_neurologist if q.when is None]
    assert always and all(" ".join(worded(q.text, None).split()) in shown for q in always)


@pytest.mark.parametrize("respondent", ["clinician", "caregiver", "educator"])
def test_a_report_for_someone_else_never_speaks_of_the_patient_as_i_or_you(respondent):
    """A nurse's, a carer's or a teacher's report words the patient as "the patient", "they" or
    "the person in the case": no "I", "my" or "your" about the patient, in any question,
    action, step, cause or disclaimer."""
    from triage import render, teaching

    first_person = re.compile(r"\b(I|my|me)\b")
    second = re.compile(r"\b(you|your|yourself)\b", re.IGNORECASE)
    for tc in teaching.default():
        case = tc.case.model_copy(update={"respondent": respondent})
        a = assess(case)
        for fmt in ("text", "markdown", "summary"):
            out = render.render([a], [case], fmt, batch=False)
            assert not first_person.findall(out), (tc.id, fmt, first_person.findall(out))
            if respondent != "caregiver":  # a carer is "you"; the patient "the person you care for"
                lines = [ln for ln in out.splitlines() if second.search(ln)]
                assert not lines, (tc.id, fmt, lines)


def test_a_nurse_is_asked_to_arrange_the_steps_not_told_to_do_them_as_the_patient():
    """The steps a patient does themselves (see a neurologist, film the movements, keep a
    diary, bring the report) are worded for the nurse as what to arrange for the patient."""
    from triage import render, teaching

    patient_words = re.compile(r"\b(see a neurologist|Record a short video|Keep a diary|Write down|Bring this report)")
    seen = set()
    for tc in teaching.default():
        case = tc.case.model_copy(update={"respondent": "clinician"})
        a = assess(case)
        seen |= {s.id for s in a.next_steps}
        for fmt in ("text", "markdown", "html", "summary"):  # every report a nurse can print
            out = " ".join(render.render([a], [case], fmt, batch=False).split())
            assert not patient_words.findall(out), (tc.id, fmt, patient_words.findall(out))
    assert {"see_neurologist", "record_video", "symptom_diary", "medication_list"} <= seen


# --- the HTML page ---------------------------------------------------------------------------


class Page(HTMLParser):
    """Collects what an accessibility and print check needs from a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.headings: list[tuple[str, str]] = []
        self.ids: set[str] = set()
        self.tables: list[dict] = []
        self.external: list[str] = []
        self.tags: list[str] = []
        self.lang = None
        self.text: list[str] = []
        self._heading = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if tag == "html":
            self.lang = attrs.get("lang")
        if "id" in attrs:
            assert attrs["id"] not in self.ids, f"duplicate id {attrs['id']}"
            self.ids.add(attrs["id"])
        for key in ("src", "href"):
            if key in attrs:
                self.external.append(attrs[key])
        if tag in ("h1", "h2", "h3", "h4"):
            self._heading = [tag, ""]
        if tag == "table":
            self.tables.append({"th": 0, "scoped": 0, "td_rows": 0})
        if tag == "th" and self.tables:
            self.tables[-1]["th"] += 1
            self.tables[-1]["scoped"] += attrs.get("scope") in ("col", "row")
        if tag not in ("br", "meta", "link", "img", "input", "hr"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in ("br", "meta", "link", "img", "input", "hr"):
            return
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else None}>"
        self.stack.pop()
        if tag in ("h1", "h2", "h3", "h4") and self._heading:
            self.headings.append((self._heading[0], " ".join(self._heading[1].split())))
            self._heading = None

    def handle_data(self, data):
        if self._heading:
            self._heading[1] += data
        if "style" not in self.stack:
            self.text.append(data)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    assert not page.stack, f"unclosed elements: {page.stack}"
    return page


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_html_report_parses_and_holds_every_section(name):
    case, asked = FIXTURES[name]
    a = assess(case)
    html = report.html_report(a, case, asked=asked, meta=META)
    assert html.startswith("<!DOCTYPE html>")
    page = parse(html)
    w = KB.report
    assert page.lang == "en"
    assert [h for h in page.headings if h[0] == "h1"] == [("h1", w.title)]
    h2 = [t for tag, t in page.headings if tag == "h2"]
    expected = [w.care_heading, w.candidates_heading]
    expected += [w.causes_heading] if a.causes else []
    expected += [w.mimics_heading] if a.mimics else []
    expected += [w.after_emergency_heading if report.is_emergency(a) else w.next_steps_heading]
    expected += [KB.treatment_words.heading] if (a.candidates or a.mimics) and not report.is_emergency(a) else []
    expected += [w.answers_heading, w.ask_heading, w.notes_heading, w.disclaimer_heading]
    assert h2 == expected
    h3 = [t for tag, t in page.headings if tag == "h3"]
    for key in ("present", "absent", "unsure"):
        assert getattr(w, key) in h3
    for c in a.candidates:
        assert c.label in h3
    text = " ".join(" ".join(page.text).split())
    for needle in (META.date, META.tool_version, META.kb, a.care_label, " ".join(a.care_action.split()),
                   " ".join(a.disclaimer.split())):
        assert needle in text
    for s in a.next_steps:
        assert " ".join(report.step_text(s, report.is_emergency(a), case.respondent).split()) in text
    for q in report._questions(a, case.respondent):
        assert q in text
    # accessible tables: every table has header cells, each with a scope
    assert page.tables and all(t["th"] and t["th"] == t["scoped"] for t in page.tables)
    # self-contained: no scripts, no linked files, no external addresses
    assert "script" not in page.tags and "link" not in page.tags and "img" not in page.tags
    assert page.external == []
    assert "@media print" in html and "@page" in html


def test_html_report_states_the_emergency_in_words_not_colour():
    case, _ = FIXTURES["acute_reaction"]
    a = assess(case)
    html = report.html_report(a, case, meta=META)
    page = parse(html)
    text = " ".join(page.text)
    assert "EMERGENCY" in a.care_label and a.care_label in text
    # the first thing after the title is the care level and what to do
    assert text.index(a.care_label) < text.index(KB.report.candidates_heading)
    for f in a.red_flags:
        assert f.label in text


def test_html_escapes_what_it_shows():
    case, _ = FIXTURES["tardive_writer"]
    html = report.html_report(assess(case), case, meta=META)
    assert "Parkinson's" not in html or "&#39;" in html
    assert "<script" not in html


def test_a_batch_is_one_page_with_a_report_per_case():
    cases = [FIXTURES[n][0] for n in ("blepharospasm", "acute_reaction", "nothing")]
    html = report.html_reports([(assess(c), c, None) for c in cases], meta=META)
    page = parse(html)
    assert page.tags.count("html") == 1 and page.tags.count("main") == 1
    assert page.tags.count("article") == 3
    assert [t for tag, t in page.headings if tag == "h1"] == [KB.report.title] * 3


def test_report_meta_names_the_versions():
    from triage import __version__, knowledge

    meta = report.report_meta()
    assert meta.tool_version == __version__
    assert meta.kb_version == KB.about.version
    assert re.fullmatch(r"[0-9a-f]{12}", meta.kb_fingerprint) and meta.kb_fingerprint == knowledge.fingerprint()


# --- through the command line -----------------------------------------------------------------


@pytest.mark.parametrize("fmt, marker", [("html", "<!DOCTYPE html>"), ("markdown", f"# {KB.report.title}"),
                                         ("summary", KB.chart.title)])
def test_assess_writes_each_report_format(fmt, marker):
    r = run_cli("assess", str(CASES / "blepharospasm.json"), "--format", fmt)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(marker)
    assert KB.about.version in r.stdout


def test_assess_html_batch_is_a_single_document(tmp_path):
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([json.loads((CASES / n).read_text())
                                 for n in ("blepharospasm.json", "nothing.json")]))
    r = run_cli("assess", str(batch), "--format", "html")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("<!DOCTYPE html>") == 1 and r.stdout.count("<article") == 2


def test_the_chart_summary_says_why_an_emergency_without_a_warning_sign_is_one():
    """An acute drug reaction is an emergency with no warning sign ticked: the nurse's summary
    says why beside "Red flags: none reported", and the work-up is "after emergency care"."""
    from triage import teaching

    tc = teaching.by_id("acute_dystonic_reaction")
    a = assess(tc.case)
    assert not a.red_flags and report.is_emergency(a)
    lines = report.summary(a, tc.case, meta=META).splitlines()
    because = next(line for line in lines if line.startswith(KB.chart.because + ":"))
    assert "dopamine-blocking medicine" in because
    assert any(line.startswith(KB.chart.workup_after + ":") for line in lines)
    assert not any(line.startswith(KB.chart.workup + ":") for line in lines)
    routine = teaching.by_id("blepharospasm_classic")
    text = report.summary(assess(routine.case), routine.case, meta=META)
    assert KB.chart.because not in text and f"{KB.chart.workup}:" in text


def test_an_acute_drug_reaction_report_asks_nothing_about_long_term_treatment_or_spread():
    """An acute dystonic reaction is treated in the emergency department and usually passes:
    its questions for the neurologist are about the medicine and what to do next time."""
    from triage import teaching

    acute = teaching.by_id("acute_dystonic_reaction")
    asked = report._questions(assess(acute.case), acute.case.respondent)
    assert not any("spread" in q or "botulinum" in q for q in asked)
    assert any("medicines" in q for q in asked)
    focal = teaching.by_id("cervical_dystonia_trick")
    assert any("spread" in q for q in report._questions(assess(focal.case), focal.case.respondent))


def test_every_format_names_the_regions_taken_as_involved_also_those_that_change_no_pattern():
    # Ken's neck pulls too, beside a right arm and leg (hemidystonia): the neck changes no
    # pattern, but the result should say the rules took it as involved
    from triage.assessment import to_case
    from triage.models import KB

    case = {"version": 1, "age": 44, "symptoms": ["foot_cramping", "hand_difficulty", "neck_craning"],
            "regions": ["lower_limb_right", "upper_limb_right", "neck"]}
    a = assess(case)
    assert [c.type for c in a.candidates][0] == "hemidystonia" and "neck" in a.regions
    labels = [KB.by_id("regions")[r].label for r in a.regions]
    line = f"{KB.report.regions_taken} {'; '.join(labels)}."
    assert line in " ".join(report.text(a).split())
    assert line in " ".join(report.markdown(a, to_case(case)).split())
    assert labels[0] in report.html_report(a, to_case(case))

"""The find-a-specialist step in a real browser (Debian's Chromium, as tests/test_web_browser.py
drives it): without JavaScript, checked by axe-core, the chosen clinics in the report, and the
place typed in no saved answers, FHIR response, address or server log."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_web_browser import ARTIFACTS, BLEPHAROSPASM, PHONE, answer, browser, server, visit  # noqa: F401
from triage.models import KB

W = KB.specialist_words


def test_a_patient_without_javascript_finds_clinics_and_the_place_is_kept_nowhere(visit):
    v = visit("phone-specialist", viewport=PHONE, javascript=False)
    v.open()
    v.submit("Start the questions")
    answer(v, BLEPHAROSPASM, check=False)
    v.submit("These are right: show the result")
    assert v.title() == "The result"
    text = v.text()
    assert KB.treatment_words.heading in text and "Botulinum toxin injections" in text
    assert W.heading in text
    # a place that is not known: named, with the nearest matches, and the page still passes
    v.page.get_by_label(W.label, exact=True).fill("Grean Bay, WI")
    v.submit(W.button)
    assert "The town 'Grean Bay, WI' was not found" in v.text() and "Green Bay, WI" in v.text()
    v.check("specialist-not-found")
    v.page.get_by_label(W.label, exact=True).fill("54301")
    v.submit(W.button)
    assert v.title() == "The result"
    clinics = v.page.locator("ol.clinics li").all_inner_texts()
    assert clinics[0].startswith("Dystonia clinic (example), Green Bay, WI 54301: 0 miles (0 km)")
    assert len(clinics) == W.limit
    v.check("specialist-found")
    assert v.page.url.endswith("/step#specialist") and "54301" not in v.page.url  # the step, at the clinics
    assert "54301" not in v.page.locator("input[name=answers]").first.get_attribute("value")
    with v.page.expect_download() as got:
        v.page.get_by_role("button", name="Download the answers (JSON)").click()
    saved = Path(got.value.path()).read_text()
    assert "54301" not in saved and "Green Bay" not in saved and json.loads(saved)["symptoms"] == ["eye_blinking"]
    with v.page.expect_download() as got:
        v.page.get_by_role("button", name="Download the answers for a clinic system (FHIR)").click()
    fhir = Path(got.value.path()).read_text()
    assert "54301" not in fhir and "Green Bay" not in fhir
    with v.context.expect_page() as tab:  # the printable report: the chosen clinics
        v.page.get_by_role("button", name="Open the report to print (new tab)").click()
    report = tab.value
    report.wait_for_load_state()
    body = report.inner_text("body")
    assert W.heading in body and "Green Bay, WI 54301: 0 miles (0 km)" in body
    assert KB.treatment_words.heading in body
    assert "54301" not in report.url
    v.page = report
    v.check("report-with-clinics")
    log = (ARTIFACTS / "server.log").read_text()
    assert "54301" not in log and "Grean" not in log and "Green Bay" not in log


def test_an_emergency_result_offers_emergency_care_not_a_clinic(visit):
    v = visit("emergency-no-clinic")
    v.open()
    v.submit("Start the questions")
    v.tick("New trouble breathing, noisy breathing, or a throat that suddenly feels tight")
    v.next()
    v.submit("See the result now")
    text = v.text()
    assert "How urgent: EMERGENCY: call an ambulance now" in text
    assert W.heading not in text and KB.treatment_words.heading not in text
    assert v.page.get_by_label(W.label, exact=True).count() == 0
    v.check("emergency-result")

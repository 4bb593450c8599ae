"""The Questionnaire in a real third-party form filler: NLM's LHC-Forms (npm ``lforms``, which
./dev test installs into .venv/npm) in Debian's Chromium, driven by Playwright. Ticking an
emergency warning sign shows what to do now on the form; the response LHC-Forms exports
assesses exactly like the case it was filled from, for every teaching case.

The page and LHC-Forms' files are served by Playwright's request routing from the installed
package: nothing leaves the machine."""

from __future__ import annotations

import json
import mimetypes

import pytest

from tests.conftest import ROOT
from tests.test_web_browser import CHROMIUM, LAUNCH_ARGS, _need_chromium
from triage import assess, fhir, teaching
from triage.models import KB

LFORMS = ROOT / ".venv" / "npm" / "node_modules" / "lforms" / "dist" / "lforms"
ORIGIN = "http://127.0.0.1:9"  # never contacted: every request is answered by the route below
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>LHC-Forms</title>
<link href="/lf/webcomponent/styles.css" rel="stylesheet"></head><body><div id="form"></div>
<script src="/lf/webcomponent/assets/lib/zone.min.js"></script>
<script src="/lf/webcomponent/lhc-forms.js"></script>
<script src="/lf/fhir/R4/lformsFHIR.min.js"></script></body></html>"""
RED = next(q for q in KB.questions if q.fills == "red_flags")


def _serve(route) -> None:
    path = route.request.url[len(ORIGIN):]
    if path == "/":
        return route.fulfill(status=200, body=PAGE, content_type="text/html")
    f = LFORMS / path[len("/lf/"):].split("?")[0]
    if path.startswith("/lf/") and f.is_file() and LFORMS in f.resolve().parents:
        return route.fulfill(status=200, body=f.read_bytes(),
                             content_type=mimetypes.guess_type(str(f))[0] or "application/octet-stream")
    return route.fulfill(status=404, body="")


@pytest.fixture(scope="module")
def page():
    _need_chromium()
    if not (LFORMS / "webcomponent" / "lhc-forms.js").is_file():
        pytest.skip("LHC-Forms is not installed (./dev test installs lforms from npm into .venv/npm)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, timeout=60_000)
        try:
            pg = browser.new_page()
            pg.set_default_timeout(30_000)
            errors: list[str] = []
            pg.on("pageerror", lambda e: errors.append(str(e)))
            pg.route(f"{ORIGIN}/**", _serve)
            pg.goto(ORIGIN + "/")
            pg.wait_for_function("() => !!(window.LForms && LForms.Util && LForms.Util.addFormToPage)")
            yield pg
            assert not errors, errors
        finally:
            browser.close()


def render(page, questionnaire: dict, response: dict | None = None) -> None:
    page.evaluate("""([q, qr]) => {
        const form = qr ? LForms.Util.mergeFHIRDataIntoLForms(
            'QuestionnaireResponse', qr, LForms.Util.convertFHIRQuestionnaireToLForms(q, 'R4'), 'R4') : q;
        return LForms.Util.addFormToPage(form, 'form', {});
    }""", [questionnaire, response])
    page.wait_for_selector("lhc-item")


def exported(page) -> dict:
    return page.evaluate("() => LForms.Util.getFormFHIRData('QuestionnaireResponse', 'R4')")


@pytest.mark.parametrize("flag", [f for f in KB.red_flags if KB.by_id("care_levels")[f.care_level].emergency],
                         ids=lambda f: f.id)
def test_ticking_an_emergency_warning_sign_shows_what_to_do_now(page, flag):
    render(page, fhir.questionnaire())
    from triage.knowledge import worded

    action = " ".join(worded(KB.by_id("care_levels")[flag.care_level].action, None).split())
    on_form = page.locator("#form lhc-item").get_by_text(action)  # not LHC-Forms' screen-reader notices
    assert on_form.count() == 0
    page.locator("#form").get_by_text(flag.label, exact=True).click()
    assert on_form.first.is_visible()
    case, _asked = fhir.case_from_response(exported(page))
    assert case.red_flags == [flag.id]
    assert KB.by_id("care_levels")[assess(case).care_level].emergency


@pytest.mark.parametrize("e", KB.fhir.emergency_answers, ids=lambda e: e.rule)
def test_an_answer_that_makes_an_emergency_with_a_movement_shows_what_to_do_now(page, e):
    from triage import rulebook

    render(page, fhir.questionnaire())
    words = " ".join(rulebook.default().rule(e.rule).explain.split())
    on_form = page.locator("#form lhc-item").get_by_text(words)
    q, movement = KB.question(e.question), KB.question(e.with_).choices[0]
    page.locator("#form").get_by_text(q.choice(e.answer).label, exact=True).click()
    assert on_form.count() == 0  # not without a movement
    wording = " ".join(KB.question(e.with_).ask.for_(None).split())
    none = page.get_by_label(f"Checkbox {KB.question(e.with_).none} for {wording}")
    none.click()
    assert on_form.count() == 0  # nor with "none of these"
    none.click()  # untick it
    page.locator("#form").get_by_text(movement.label, exact=True).click()
    assert on_form.first.is_visible()
    case, _asked = fhir.case_from_response(exported(page))
    assert assess(case).care_level == e.care_level


def test_a_warning_sign_with_none_of_these_is_refused_naming_the_item_never_dropped(page):
    """LHC-Forms 40.1.3 does not apply questionnaire-optionExclusive: it exports both ticks.
    The tool then refuses the response, naming the item, rather than losing the sign."""
    render(page, fhir.questionnaire())
    page.locator("#form").get_by_text(KB.red_flags[0].label, exact=True).click()
    page.locator("lhc-item", has_text=" ".join(RED.ask.for_(None).split())).get_by_text(
        RED.none or "", exact=True).click()
    qr = exported(page)
    answers = {a["valueCoding"]["code"] for i in qr["item"][0]["item"] if i["linkId"] == RED.id for a in i["answer"]}
    if answers == {"none"}:
        return  # a later LHC-Forms that applies the extension: nothing to refuse
    assert answers == {KB.red_flags[0].id, "none"}
    with pytest.raises(fhir.ResponseError, match=r"\(red_flags\): 'none' cannot be given together"):
        fhir.case_from_response(qr)


def test_every_teaching_case_filled_in_lhc_forms_assesses_like_the_case(page):
    q = fhir.questionnaire()
    for tc in teaching.default():
        render(page, q, fhir.response_from_case(tc.case))
        qr = exported(page)
        case, _asked = fhir.case_from_response(json.loads(json.dumps(qr)), f"LHC-Forms {tc.id}")
        assert assess(case).model_dump(exclude={"trace"}) == assess(tc.case).model_dump(exclude={"trace"}), tc.id

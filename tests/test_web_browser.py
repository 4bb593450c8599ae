"""End to end in a real browser: Debian's Chromium driven by Playwright.

The server is the real command (``dystonia-triage serve``) in a subprocess on a free port of
127.0.0.1. Every page the paths visit is checked by axe-core (serious and critical violations
fail) and saved as a screenshot under ``test-artifacts/web/``.

``./dev test`` installs Chromium when it is missing (as root on Debian); elsewhere these tests
are skipped, saying why. Playwright's own browser download is never used.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.webhelp import trick_question
from triage.models import KB

ARTIFACTS = ROOT / "test-artifacts" / "web"
CHROMIUM = os.environ.get("TRIAGE_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"width": 320, "height": 640}
SECRET = "a secret for the browser tests only"  # the server's, so a test can sign answers it posts
DESKTOP = {"width": 1280, "height": 800}


def _need_chromium() -> None:
    if Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK):
        return
    reason = (f"no Chromium at {CHROMIUM}: ./dev test installs it as root on Debian "
              "(apt-get install chromium); set TRIAGE_CHROMIUM to use another")
    if os.environ.get("CI") and os.geteuid() == 0 and shutil.which("apt-get"):
        pytest.fail("CI is root on Debian, so Chromium should have been installed: " + reason)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """The real ``dystonia-triage serve`` on a free local port; stopped after the module."""
    _need_chromium()
    port = _free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "triage", "serve", "--port", str(port)],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env={**os.environ, "TRIAGE_SECRET": SECRET})
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the server did not start (see {log.name})")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, timeout=60_000)
        try:
            yield b
        finally:
            b.close()


class Visit:
    """One person's visit: a browser page, with a check of every page it shows."""

    def __init__(self, browser, server: str, name: str, *, viewport=DESKTOP, javascript=True, scale=1):
        # Without JavaScript: the page's own script is never delivered. (Turning JavaScript
        # off in the browser would also stop the accessibility checker, which is a script.)
        self.context = browser.new_context(viewport=viewport, device_scale_factor=scale, accept_downloads=True)
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.blocked: list[str] = []
        if not javascript:
            self.page.route("**/*.js", lambda route: (self.blocked.append(route.request.url), route.abort()))
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.server = server
        self.name = name
        self.shots = 0
        self.viewport = viewport

    def _console(self, m) -> None:
        if m.type != "error":
            return
        if self.blocked and "net::ERR_FAILED" in m.text:
            return  # the script this visit refused on purpose
        if m.location.get("url", "").split("#")[0].endswith("/step") and "status of 4" in m.text:
            return  # the page itself, sent again with a 4xx status because an answer was refused
        self.errors.append(f"{m.text} ({m.location.get('url')})")

    def open(self, path: str = "/") -> None:
        self.page.goto(self.server + path)

    def check(self, label: str) -> None:
        """Screenshot, accessibility check, no console errors, no sideways scrolling."""
        from axe_playwright_python.sync_playwright import Axe

        self.shots += 1
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{self.name}-{self.shots:02d}-{label}.png"), full_page=True)
        results = Axe().run(self.page)
        bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
        assert not bad, f"{label}: " + results.generate_report()
        assert not self.errors, f"{label}: console errors: {self.errors}"
        overflow = self.page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{label}: the page scrolls sideways by {overflow} px at {self.viewport['width']} px"

    def title(self) -> str:
        return self.page.title().removesuffix(" – Dystonia triage")

    def text(self) -> str:
        return self.page.inner_text("main")

    def tick(self, *labels: str) -> None:
        for label in labels:
            self.page.get_by_label(label, exact=True).check()

    def submit(self, button: str) -> None:
        """Press a button that sends the form, and wait for the next page."""
        with self.page.expect_navigation():
            self.page.get_by_role("button", name=button).click()

    def next(self) -> None:
        """The page's main button: "Next", or "Save and return to your answers"."""
        with self.page.expect_navigation():
            self.page.locator("button[name=go][value=next]").click()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser, server, request):
    visits = []

    def make(name: str, **kwargs) -> Visit:
        v = Visit(browser, server, name, **kwargs)
        visits.append(v)
        return v

    yield make
    for v in visits:
        v.close()


# What a person with blepharospasm answers, by the words on the screen (a number as text).
BLEPHAROSPASM = {
    "red_flags": ["None of these"], "respondent": ["I am answering about myself"], "age": "61",
    "onset_age": "58", "symptoms": ["Blinking that cannot be controlled, eye twitching, or eyes squeezing shut"],
    "other_regions": ["No other part"], "sensory_trick": ["Yes"], "task_specific": ["No"],
    "better_after_sleep": ["No"], "alcohol_improves": ["No"], "one_side_face": ["No"],
    "urge_before": ["No"], "urge_to_move": ["No"], "worse_with_stress": ["No"],
    "onset": ["It came on slowly, over weeks or longer"], "family_history": ["No"], "tremor_sites": ["Not sure"],
    "course": ["It is getting worse or spreading"], "dopamine_blocker": ["No"], "history": ["None of these"],
    "details": ["Touching a spot (chin, face, back of the head) briefly eases the movement"],
}


def question_id(v: Visit):
    field = v.page.locator("input[name=q]")
    return field.get_attribute("value") if field.count() else None


def answer(v: Visit, story: dict, check: bool = True, until=None) -> list[str]:
    """Answer each question the page asks as ``story`` tells, up to the review (or the
    question ``until``); the ids of the questions asked."""
    asked = []
    for _ in range(40):
        qid = question_id(v)
        if qid is None or qid == until:
            return asked
        asked.append(qid)
        assert qid in story, f"the story has no answer to {qid!r} ({v.title()})"
        if check:
            v.check(qid)
        given = story[qid]
        if isinstance(given, str):
            v.page.get_by_label(v.page.locator("h1 label").inner_text()).fill(given)
        else:
            v.tick(*given)
        v.next()
    raise AssertionError("the questionnaire never ended")


def test_a_patient_on_a_phone_without_javascript_answers_and_gets_the_report(visit):
    v = visit("phone-blepharospasm", viewport=PHONE, javascript=False)
    v.open()
    assert "call emergency services now" in v.text()
    v.check("welcome")
    v.submit("Start the questions")
    asked = answer(v, BLEPHAROSPASM)
    assert asked[:2] == ["red_flags", "respondent"]  # warning signs first, then who answers
    assert v.title() == "Your answers"
    v.check("review")
    v.submit("These are right: show the result")
    assert v.title() == "The result"
    v.check("result")
    text = v.text()
    assert "How urgent: Book a neurologist" in text
    assert "What to do now: Book an appointment with a neurologist" in text
    assert "Blepharospasm (focal dystonia of the eyelids)" in text
    assert "A strong match: the answers may fit this pattern well." in text
    assert "Only a neurologist can diagnose dystonia" in text
    v.page.get_by_text("Why: how the rules reached this").click()
    assert v.page.get_by_text("A sensory trick or task specificity is a hallmark of dystonia").first.is_visible()
    with v.page.expect_download() as got:
        v.page.get_by_role("button", name="Download the answers (JSON)").click()
    case = json.loads(Path(got.value.path()).read_text())
    assert case["symptoms"] == ["eye_blinking"] and case["features"] == ["sensory_trick"] and case["age"] == 61
    with v.page.expect_download() as got:
        v.page.get_by_role("button", name="Download the answers for a clinic system (FHIR)").click()
    assert json.loads(Path(got.value.path()).read_text())["resourceType"] == "QuestionnaireResponse"
    with v.page.expect_download() as got:
        v.page.get_by_role("button", name="Download the report (HTML, to print or bring)").click()
    assert "Blepharospasm" in Path(got.value.path()).read_text()
    with v.context.expect_page() as tab:  # the printable report opens in a new tab
        v.page.get_by_role("button", name="Open the report to print (new tab)").click()
    report = tab.value
    report.wait_for_load_state()
    assert "Blepharospasm" in report.inner_text("body")
    v.page = report
    v.check("report")


def test_an_emergency_is_spelt_out_at_once_and_stays_on_every_page(visit):
    v = visit("desktop-emergency")
    v.open()
    v.submit("Start the questions")
    v.tick("New trouble breathing, noisy breathing, or a throat that suddenly feels tight")
    v.next()
    assert v.title() == "EMERGENCY: call an ambulance now"
    text = v.text()
    assert "Call emergency services (an ambulance) now" in text
    assert "New trouble breathing, noisy breathing, or a throat that suddenly feels tight" in text
    v.check("emergency")
    v.submit("Go on with the questions")
    assert v.title() == "Who is answering these questions?"
    assert "EMERGENCY: call an ambulance now" in v.page.inner_text("body")
    v.check("banner")
    v.submit("Back")
    assert v.page.get_by_label("New trouble breathing, noisy breathing, or a throat that suddenly feels tight").is_checked()
    v.tick("Suddenly cannot swallow, or choking")
    v.next()  # the same care level: the advice stays in the banner, no second interruption
    assert v.title() == "Who is answering these questions?"
    assert ("Why this is an emergency: New trouble breathing, noisy breathing, or a throat that suddenly feels tight; "
            "Suddenly cannot swallow, or choking.\n") in v.page.inner_text("body")  # the signs, one sentence
    v.submit("Back")
    v.page.get_by_label("New trouble breathing, noisy breathing, or a throat that suddenly feels tight").uncheck()
    v.page.get_by_label("Suddenly cannot swallow, or choking").uncheck()
    v.tick("Eyes forced upward or sideways and stuck there")
    v.next()
    assert v.title() == "Who is answering these questions?"
    assert "EMERGENCY: go to an emergency department now" in v.page.inner_text("body")
    v.tick("I am answering for someone I care for")
    v.next()
    assert v.title() == "How old is the person you care for?"
    v.submit("Back")
    v.submit("Back")
    v.tick("New trouble breathing, noisy breathing, or a throat that suddenly feels tight")
    v.next()  # more urgent than before: shown at once again
    assert v.title() == "EMERGENCY: call an ambulance now"
    v.submit("See the result now")
    assert "How urgent: EMERGENCY: call an ambulance now" in v.text()
    v.check("result")


def test_a_nurse_reviews_and_changes_an_answer(visit):
    v = visit("desktop-review")
    v.open()
    v.submit("Start the questions")
    from triage.knowledge import default

    answer(v, BLEPHAROSPASM, check=False)
    assert v.title() == "Your answers"
    qid, yes, no = trick_question()
    trick = default().question(qid).ask.for_("self")
    row = v.page.locator(".row", has_text=trick)
    before = row.locator("dd.value").inner_text()
    v.check("review")
    v.submit(f"Change the answer to: {trick}")
    assert v.title() == trick
    assert v.page.locator(f"input[value={yes}]").is_checked()  # the answer given is offered again
    v.page.locator(f"input[value={yes}]").set_checked(False) if qid == "details" else None
    v.page.locator(f"input[value={no}]").check()
    v.submit("Save and return to your answers")
    answer(v, BLEPHAROSPASM, check=False)  # what matters now that the trick is gone
    assert v.title() == "Your answers"
    assert row.locator("dd.value").inner_text() != before
    v.check("changed")
    v.submit("These are right: show the result")
    assert "A moderate match: the answers may fit this pattern." in v.text()


def tab_to(v: Visit, expression: str, wanted: str, limit: int = 40) -> None:
    """Press Tab until ``expression`` (about the focused element) gives ``wanted``."""
    for _ in range(limit):
        v.page.keyboard.press("Tab")
        if v.page.evaluate(expression) == wanted:
            return
    raise AssertionError(f"Tab never reached {wanted!r}")


def test_keyboard_only_with_a_visible_focus_and_clear_errors(visit):
    v = visit("keyboard", viewport=PHONE)
    v.open()
    kb = v.page.keyboard
    kb.press("Tab")  # the skip link comes first
    assert v.page.evaluate("document.activeElement.textContent") == "Skip to the main content"
    tab_to(v, "document.activeElement.textContent.trim()", "Start the questions")
    focus = v.page.evaluate("(() => { const s = getComputedStyle(document.activeElement);"
                            " return [s.outlineStyle, s.outlineWidth, s.backgroundColor]; })()")
    assert focus[0] != "none" and focus[1] == "3px", focus
    v.check("focus")
    with v.page.expect_navigation():
        kb.press("Enter")
    assert v.title().startswith("Is any of these new, or suddenly much worse")
    tab_to(v, "document.activeElement.value", "none")  # "None of these", ticked with the space bar
    kb.press("Space")
    kb.press("Tab")  # "Why are you asking this?" opens with Enter, and says why
    assert v.page.evaluate("document.activeElement.textContent.trim()") == "Why are you asking this?"
    kb.press("Enter")
    assert v.page.locator("details.why-asked li").first.is_visible()
    tab_to(v, "document.activeElement.textContent.trim()", "Next")
    with v.page.expect_navigation():
        kb.press("Enter")
    assert v.title() == "Who is answering these questions?"
    # no answer chosen: the same question again, the problem in words, focus on the summary
    tab_to(v, "document.activeElement.textContent.trim()", "Next")
    with v.page.expect_navigation():
        kb.press("Enter")
    assert v.title() == "Error: Who is answering these questions?"
    assert "There is a problem" in v.text() and "Choose one of the answers shown." in v.text()
    assert v.page.evaluate("document.activeElement.className") == "error-summary"
    v.check("error")


def post_answers(v: Visit, answers: dict, go: str) -> None:
    """Go straight to a page, as the form would post it with these answers (signed as the
    server signs them)."""
    from triage.web import state

    v.open()
    with v.page.expect_navigation():
        v.page.evaluate("""([answers, go]) => {
            const form = document.querySelector("form");
            form.querySelector("input[name=answers]").value = answers;
            form.querySelector("button[name=go]").value = go;
            form.querySelector("button[name=go]").click();
        }""", [state.sign(json.dumps(answers), SECRET.encode()), go])


def test_the_result_reflows_at_200_percent_zoom(visit):
    # 200% zoom of a 1280 px wide window lays the page out in 640 CSS pixels at scale 2.
    v = visit("zoom200", viewport={"width": 640, "height": 400}, scale=2)
    post_answers(v, {"red_flags": ["eyes_stuck_upward"], "respondent": "caregiver", "age": 9, "onset_age": 8,
                     "symptoms": ["neck_craning", "hand_difficulty"], "hand_side": "right"}, "result")
    assert v.title() == "The result"
    assert "How urgent: EMERGENCY: go to an emergency department now" in v.text()
    v.check("result")
    # a nurse's result carries the chart summary: its long lines wrap, nothing scrolls sideways
    post_answers(v, {"red_flags": [], "respondent": "clinician", "age": 45, "onset_age": 40,
                     "symptoms": ["neck_craning"], "sensory_trick": "yes", "family_history": "no"}, "result")
    assert KB.interview.chart_title in v.text() and KB.chart.title in v.text()
    v.check("clinician-result")
    post_answers(v, {"red_flags": [], "respondent": "clinician", "age": 9}, "review")
    v.check("question")


def test_a_tampered_page_is_refused_in_words(visit):
    v = visit("tampered")
    v.open()
    v.submit("Start the questions")
    v.page.evaluate("document.querySelector('input[name=answers]').value = '{\"age\": 500}'")
    v.tick("None of these")
    v.next()
    assert v.title() == "Error: the answers could not be read"
    assert "not signed by this server" in v.text()
    assert "call emergency services now" in v.text()
    v.check("refused")


def test_back_and_forward_show_the_pages_again_without_a_resubmission_warning(visit):
    """Every page is the answer to a POST; the browser keeps its own copy (private, no-cache),
    so Back and Forward show it again instead of "Confirm Form Resubmission" (ERR_CACHE_MISS)."""
    v = visit("back-forward")
    v.open()
    v.submit("Start the questions")
    first = v.title()
    v.tick("None of these")
    v.next()
    second = v.title()
    v.tick("I am answering about myself")
    v.next()
    third = v.title()
    assert len({first, second, third}) == 3
    v.page.go_back()
    assert v.title() == second
    v.page.go_back()
    assert v.title() == first
    v.page.go_forward()
    assert v.title() == second
    assert v.page.get_by_label("I am answering about myself").is_checked()
    v.page.go_forward()
    assert v.title() == third
    v.check("after-back-and-forward")
    # and the answers never appear in an address
    assert v.page.url.endswith("/step")

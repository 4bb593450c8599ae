"""The web app through the framework's test client: the API, the pages, the form handling,
the security headers and the statelessness."""

from __future__ import annotations

import json
import os
import re

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ROOT, case, run_cli
from tests.webhelp import (BLEPHAROSPASM, answers_dict, answers_of, question_of, signed, text_of, title_of,
                           trick_question)
from triage import assess
from triage.models import KB, Case
from triage.web.app import create_app
from tests.test_privacy import debug_logs, no_network  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as c:
        yield c


def step(client, page: str, q: str, answer, go: str = "next", **extra):
    data = {"answers": answers_of(page), "q": q, "go": go, "answer": answer, **extra}
    return client.post("/step", data=data)


def walk(client, story: dict, until: str | None = None, **changes):
    """Answer the questions as ``story`` tells, from the first one to the review (or up to
    the question ``until``); the last page."""
    story = {**story, **changes}
    r = client.post("/step", data={"go": "start"})
    for _ in range(40):
        q = question_of(r.text)
        if q is None or q == until:
            return r
        assert q in story, f"the story has no answer to {q!r} ({title_of(r.text)})"
        r = step(client, r.text, q, story[q])
        assert r.status_code == 200, text_of(r.text)[:500]
    raise AssertionError("the questionnaire never ended")


def finish(client, r, story: dict):
    """From a question opened by a change on the review page, answer what the questionnaire
    now asks, back to the review."""
    for _ in range(20):
        q = question_of(r.text)
        if q is None:
            assert title_of(r.text) == "Your answers"
            return r
        r = step(client, r.text, q, story[q], then="review")
    raise AssertionError("never back to the review")


# --- the API -------------------------------------------------------------------------------

def test_api_assess_gives_the_library_assessment():
    example = json.loads((ROOT / "examples" / "blepharospasm.json").read_text())
    with TestClient(create_app()) as c:
        r = c.post("/api/assess", json=example)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == assess(example).model_dump(mode="json")


def test_api_assess_batch_keeps_the_order(client):
    r = client.post("/api/assess", json=[case(symptoms=["neck_craning"]), case(red_flags=["stroke_signs"])])
    assert r.status_code == 200
    assert [a["care_level"] for a in r.json()] == ["routine", "emergency_ambulance"]
    assert r.json()[0]["candidates"][0]["type"] == "focal.cervical"


@pytest.mark.parametrize("body, status, must_name", [
    ({"version": 1, "age": 130}, 422, ["age", "0 to 120"]),
    ({"version": 1, "symptoms": ["eye_blink"]}, 422, ["symptoms[0]", "'eye_blink'", "eye_blinking"]),
    ({"version": 1, "colour": "red"}, 422, ["colour", "unknown field"]),
    ({"version": 1, "age": 30, "onset_age": 40}, 422, ["onset_age"]),
    ({}, 422, ["version"]),
    ([], 422, ["empty"]),
    ("{not json", 400, ["not valid JSON"]),
])
def test_api_assess_refuses_a_bad_case_naming_the_field(client, body, status, must_name):
    content = body if isinstance(body, str) else json.dumps(body)
    r = client.post("/api/assess", content=content, headers={"content-type": "application/json"})
    assert r.status_code == status
    message = json.dumps(r.json())
    for word in must_name:
        assert word in message
    assert "Traceback" not in message


def test_api_refuses_a_huge_body(client):
    r = client.post("/api/assess", content=b"[" + b" " * 1_100_000 + b"]",
                    headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_openapi_document_describes_the_api(client):
    doc = client.get("/api/openapi.json").json()
    assert doc["info"]["title"] == "dystonia-triage"
    assess_op = doc["paths"]["/api/assess"]["post"]
    schema = json.dumps(assess_op["requestBody"]["content"]["application/json"]["schema"])
    assert "#/components/schemas/Case" in schema
    assert "symptoms" in doc["components"]["schemas"]["Case"]["properties"]
    assert "Assessment" in doc["components"]["schemas"]
    assert "/step" not in doc["paths"]  # the pages are not API
    # no interactive docs: they would load scripts from another site
    assert client.get("/docs").status_code == 404


# --- privacy and security ------------------------------------------------------------------

PAGES = [("get", "/", None), ("post", "/step", {"go": "start"}), ("post", "/api/assess", None),
         ("get", "/static/style.css", None), ("get", "/nope", None)]


@pytest.mark.parametrize("method, url, data", PAGES)
def test_every_response_has_strict_security_headers_and_no_cookie(client, method, url, data):
    kwargs = {"json": {"version": 1}} if url == "/api/assess" else {"data": data} if data else {}
    r = getattr(client, method)(url, **kwargs)
    h = r.headers
    csp = h["content-security-policy"]
    for directive in ("default-src 'none'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"):
        assert directive in csp
    assert "http" not in csp  # no other site is allowed anything
    assert h["x-frame-options"] == "DENY"
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "same-origin"  # nothing to another site; Origin sent to this one
    assert "set-cookie" not in h
    assert "server" not in h
    if url == "/step":  # a page of answers: never in a shared cache; the browser's own copy
        assert h["cache-control"] == "private, no-cache"  # serves Back and Forward (README)
    elif not url.startswith("/static/"):
        assert h["cache-control"] == "no-store"  # answers are private


def test_pages_load_nothing_from_other_sites(client):
    pages = [client.get("/").text, walk(client, BLEPHAROSPASM).text]
    for page in pages:
        for ref in re.findall(r'(?:src|href|action)="([^"]*)"', page):
            assert ref.startswith(("/", "#", "tel:")), ref
        assert "<style" not in page and "style=" not in page and "onclick" not in page


def test_static_assets_are_served_locally(client):
    for path in ("/static/style.css", "/static/enhance.js"):
        assert client.get(path).status_code == 200


def test_answers_never_travel_in_an_address(client):
    r = client.get("/step", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert 'method="get"' not in walk(client, BLEPHAROSPASM).text.lower()


# --- the questionnaire ---------------------------------------------------------------------

def test_a_blepharospasm_path_ends_in_the_review_then_the_result(client):
    r = walk(client, BLEPHAROSPASM)
    assert title_of(r.text) == "Your answers"
    review = text_of(r.text)
    for words in ("How old are you? 61 years", "Which of these do you notice? Blinking that cannot be controlled"):
        assert words in review
    r = client.post("/step", data={"answers": answers_of(r.text), "go": "result"})
    page = text_of(r.text)
    assert "How urgent: Book a neurologist" in page
    assert "Blepharospasm (focal dystonia of the eyelids)" in page
    assert "A strong match: the answers may fit this pattern well." in page
    assert "Why: how the rules reached this" in page
    assert "A sensory trick or task specificity is a hallmark of dystonia" in page  # the rule's why
    assert "Only a neurologist can diagnose dystonia" in page
    assert f"{KB.report.regions_taken} {KB.by_id('regions')['eyes'].label}." in page
    assert "you have" not in page.lower()


@pytest.mark.parametrize("respondent, shown", [("self", False), ("caregiver", False), ("clinician", True), ("educator", True)])
def test_rule_ids_and_source_keys_are_for_clinicians_and_educators(client, respondent, shown):
    # a patient reads why in words; the rule ids and source keys are for those who look them up
    r = walk(client, BLEPHAROSPASM, respondent=[respondent])
    r = client.post("/step", data={"answers": answers_of(r.text), "go": "result"})
    candidates = r.text.split('class="candidates"', 1)[1].split("</ol>\n  {% else %}", 1)[0]
    assert "A sensory trick or task specificity is a hallmark of dystonia" in text_of(r.text)
    assert ("(rule <code>" in candidates) is shown
    assert ("source ALB13" in candidates) is shown
    assert ("Every rule that fired, in order" in r.text) is shown  # the whole trace, for them too


@pytest.mark.parametrize("respondent", ["self", "caregiver", "clinician"])
def test_a_nurse_gets_the_chart_summary_on_the_result_page(client, tmp_path, respondent):
    # a nurse copies one block into the record (or downloads it); it is the block
    # `assess --format summary` gives for the answers downloaded for a clinic system
    import html as html_mod

    r = walk(client, BLEPHAROSPASM, respondent=[respondent])
    answers = {"answers": answers_of(r.text)}
    r = client.post("/step", data={**answers, "go": "result"})
    found = re.search(r'<pre class="chart"[^>]*>(.*?)</pre>', r.text, re.S)
    if respondent != "clinician":  # a patient or a carer has the report to bring
        assert found is None and "/download/summary.txt" not in r.text
        return
    block = html_mod.unescape(found.group(1))
    assert KB.interview.chart_title in text_of(r.text)
    assert block.startswith(KB.chart.title) and "Pertinent negatives: " in block
    got = client.post("/download/summary.txt", data=answers)
    assert got.headers["content-type"].startswith("text/plain")
    assert got.headers["content-disposition"] == 'attachment; filename="dystonia-triage-summary.txt"'
    assert got.text == block
    response = tmp_path / "response.fhir.json"
    response.write_bytes(client.post("/download/response.fhir.json", data=answers).content)
    cli = run_cli("assess", str(response), "--format", "summary")
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout == block


def test_the_downloads_carry_the_case_the_answers_make(client):
    from triage import fhir

    r = walk(client, BLEPHAROSPASM)
    answers = {"answers": answers_of(r.text)}
    got = client.post("/download/case.json", data=answers)
    assert got.headers["content-disposition"] == 'attachment; filename="dystonia-triage-case.json"'
    doc = got.json()
    assert {"version": 1, "respondent": "self", "age": 61, "onset_age": 58, "symptoms": ["eye_blinking"],
            "features": ["sensory_trick"]}.items() <= doc.items()
    result = text_of(client.post("/step", data={**answers, "go": "result"}).text)
    a = assess(doc)  # the page shows what the library says of that case
    assert f"How urgent: {a.care_label}" in result
    for c in a.candidates:
        assert c.label in result
    # the FHIR QuestionnaireResponse reads back as the same case
    got = client.post("/download/response.fhir.json", data=answers)
    assert got.headers["content-disposition"] == 'attachment; filename="dystonia-triage-answers.fhir.json"'
    response = got.json()
    assert response["resourceType"] == "QuestionnaireResponse"
    case, _asked = fhir.case_from_response(response)
    assert case == Case.model_validate(doc)


@pytest.mark.parametrize("url", ["/report", "/download/report.html"])
def test_the_appointment_report_is_the_reports_own_page(client, url):
    r = walk(client, BLEPHAROSPASM)
    got = client.post(url, data={"answers": answers_of(r.text)})
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/html")
    if url.startswith("/download/"):
        assert got.headers["content-disposition"] == 'attachment; filename="dystonia-triage-report.html"'
    else:
        assert "content-disposition" not in got.headers  # shown, to print
    page = text_of(got.text)
    for words in ("Blepharospasm", "Book a neurologist", "Only a neurologist can diagnose dystonia"):
        assert words in page
    assert "<script" not in got.text
    csp = got.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "style-src 'unsafe-inline'" in csp and "script-src" not in csp


def test_the_fhir_questionnaire_covers_every_question(client):
    from triage.knowledge import default

    r = client.get("/api/questionnaire")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/fhir+json")
    doc = r.json()
    assert doc["resourceType"] == "Questionnaire"

    def link_ids(items):
        for item in items:
            yield item["linkId"]
            yield from link_ids(item.get("item", []))

    assert {q.id for q in default().questions} <= set(link_ids(doc["item"]))
    assert "/api/questionnaire" in client.get("/api/openapi.json").json()["paths"]


def test_a_red_flag_shows_the_emergency_advice_at_once(client):
    r = client.post("/step", data={"go": "start"})
    r = step(client, r.text, "red_flags", ["breathing_difficulty"])
    page = text_of(r.text)
    assert title_of(r.text) == "EMERGENCY: call an ambulance now"
    assert "Call emergency services (an ambulance) now" in page
    assert "New trouble breathing" in page
    # on with the questions: the advice stays on every page, in words
    r = step(client, r.text, "red_flags", [], go="continue")
    assert title_of(r.text) == "Who is answering these questions?"
    assert "EMERGENCY: call an ambulance now" in text_of(r.text)
    r = client.post("/step", data={"answers": answers_of(r.text), "go": "result"})
    assert "How urgent: EMERGENCY: call an ambulance now" in text_of(r.text)
    assert "Not every question was answered" in text_of(r.text)


def test_audience_wording_follows_who_is_answering(client):
    r = walk(client, BLEPHAROSPASM, until="age", respondent=["caregiver"])
    assert title_of(r.text) == "How old is the person you care for?"
    r = walk(client, BLEPHAROSPASM, until="age", respondent=["clinician"])
    assert title_of(r.text) == "How old is the patient?"


def test_back_goes_to_the_previous_question_with_its_answer(client):
    r = walk(client, BLEPHAROSPASM, until="onset_age")
    assert title_of(r.text) == "How old were you when the movements began?"
    last = list(answers_dict(r.text))[-1]  # the answer given just before
    r = step(client, r.text, "onset_age", [], go="back")
    assert question_of(r.text) == last
    for value in BLEPHAROSPASM[last]:
        assert re.search(rf'value="{value}"(\s+checked)?', r.text)
    r = walk(client, BLEPHAROSPASM, until="respondent")
    r = step(client, r.text, "respondent", ["self"])
    r = step(client, r.text, "age", [], go="back")
    assert question_of(r.text) == "respondent" and re.search(r'value="self"\s+checked', r.text)


def test_back_to_the_start_page_keeps_the_answers(client):
    r = walk(client, BLEPHAROSPASM, until="respondent")
    r = step(client, r.text, "respondent", [], go="back")
    r = step(client, r.text, "red_flags", [], go="back")
    assert "Start the questions" in r.text
    r = client.post("/step", data={"answers": answers_of(r.text), "go": "start"})
    assert question_of(r.text) == "red_flags" and re.search(r'value="none"\s+checked', r.text)


def test_change_from_the_review_returns_to_the_review(client):
    qid, yes, no = trick_question()
    r = walk(client, BLEPHAROSPASM)
    r = client.post("/step", data={"answers": answers_of(r.text), "go": f"change:{qid}"})
    assert question_of(r.text) == qid
    assert re.search(rf'value="{yes}"\s+checked', r.text)  # the answer given is offered again
    r = step(client, r.text, qid, [no], then="review")
    r = finish(client, r, BLEPHAROSPASM)  # questions that matter now that the trick is gone
    assert title_of(r.text) == "Your answers"
    r = client.post("/step", data={"answers": answers_of(r.text), "go": "result"})
    assert "A moderate match: the answers may fit this pattern." in text_of(r.text)


def test_changing_an_answer_can_open_new_questions(client):
    r = walk(client, BLEPHAROSPASM)
    r = client.post("/step", data={"answers": answers_of(r.text), "go": "change:symptoms"})
    r = step(client, r.text, "symptoms", ["hand_difficulty", "foot_cramping"], then="review")
    # an arm and a leg: which side now matters (one side is hemidystonia), so it is asked
    # before going back to the review
    assert question_of(r.text) == "hand_side"
    r = finish(client, r, {**BLEPHAROSPASM, "hand_side": ["left"], "foot_side": ["left"]})
    assert "Which hand or arm is affected? The left" in text_of(r.text)
    r = client.post("/step", data={"answers": answers_of(r.text), "go": "result"})
    assert "Hemidystonia" in text_of(r.text)


@pytest.mark.parametrize("q, answer, message", [
    ("age", ["abc"], "a whole number from 0 to 120"),
    ("age", ["121"], "a whole number from 0 to 120"),
    ("age", ["-3"], "a whole number from 0 to 120"),
    ("age", ["²"], "a whole number from 0 to 120"),
    ("age", ["①"], "a whole number from 0 to 120"),
    ("age", ["9" * 4300], "a whole number from 0 to 120"),
    ("onset_age", ["70"], 'cannot be more than the answer to “Age” (61)'),
    ("red_flags", [], 'Tick at least one answer, or "None of these"'),
    ("red_flags", ["none", "stroke_signs"], '"None of these" cannot be ticked together'),
    ("respondent", [], "Choose one of the answers"),
    ("respondent", ["robot"], "Choose one of the answers"),
    ("sensory_trick", ["maybe"], "Choose one of the answers"),
])
def test_a_bad_answer_is_asked_again_with_a_clear_message(client, q, answer, message):
    r = walk(client, BLEPHAROSPASM, until=q)
    r = step(client, r.text, q, answer)
    assert r.status_code == 422
    assert title_of(r.text).startswith("Error: ")
    assert f'name="q" value="{q}"' in r.text
    assert "There is a problem" in text_of(r.text) and message in text_of(r.text)
    assert re.search(r'aria-describedby="[^"]*\berror\b', r.text)  # the message is read with the field


@pytest.mark.parametrize("answers, names", [
    ('{"age": 500}', "answers.age: Please type a whole number from 0 to 120"),
    ('{"symptoms": ["laser_eyes"]}', "answers.symptoms: Not an answer to this question; the answers are: foot_cramping"),
    ('{"favourite": "x"}', "answers.favourite"),
    ('{"age": 30, "onset_age": 40}', "onset_age"),
    ('[1, 2]', "answers"),
    ("not json", "answers"),
    ('{"age": "' + "9" * 9000 + '"}', "too long"),
])
def test_tampered_answers_are_refused_and_nothing_is_assessed(client, answers, names):
    # even signed (a server's own bug, or a leaked secret), impossible answers never reach the rules
    r = client.post("/step", data={"answers": signed(answers), "go": "result"})
    assert r.status_code == 400
    assert names in text_of(r.text)
    assert "How urgent" not in text_of(r.text)


def test_stateless_the_same_request_gives_the_same_page(client):
    r = walk(client, BLEPHAROSPASM)
    data = {"answers": answers_of(r.text), "go": "result"}
    first = client.post("/step", data=data).text
    with TestClient(create_app()) as other:  # another worker, no shared state
        assert other.post("/step", data=data).text == first


# --- the command ---------------------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--port", "70000"], "--port"),
    (["--workers", "0"], "--workers"),
    (["--host", "203.0.113.999"], "--host"),
])
def test_serve_refuses_bad_options(args, message):
    r = run_cli("serve", *args)
    assert r.returncode == 2
    assert message in r.stderr and "Traceback" not in r.stderr


def _serve(*args):
    """Start ``dystonia-triage serve``; its process and the address it printed."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "triage", "serve", *args], cwd=ROOT, text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    line = proc.stderr.readline()
    m = re.search(r"serving on (http://127\.0\.0\.1:(\d+)/)", line)
    if not m:
        proc.kill()
        raise AssertionError(f"no address printed: {line!r}")
    return proc, m.group(1)


def _get(url: str, deadline: float = 30.0) -> bytes:
    import time
    import urllib.request

    end = time.monotonic() + deadline
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return r.read()
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


@pytest.mark.parametrize("args", [[], ["--workers", "2"]])
def test_serve_listens_on_this_machine_only_on_a_free_port(args):
    proc, url = _serve(*args)
    try:
        assert json.loads(_get(url + "healthz")) == {"status": "ok"}
        assert b"Start the questions" in _get(url)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        with proc.stderr:
            assert "Traceback" not in proc.stderr.read()


def _workers(pid: int) -> set[int]:
    """The worker processes of a serve process (its children, but multiprocessing's helper)."""
    from pathlib import Path

    kids = {int(c) for t in Path(f"/proc/{pid}/task").iterdir() for c in (t / "children").read_text().split()}
    out = set()
    for k in kids:
        try:
            if b"multiprocessing.spawn" in Path(f"/proc/{k}/cmdline").read_bytes():
                out.add(k)
        except OSError:  # just ended
            pass
    return out


def test_two_workers_share_the_connections_and_a_dead_worker_is_replaced():
    # each worker listens on a socket of its own (SO_REUSEPORT), so connections opened together
    # spread over the workers instead of all going to the one that woke first
    import http.client
    import signal
    import time
    import urllib.parse

    proc, url = _serve("--workers", "2")
    connections: list = []
    try:
        _get(url + "healthz")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not (len(_workers(proc.pid)) == 2 and
                                                   all(_connected(w, None) for w in _workers(proc.pid))):
            time.sleep(0.2)  # until both workers have started and listen
        workers = _workers(proc.pid)
        assert len(workers) == 2
        where = urllib.parse.urlsplit(url)
        connections = [http.client.HTTPConnection(where.hostname, where.port, timeout=10) for _ in range(24)]
        served: set[int] = set()
        for c in connections:  # all open at once, then each asks which worker it reached
            c.connect()
        for c in connections:
            c.request("GET", "/healthz")
            r = c.getresponse()
            r.read()
            assert r.status == 200
            served.add(c.sock.getsockname()[1])
        assert len(served) == 24
        # the kernel hashes each connection to one of the two sockets: with 24 connections,
        # both workers get some (all on one would happen about once in eight million runs)
        busy = {w for w in workers if any(_connected(w, port) for port in served)}
        assert busy == workers
        for c in connections:
            c.close()
        victim = sorted(workers)[0]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (victim in _workers(proc.pid) or len(_workers(proc.pid)) < 2):
            time.sleep(0.2)
        assert victim not in _workers(proc.pid) and len(_workers(proc.pid)) == 2
        for _ in range(8):  # every request is answered, whichever socket it reaches
            assert json.loads(_get(url + "healthz")) == {"status": "ok"}
    finally:
        for c in connections:
            c.close()
        proc.terminate()
        proc.wait(timeout=30)
        with proc.stderr:
            assert "Traceback" not in proc.stderr.read()


def _connected(pid: int, client_port) -> bool:
    """Whether process ``pid`` holds the server end of the connection from ``client_port``
    (None: whether it holds a listening socket)."""
    from pathlib import Path

    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        remote_port = int(fields[2].split(":")[1], 16)
        wanted = fields[3] == "0A" if client_port is None else remote_port == client_port
        if wanted and fields[9] in inodes:
            return True
    return False


def test_a_huge_body_without_a_length_is_cut_off_too(client):
    chunks = (b"x" * 65536 for _ in range(20))  # sent chunked: no Content-Length to refuse up front
    r = client.post("/api/assess", content=chunks, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.headers["x-frame-options"] == "DENY"


def test_an_unknown_download_is_not_found(client):
    r = walk(client, BLEPHAROSPASM)
    assert client.post("/download/report.md", data={"answers": answers_of(r.text)}).status_code == 404


def test_a_whole_visit_uses_no_network_writes_nothing_and_logs_no_answer(no_network, debug_logs, tmp_path,
                                                                         monkeypatch):
    """The privacy checks of every command (tests/test_privacy.py), for a visit to the web
    page: every page, the result and every download, with the answers of the privacy case."""
    import tempfile

    from tests.test_privacy import ANSWERS, everything_under

    work, home, temp = tmp_path / "work", tmp_path / "home", tmp_path / "temp"
    for folder in (work, home, temp):
        folder.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    story = {**BLEPHAROSPASM, "red_flags": ["recent_head_injury"], "respondent": ["caregiver"], "age": ["47"],
             "onset_age": ["43"], "symptoms": ["neck_craning", "hand_difficulty"], "hand_side": ["left"],
             "dopamine_blocker": ["long_term"], "family_history": ["yes"], "history": ["none"]}
    with TestClient(create_app()) as c:
        r = c.post("/step", data={"go": "start"})
        for _ in range(40):
            q = question_of(r.text)
            if q is None:
                break
            go = "continue" if "Go on with the questions" in r.text else "next"  # the emergency page
            r = step(c, r.text, q, story[q], go=go)
            assert r.status_code == 200
        data = {"answers": answers_of(r.text)}
        assert c.post("/step", data={**data, "go": "result"}).status_code == 200
        assert c.post("/report", data=data).status_code == 200
        for name in ("report.html", "case.json", "response.fhir.json"):
            assert c.post(f"/download/{name}", data=data).status_code == 200
        assert c.post("/api/assess", json=assess_case(data)).status_code == 200
    assert no_network == []
    for folder in (work, home, temp):
        assert everything_under(folder) == [], f"the web app wrote {everything_under(folder)} in {folder.name}"
    logged = "\n".join(debug_logs.lines)
    leaked = [a for a in ANSWERS if re.search(rf"\b{re.escape(a)}\b", logged)]
    assert not leaked, f"the web app logged answers {leaked}:\n{logged[:2000]}"


def assess_case(data: dict) -> dict:
    from tests.interview_keys import IV

    return IV.record.case(json.loads(data["answers"].partition(".")[2]))


def test_a_nurse_meeting_an_acute_reaction_is_told_to_arrange_emergency_care_not_to_get_safe(client):
    """The emergency page after a jaw locked a day after metoclopramide speaks to the nurse
    about the patient: the words for a clinician, not "when you are safe"."""
    story = {"red_flags": ["none"], "respondent": ["clinician"], "age": ["19"],
             "symptoms": ["jaw_tongue_movements"], "dopamine_blocker": ["recent"]}
    r = client.post("/step", data={"go": "start"})
    for _ in range(len(story)):
        r = step(client, r.text, question_of(r.text), story[question_of(r.text)])
        if title_of(r.text).startswith("EMERGENCY"):
            break
    page = text_of(r.text)
    assert title_of(r.text).startswith("EMERGENCY"), title_of(r.text)
    assert KB.interview.worded("emergency_after", "clinician").split()[0] in page
    assert " ".join(KB.interview.worded("emergency_after", "clinician").split()) in page
    assert "When you are safe" not in page


def test_every_connection_sends_its_response_at_once():
    # uvicorn's --workers binds the shared socket with proto 0, so asyncio leaves Nagle's
    # algorithm on and each kept-alive request waited ~40 ms for a delayed ACK: the protocol
    # turns TCP_NODELAY on for every connection, whatever socket it came from
    import socket

    from triage.web.server import no_delay

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # proto 0, as uvicorn binds it
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    client = socket.create_connection(listener.getsockname())
    accepted, _ = listener.accept()

    class Transport:
        def get_extra_info(self, name):
            return accepted if name == "socket" else None

    try:
        assert accepted.proto == 0 and not accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        no_delay(Transport())
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        for s in (client, accepted, listener):
            s.close()

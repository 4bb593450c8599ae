"""Hostile input and faults (issue 12): what an attacker, a flaky network or a busy clinic
would try, on the command line, the API, the web page and the files. Each test reproduced the
problem before its fix."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ROOT, run_cli
from tests.inprocess import run_main
from triage.web.app import create_app

DUPLICATE = '{"version": 1, "red_flags": ["breathing"], "red_flags": []}'
DEEP = "[" * 100_000 + "]" * 100_000
LONG_NUMBER = '{"version": 1, "age": ' + "9" * 5_000 + "}"


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as c:
        yield c


# --- input: duplicate keys, depth, number size ------------------------------------------------

def test_assess_refuses_a_duplicate_key_naming_it():
    out = run_main(["assess", "-"], DUPLICATE.encode())
    assert out.code == 2
    assert "red_flags" in out.err and "twice" in out.err
    assert out.out == "" and "Traceback" not in out.err


@pytest.mark.parametrize("text, says", [
    (DEEP, "nested too deeply"), (LONG_NUMBER, "more than 30 digits"),
    ('{"version": 1, "age": 1' + "0" * 4_300 + "}", "digits"),
])
def test_assess_refuses_deep_or_huge_input_with_a_message(text, says):
    out = run_main(["assess", "-"], text.encode())
    assert out.code == 2 and says in out.err and "Traceback" not in out.err


def test_api_refuses_a_duplicate_key_with_422_naming_it(client):
    r = client.post("/api/assess", content=DUPLICATE, headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert "red_flags" in r.json()["detail"] and "twice" in r.json()["detail"]


def test_api_refuses_json_nested_100000_deep_without_a_500(client):
    r = client.post("/api/assess", content=DEEP, headers={"content-type": "application/json"})
    assert r.status_code in (400, 422)
    assert "nested" in r.json()["detail"]


@pytest.mark.parametrize("body, status, says", [
    ("null", 422, "got null"), ("42", 422, "got a number"), ('"a case"', 422, "got a string"),
    ("[true]", 422, "case[0]: expected a JSON object with the case fields, got true"),
    (DUPLICATE, 422, "twice"), (DEEP, 422, "nested"), (LONG_NUMBER, 422, "digits"),
    ("{", 400, "not valid JSON"), ("", 400, "not valid JSON"),
])
def test_every_api_error_gives_its_lines_in_errors_in_json_words(client, body, status, says):
    r = client.post("/api/assess", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status
    errors = r.json()["errors"]
    assert errors and all(isinstance(e, str) for e in errors) and says in " ".join(errors)
    assert not re.search(r"\b(NoneType|int|float|bool|str|list|dict)\b", " ".join(errors)), errors  # JSON's words


def test_api_refuses_a_5000_digit_number(client):
    r = client.post("/api/assess", content=LONG_NUMBER, headers={"content-type": "application/json"})
    assert r.status_code == 422 and "digits" in r.json()["detail"]


@pytest.mark.parametrize("text, says", [(DEEP, "nested too deeply"), (LONG_NUMBER, "more than 30 digits"),
                                        (DUPLICATE, "twice")])
def test_resume_refuses_a_deep_huge_or_duplicated_file(tmp_path, text, says):
    bad = tmp_path / "answers.json"
    bad.write_text(text)
    result = run_cli("interview", "--plain", "--resume", str(bad), input="")
    assert result.returncode == 2, result.stderr
    assert says in result.stderr and "Traceback" not in result.stderr


def _saved_answers(tmp_path, version: str):
    from triage import fhir

    doc = fhir.in_progress_response({"red_flags": [], "respondent": "self"})
    doc["questionnaire"] = doc["questionnaire"].rsplit("|", 1)[0] + "|" + version
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(doc))
    return path


def fhir_version() -> str:
    from triage import fhir

    return fhir.questionnaire_version()


def test_resume_from_another_major_version_is_refused_with_the_reason(tmp_path):
    result = run_cli("interview", "--plain", "--resume", str(_saved_answers(tmp_path, "0.1.0")), input="")
    said = " ".join(result.stderr.split())
    assert result.returncode == 2 and "Traceback" not in result.stderr
    # both versions named, and what to do: answer the questions again
    assert "version 0.1.0" in said and f"version {fhir_version()}" in said and "questionnaire again" in said, said


def test_resume_from_another_version_is_refused_with_the_reason(tmp_path):
    """The questions or their answer codes may differ between versions, so answers saved by
    another version are refused, saying which versions, rather than misread."""
    from triage import fhir

    now = fhir.questionnaire_version()
    major = now.split(".")[0]
    result = run_cli("interview", "--plain", "--resume", str(_saved_answers(tmp_path, f"{major}.999.0")), input="q\n")
    said = " ".join(result.stderr.split())
    assert result.returncode == 2 and f"{major}.999.0" in said and now in said, said
    assert "Traceback" not in result.stderr


# --- saving never overwrites silently; Ctrl-C at any moment -----------------------------------

def _plain(tmp_path, lines, env=None):
    from tests.test_interview_cli import PLAIN_BLEPHAROSPASM  # noqa: F401 (the same story)

    return run_cli("interview", "--plain", input="\n".join(lines) + "\n", cwd=tmp_path,
                   env={"PYTHONPATH": str(ROOT), **(env or {})})


def _story():
    from tests.test_interview_cli import PLAIN_BLEPHAROSPASM

    return PLAIN_BLEPHAROSPASM.splitlines()


def test_plain_saving_onto_an_existing_report_picks_a_free_name_and_says_it(tmp_path):
    first_patient = tmp_path / "dystonia-triage-report.md"
    first_patient.write_text("the first patient's report\n")
    result = _plain(tmp_path, _story())
    assert result.returncode == 0, result.stderr
    assert first_patient.read_text() == "the first patient's report\n"
    second = tmp_path / "dystonia-triage-report-2.md"
    assert "Blepharospasm" in second.read_text()
    assert "already exists, so the file was saved as" in " ".join(result.stdout.split())
    assert str(second.name) in result.stdout


def test_plain_a_failed_save_can_be_declined_and_later_answers_never_become_file_names(tmp_path):
    lines = _story()
    # the case: into a folder that does not exist; then decline another name (Enter: No),
    # then the report's question is answered as usual
    name_at = len(lines) - 3  # the case's file name (then: save the report? and its name)
    lines[name_at] = str(tmp_path / "missing" / "case.json")
    result = _plain(tmp_path, lines[:name_at + 1] + ["", "2"])
    assert result.returncode == 0, result.stdout + result.stderr
    out = " ".join(result.stdout.split())
    assert "Could not save" in out and "Try another file name?" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # "2" did not become a file


def test_keys_saving_onto_an_existing_file_asks_and_offers_a_free_name(tmp_path):
    from tests.interview_keys import Keys, answer, drive
    from triage.terminal.interview import ANSWERS_FILE

    existing = tmp_path / ANSWERS_FILE
    existing.write_text("another patient\n")
    result = drive(answer("red_flags", []), Keys.CTRL_C,
                   Keys.ENTER,  # save? yes
                   Keys.ENTER,  # the file name offered (it exists)
                   Keys.ENTER,  # replace it? no (the default)
                   Keys.ENTER,  # the free name offered instead
                   folder=tmp_path)
    assert result.code == 130, result.out
    assert existing.read_text() == "another patient\n"
    assert json.loads((tmp_path / "dystonia-triage-answers-2.json").read_text())["status"] == "in-progress"


def test_keys_a_typed_file_name_replaces_the_one_offered(tmp_path):
    from tests.interview_keys import Keys, answer, drive

    mine = tmp_path / "mine.json"
    result = drive(answer("red_flags", []), Keys.CTRL_C, Keys.ENTER, str(mine) + Keys.ENTER, folder=tmp_path)
    assert result.code == 130, result.out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.json"]


def test_ctrl_c_while_the_rules_compute_offers_to_save(tmp_path, monkeypatch):
    from tests.interview_keys import IV, Keys, answer, drive
    from triage.errors import EngineError
    from triage.terminal.interview import ANSWERS_FILE

    real = IV.assessor.assessment
    calls = {"n": 0}

    def interrupted(case):
        calls["n"] += 1
        if calls["n"] == 2:  # as durable_rules gives back a KeyboardInterrupt raised in a rule
            try:
                raise KeyboardInterrupt()
            except KeyboardInterrupt as exc:
                raise EngineError(f"rule focal failed: {exc!r}") from exc
        return real(case)

    monkeypatch.setattr(IV.assessor, "assessment", interrupted)
    result = drive(answer("red_flags", []), answer("respondent", "self"), Keys.ENTER, Keys.ENTER, folder=tmp_path)
    assert result.code == 130, result.out
    assert "failed: KeyboardInterrupt" not in result.out
    assert (tmp_path / ANSWERS_FILE).exists()


def test_the_resume_hint_names_the_command_that_works_through_dev(tmp_path):
    lines = _story()
    result = _plain(tmp_path, lines[:4] + ["q", "", ""],
                    env={"TRIAGE_VIA_DEV": "./dev", "TRIAGE_CALLER_DIR": str(tmp_path)})
    assert result.returncode == 130
    assert "./dev run interview --resume dystonia-triage-answers.json" in result.stdout


def test_a_part_file_left_by_a_killed_save_is_removed_on_the_next_save(tmp_path):
    import os
    import time

    from triage.files import save_text

    target = tmp_path / "report.md"
    stale = tmp_path / ".report.md.abc123.part"
    stale.write_text("the whole report of a save that was killed")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    save_text(target, "new\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]


def test_api_caps_a_batch_and_says_so(client):
    r = client.post("/api/assess", json=[{"version": 1}] * 1_001)
    assert r.status_code == 413
    assert "1,000" in r.json()["detail"]
    assert "1,000" in client.get("/api/openapi.json").json()["paths"]["/api/assess"]["post"]["description"]
    assert client.post("/api/assess", json=[{"version": 1}] * 1_000).status_code == 200


# --- the web page: state that cannot be forged, cross-site posts, error pages ---------------------

def _walk(client, story, **changes):
    from tests.test_web import walk

    return walk(client, story, **changes)


def test_a_page_with_a_ticked_red_flag_removed_is_refused(client):
    from tests.webhelp import answers_of, text_of

    r = client.post("/step", data={"go": "start"})
    r = client.post("/step", data={"answers": answers_of(r.text), "q": "red_flags", "go": "next",
                                   "answer": ["breathing_difficulty"]})
    assert "EMERGENCY" in r.text
    carried = answers_of(r.text)
    forged = carried.replace('"red_flags":["breathing_difficulty"]', '"red_flags":[]')
    assert forged != carried
    r = client.post("/step", data={"answers": forged, "go": "result"})
    assert r.status_code == 400
    assert "not signed by this server" in text_of(r.text)
    assert "How urgent" not in text_of(r.text)


def test_a_duplicate_key_in_the_hidden_field_is_refused_naming_it(client):
    from tests.webhelp import signed, text_of

    r = client.post("/step", data={"answers": signed('{"red_flags":["breathing_difficulty"],"red_flags":[]}'), "go": "result"})
    assert r.status_code == 400
    assert "red_flags: the key is given twice" in text_of(r.text)


@pytest.mark.parametrize("headers", [{"origin": "https://evil.example"}, {"sec-fetch-site": "cross-site"},
                                     {"origin": "null"}, {"sec-fetch-site": "same-site"}])
@pytest.mark.parametrize("url", ["/step", "/report", "/download/case.json", "/api/assess"])
def test_cross_site_posts_are_refused(client, headers, url):
    r = client.post(url, data={"go": "start"}, headers=headers)
    assert r.status_code == 403
    assert r.headers["cache-control"] == "no-store" and r.headers["x-frame-options"] == "DENY"


def test_same_site_posts_and_programs_without_browser_headers_are_accepted(client):
    for headers in ({"origin": "http://testserver", "sec-fetch-site": "same-origin"}, {}):
        assert client.post("/step", data={"go": "start"}, headers=headers).status_code == 200


def _error_cases(client):
    from tests.webhelp import signed

    yield "404", client.get("/nope")
    yield "405", client.get("/report")
    yield "413", client.post("/step", content=b"answers=" + b"x" * 1_100_000,
                             headers={"content-type": "application/x-www-form-urlencoded"})
    yield "400", client.post("/step", data={"answers": signed("[1]"), "go": "result"})
    yield "404 api", client.get("/api/nope")
    yield "405 api", client.get("/api/assess")
    yield "422 api", client.post("/api/assess", json={"version": 1, "age": 500})


def test_every_error_is_a_page_with_the_headers_no_store_and_the_emergency_advice(client):
    for label, r in _error_cases(client):
        assert r.status_code >= 400, label
        assert r.headers["cache-control"] == "no-store", label
        for name in ("content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy"):
            assert name in r.headers, (label, name)
        if "api" in label:
            assert "call emergency services" in r.json()["emergency"], label
            assert "tel:911" in r.json()["call"]
        else:
            assert r.headers["content-type"].startswith("text/html"), label
            assert "call emergency services now" in r.text and 'href="tel:911"' in r.text, label
        assert "Traceback" not in r.text


def test_a_server_failure_is_a_page_and_the_log_holds_no_answer(caplog):
    import logging

    from tests.webhelp import answers_of

    app = create_app()
    with TestClient(app) as c:
        from triage.web import app as app_mod

        r = c.post("/step", data={"go": "start"})
        page = answers_of(r.text)

        def broken(pages, form):
            raise ValueError(f"the answers {form.get('answers')!r}")

        original = app_mod.Pages.step
        app_mod.Pages.step = broken  # type: ignore[method-assign]
        try:
            with caplog.at_level(logging.DEBUG):
                r = c.post("/step", data={"answers": page, "q": "red_flags", "go": "next", "answer": "none"})
        finally:
            app_mod.Pages.step = original  # type: ignore[method-assign]
    assert r.status_code == 500
    assert r.headers["cache-control"] == "no-store" and "x-frame-options" in r.headers
    assert "call emergency services now" in r.text and "Traceback" not in r.text
    logged = caplog.text
    assert "ValueError" in logged
    assert page.split(".")[0] not in logged and "red_flags" not in logged


def test_an_emergency_from_the_medicine_answer_stays_on_every_later_page_in_words(client):
    from tests.webhelp import BLEPHAROSPASM, answers_of, question_of, text_of

    story = {**BLEPHAROSPASM, "symptoms": ["neck_craning"], "onset": ["sudden"], "dopamine_blocker": ["recent"]}
    r = client.post("/step", data={"go": "start"})
    emergency_seen = False
    for _ in range(40):
        q = question_of(r.text)
        if q is None:
            break
        if "Go on with the questions" in r.text:
            emergency_seen = True
            page = text_of(r.text)
            assert "Why this is an emergency" in page
            reasons = r.text.split("Why this is an emergency", 1)[1].split("</ul>", 1)[0]
            assert "<li>" in reasons  # never an empty list of reasons
            assert r.text.index('href="tel:911"') < r.text.index("Go on with the questions")
            assert 'class="call primary"' in r.text
            r = client.post("/step", data={"answers": answers_of(r.text), "q": q, "go": "continue"})
            continue
        if emergency_seen:  # every later page keeps the emergency, in words, with the call link
            assert "EMERGENCY" in text_of(r.text) and 'href="tel:911"' in r.text
        r = client.post("/step", data={"answers": answers_of(r.text), "q": q, "go": "next", "answer": story[q]})
        assert r.status_code == 200, text_of(r.text)[:300]
    assert emergency_seen
    assert "EMERGENCY" in text_of(r.text) and 'href="tel:911"' in r.text  # the review


@pytest.mark.parametrize("typed", ["²", "①", "4" * 4_300, "６１"])
def test_odd_numbers_in_a_number_field_are_asked_again_not_a_500(client, typed):
    from tests.webhelp import BLEPHAROSPASM

    r = _walk(client, BLEPHAROSPASM, until="age")
    from tests.webhelp import answers_of

    r = client.post("/step", data={"answers": answers_of(r.text), "q": "age", "go": "next", "answer": typed})
    assert r.status_code == 422
    assert "whole number" in r.text


def test_change_the_age_from_the_review_and_back_to_it_work(client):
    from tests.webhelp import BLEPHAROSPASM, answers_of, question_of

    r = _walk(client, BLEPHAROSPASM)
    for go in ("change:age", "change:onset_age"):
        page = client.post("/step", data={"answers": answers_of(r.text), "go": go})
        assert page.status_code == 200 and question_of(page.text) == go.split(":")[1]
        back = client.post("/step", data={"answers": answers_of(page.text), "q": question_of(page.text),
                                          "go": "back"})
        assert back.status_code == 200


# --- the server: one secret for every worker, timeouts, /healthz while busy -----------------------

def _serve(*args, env=None):
    import os
    import re
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "triage", "serve", *args], cwd=ROOT, text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, **(env or {})})
    line = proc.stderr.readline()
    m = re.search(r"serving on (http://127\.0\.0\.1:(\d+)/)", line)
    if not m:
        proc.kill()
        raise AssertionError(f"no address printed: {line!r}")
    return proc, m.group(1)


def _stop(proc) -> str:
    proc.terminate()
    proc.wait(timeout=20)
    with proc.stderr:
        return proc.stderr.read()


def _post(url: str, fields: dict, timeout: float = 30):
    import urllib.error
    import urllib.parse
    import urllib.request

    data = urllib.parse.urlencode(fields, doseq=True).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _wait(url: str):
    import time
    import urllib.request

    end = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "healthz", timeout=5):
                return
        except OSError:
            if time.monotonic() > end:
                raise
            time.sleep(0.1)


def test_with_two_workers_and_no_secret_every_worker_reads_every_page():
    import os

    from tests.webhelp import answers_of

    env = {k: v for k, v in os.environ.items() if k != "TRIAGE_SECRET"}
    os.environ.pop("TRIAGE_SECRET", None)
    proc, url = _serve("--workers", "2", env=env)
    try:
        _wait(url)
        status, page = _post(url + "step", {"go": "start"})
        carried = answers_of(page)
        for _ in range(12):  # new connections: both workers answer some of them
            status, page = _post(url + "step", {"answers": carried, "q": "red_flags", "go": "next", "answer": "none"})
            assert status == 200, page[:300]
    finally:
        err = _stop(proc)
    assert "Traceback" not in err and "random secret" in err


def test_a_short_secret_is_refused():
    result = run_cli("serve", env={"TRIAGE_SECRET": "short"})
    assert result.returncode == 2 and "TRIAGE_SECRET" in result.stderr


def test_a_connection_that_never_finishes_its_headers_is_closed():
    import socket
    import time

    from triage.web.server import HEADER_SECONDS

    proc, url = _serve()
    try:
        _wait(url)
        port = int(url.rsplit(":", 1)[1].strip("/"))
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"POST /step HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the rest
            s.settimeout(HEADER_SECONDS + 10)
            start = time.monotonic()
            assert s.recv(100) == b""  # closed by the server
            assert time.monotonic() - start < HEADER_SECONDS + 5
    finally:
        _stop(proc)


def test_healthz_answers_at_once_while_large_batches_are_assessed():
    import statistics
    import threading
    import time
    import urllib.request

    proc, url = _serve()
    batch = json.dumps([{"version": 1, "symptoms": ["neck_craning"], "age": 40 + i % 40} for i in range(300)])
    sent: list[int] = []

    def busy():
        try:
            while True:
                req = urllib.request.Request(url + "api/assess", data=batch.encode(),
                                             headers={"content-type": "application/json"})
                sent.append(1)
                with urllib.request.urlopen(req, timeout=120) as r:
                    r.read()
        except OSError:
            return  # the server stopped at the end of the test

    try:
        _wait(url)
        for _ in range(3):
            threading.Thread(target=busy, daemon=True).start()
        time.sleep(1.0)  # the batches are being assessed
        times = []
        for _ in range(40):
            start = time.perf_counter()
            with urllib.request.urlopen(url + "healthz", timeout=10) as r:
                assert r.status == 200
            times.append(time.perf_counter() - start)
            time.sleep(0.05)
    finally:
        err = _stop(proc)
    times.sort()
    assert sent and "Traceback" not in err
    assert statistics.median(times) < 0.1 and times[int(len(times) * 0.9)] < 0.1, times


def test_the_questionnaires_caches_are_bounded_in_bytes_too():
    from triage.questionnaire import relevance

    cache = relevance._LRU(size=1_000_000, max_bytes=100_000)
    for i in range(2_000):
        cache.get(("case", i), lambda: "x" * 1_000)  # 1,000 entries would fit; 100 KB would not
    assert cache.bytes <= 100_000
    assert len(cache.data) < 100
    assert cache.get(("case", 1_999), lambda: "recomputed") == "x" * 1_000  # the newest is kept
    assessor = relevance.Assessor()
    assert assessor._assessments.max_bytes and assessor._signatures.max_bytes and assessor._facts.max_bytes


# --- properties over random JSON shapes: no 500, no traceback, a red flag never lost ---------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from tests.strategies import LISTS, PROPERTY, cases  # noqa: E402

EMERGENCY_LEVELS = {"emergency", "emergency_ambulance"}
_scalars = st.none() | st.booleans() | st.integers(-10**40, 10**40) | st.floats() | st.text(max_size=12)
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3)
                       | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=10)


@st.composite
def hostile_documents(draw):
    """JSON text holding cases with a red flag, shaped as an attacker would: a later duplicate
    key that empties the red flags, extra keys of any shape, deep nesting, a batch mixing the
    case with anything, a FHIR-looking wrapper. Returns ``(text, number of cases or None)``."""
    case = draw(cases(red_flags=draw(st.lists(st.sampled_from(LISTS["red_flags"]), min_size=1, max_size=2,
                                              unique=True))))
    text = json.dumps(case)
    tricks = draw(st.lists(st.sampled_from(["duplicate", "extra", "deep", "batch", "bundle", "spaces"]),
                           max_size=3, unique=True))
    if "duplicate" in tricks:
        text = text[:-1] + ', "red_flags": []}'
    if "extra" in tricks:
        extra = draw(st.dictionaries(st.sampled_from(["red_flags", "symptoms", "age", "x", "version"]), _values,
                                     min_size=1, max_size=2))
        text = text[:-1] + "".join(f", {json.dumps(k)}: {json.dumps(v)}" for k, v in extra.items()) + "}"
    if "deep" in tricks:
        n = draw(st.integers(1, 200))
        text = "[" * n + text + "]" * n
    if "batch" in tricks:
        others = draw(st.lists(_values, max_size=3))
        text = "[" + ", ".join([text] + [json.dumps(o) for o in others]) + "]"
    if "bundle" in tricks:
        text = '{"resourceType": "Bundle", "entry": [{"resource": ' + text + "}]}"
    if "spaces" in tricks:
        text = " \n" + text.replace(",", " ,\n ") + "\n"
    return text


def _red_flags_kept(docs, text: str) -> None:
    """Every assessment of a case that reported a red flag is at an emergency level."""
    assessments = docs if isinstance(docs, list) else [docs]
    for a in assessments:
        if a.get("red_flags"):
            assert a["care_level"] in EMERGENCY_LEVELS, (text[:300], a["care_level"])
    # the input had a red flag in its (first) case: if it was assessed, one assessment shows it
    assert any(a["care_level"] in EMERGENCY_LEVELS for a in assessments), text[:300]


@PROPERTY
@given(hostile_documents())
def test_cli_assess_never_loses_a_red_flag(text):
    out = run_main(["assess", "-", "--format", "json"], text.encode())
    assert out.code in (0, 2) and "Traceback" not in out.err, out.err[-500:]
    if out.code == 2:
        assert out.err.startswith("dystonia-triage: ") and out.out == ""
    else:
        _red_flags_kept(json.loads(out.out), text)


@PROPERTY
@given(hostile_documents())
def test_api_never_loses_a_red_flag_and_never_fails(client, text):
    r = client.post("/api/assess", content=text.encode(), headers={"content-type": "application/json"})
    assert r.status_code in (200, 400, 413, 422), (r.status_code, r.text[:300])
    assert "Traceback" not in r.text
    if r.status_code == 200:
        _red_flags_kept(r.json(), text)
    else:
        assert r.json()["detail"] and "call emergency services" in r.json()["emergency"]


_form_text = st.text(max_size=30) | st.sampled_from(["next", "back", "result", "review", "continue", "start",
                                                      "change:age", "change:red_flags", "none", "61", "²"])


@st.composite
def hostile_forms(draw):
    """A form as a forged or broken page could post it: answers signed (with a red flag) or not,
    any button, any question, any answer values."""
    from tests.webhelp import signed
    from triage import knowledge

    kb = knowledge.default()
    flags = draw(st.lists(st.sampled_from(LISTS["red_flags"]), min_size=1, max_size=2, unique=True))
    answers = {"red_flags": flags}
    others = draw(st.dictionaries(st.sampled_from([q.id for q in kb.questions] + ["x"]), _values, max_size=3))
    answers.update({k: v for k, v in others.items() if k != "red_flags"})
    how = draw(st.sampled_from(["signed", "signed-text", "unsigned", "random"]))
    field = {"signed": lambda: signed(answers), "signed-text": lambda: signed(draw(st.text(max_size=40))),
             "unsigned": lambda: json.dumps(answers), "random": lambda: draw(st.text(max_size=60))}[how]()
    form = {"answers": field, "go": draw(_form_text), "q": draw(st.sampled_from([q.id for q in kb.questions])
                                                                 | st.text(max_size=10)),
            "answer": draw(st.lists(_form_text, max_size=3))}
    if draw(st.booleans()):
        form["then"] = draw(_form_text)
    url = draw(st.sampled_from(["/step", "/step", "/report", "/download/case.json", "/download/x"]))
    return url, form, how == "signed", answers


@PROPERTY
@given(hostile_forms())
def test_web_forms_never_fail_and_a_result_never_hides_a_red_flag(client, drawn):
    from tests.webhelp import text_of

    url, form, genuine, answers = drawn
    r = client.post(url, data=form)
    assert r.status_code < 500, (r.status_code, form, r.text[:300])
    assert "Traceback" not in r.text
    if r.status_code >= 400 and r.status_code != 422:  # 422: the question again, with the problem
        assert r.headers["cache-control"] == "no-store"
    page = text_of(r.text)
    assessed = "How urgent" in page or "Dystonia triage report" in page
    if not genuine and form["answers"]:
        assert not assessed  # nothing unsigned is ever assessed
    if assessed and form["answers"]:  # the result of answers with a red flag: an emergency
        assert "EMERGENCY: " in page, (form, page[:400])


def test_a_client_that_disconnects_mid_request_is_not_an_error(caplog):
    import logging

    import anyio

    app = create_app()
    sent: list[dict] = []

    async def run() -> None:
        messages = [{"type": "http.request", "body": b"answers=", "more_body": True}, {"type": "http.disconnect"}]

        async def receive():
            return messages.pop(0) if messages else {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": "POST", "path": "/step", "raw_path": b"/step", "query_string": b"",
                 "headers": [(b"content-type", b"application/x-www-form-urlencoded"), (b"host", b"testserver")],
                 "http_version": "1.1", "scheme": "http", "server": ("testserver", 80), "client": ("127.0.0.1", 1),
                 "root_path": ""}
        await app(scope, receive, send)

    with caplog.at_level(logging.DEBUG):
        anyio.run(run)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert "Traceback" not in caplog.text


def test_dev_run_tells_the_questionnaire_it_runs_through_dev_and_dev_test_does_not():
    text = (ROOT / "dev").read_text()
    run_branch = text[text.index("  run)"):text.index("  test)")]
    assert 'export TRIAGE_VIA_DEV="$0"' in run_branch
    assert "TRIAGE_VIA_DEV" not in text[text.index("  test)"):]


def test_a_body_that_arrives_too_slowly_is_cut_off_with_408_and_the_advice(monkeypatch):
    """A sender that stops half-way through its body holds a worker no longer than the body
    timeout: the server answers 408 with the emergency advice (an OperationOutcome on the
    FHIR endpoints), on a real socket, as a slow client would meet it."""
    import socket
    import threading
    import time

    import uvicorn

    from triage.models import KB
    from triage.web import app as webapp

    monkeypatch.setattr(webapp, "BODY_TIMEOUT", 0.5)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(webapp.create_app(), host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        for path, kind in (("/api/assess", "application/json"), ("/fhir/$assess", "application/fhir+json")):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
                body = b'{"version": 1, "age": 40}'
                conn.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {kind}\r\n"
                             f"Content-Length: {len(body)}\r\n\r\n".encode() + body[:10])
                started = time.monotonic()
                reply = b""
                while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    reply += chunk
                waited = time.monotonic() - started
            head, _, payload = reply.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 408"), head[:200]
            assert waited < 10
            doc = json.loads(payload)
            if path.startswith("/fhir"):
                assert doc["resourceType"] == "OperationOutcome" and doc["issue"][0]["code"] == "timeout"
                assert doc["issue"][1]["diagnostics"] == " ".join(KB.text.emergency_first.split())
            else:
                assert "too long" in doc["detail"] and doc["emergency"]
    finally:
        server.should_exit = True
        thread.join(timeout=10)

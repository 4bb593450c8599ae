"""Hostile input and faults (issue 12): what an attacker, a flaky network or a busy clinic
would try, on the command line, the API, the web page and the files. Each test reproduced the
problem before its fix."""

from __future__ import annotations

import json

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


def test_resume_from_another_major_version_is_refused_with_the_reason(tmp_path):
    result = run_cli("interview", "--plain", "--resume", str(_saved_answers(tmp_path, "0.1.0")), input="")
    assert result.returncode == 2
    assert "version 0.1.0" in result.stderr and "start again" in result.stderr


def test_resume_from_another_minor_version_says_what_changed(tmp_path):
    from triage import knowledge

    now = knowledge.default().about.version
    major = now.split(".")[0]
    result = run_cli("interview", "--plain", "--resume", str(_saved_answers(tmp_path, f"{major}.999.0")), input="q\n")
    assert f"version {major}.999.0" in " ".join(result.stdout.split())
    assert f"this is version {now}" in " ".join(result.stdout.split())
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
    lines[15] = str(tmp_path / "missing" / "case.json")
    result = _plain(tmp_path, lines[:16] + ["", "2"])
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

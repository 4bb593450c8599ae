"""The web result's find-a-specialist step and treatments, through the framework's test
client: clinics by distance from a POSTed place, the nearest matches for an unknown one, never
on an emergency, the chosen clinics in the report, and the place in no answers field, download,
address or log."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.test_privacy import debug_logs  # noqa: F401 (fixture)
from tests.webhelp import answers_dict, answers_of, signed, text_of
from triage.models import KB
from triage.web.app import create_app

EYES = {"red_flags": [], "respondent": "self", "age": 61, "symptoms": ["eye_blinking"], "sensory_trick": "yes"}
W = KB.specialist_words


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app()) as c:
        yield c


def result(client, answers=EYES, **form):
    return client.post("/step", data={"answers": signed(answers), "go": "result", **form})


def find(client, near: str, answers=EYES):
    return client.post("/step", data={"answers": signed(answers), "go": "clinics", "near": near})


def clinic_towns(page: str) -> list[str]:
    block = page.split('<ol class="clinics">', 1)[1].split("</ol>", 1)[0]
    return [li.split("</strong>, ", 1)[1].split(",", 1)[0] for li in block.split("<li>")[1:]]


def test_the_result_shows_treatments_and_offers_the_step_as_a_post_form(client):
    r = result(client)
    assert r.status_code == 200
    text = text_of(r.text)
    assert KB.treatment_words.heading in text and "Botulinum toxin injections" in text
    assert text.index("What to do now") < text.index(KB.treatment_words.heading)
    assert W.heading in text
    form = r.text.split('id="specialist"', 1)[1].split("</form>", 1)[0]
    assert 'method="post" action="/step#specialist"' in form and 'name="near"' in form and 'value="clinics"' in form
    assert '<label for="near">' in form


def test_a_zip_code_gives_the_nearest_clinics_and_a_town_too(client):
    r = find(client, "54301")
    assert r.status_code == 200
    assert clinic_towns(r.text)[0] == "Green Bay"
    assert "Green Bay, WI 54301: 0 miles (0 km)" in text_of(r.text)
    assert clinic_towns(find(client, "West Allis, WI").text)[0] == "West Allis"
    assert r.headers["cache-control"] == "no-store"  # not kept for Back and Forward


def test_an_unknown_place_is_named_with_the_nearest_matches(client):
    r = find(client, "Grean Bay, WI")
    assert r.status_code == 422
    text = text_of(r.text)
    assert "The town 'Grean Bay, WI' was not found" in text and "Nearest matches: Green Bay, WI" in text
    assert 'aria-invalid="true"' in r.text
    assert '<ol class="clinics">' not in r.text


def test_an_emergency_result_offers_no_clinic_and_no_treatments(client):
    emergency = {**EYES, "red_flags": ["breathing_difficulty"]}
    for r in (result(client, emergency), find(client, "54301", emergency)):
        text = text_of(r.text)
        assert "EMERGENCY" in text
        assert W.heading not in text and KB.treatment_words.heading not in text
        assert 'name="near"' not in r.text and '<ol class="clinics">' not in r.text


def test_the_report_shows_the_chosen_clinics_and_nothing_else_holds_the_place(client, debug_logs):
    r = find(client, "54301")
    answers = answers_of(r.text)
    assert "54301" not in answers and "Green Bay" not in answers  # the signed answers carry no place
    assert answers_dict(r.text) == EYES
    report = client.post("/report", data={"answers": answers, "near": "54301"})
    assert report.status_code == 200
    assert W.heading in report.text and "Green Bay, WI 54301: 0 miles (0 km)" in report.text
    download = client.post("/download/report.html", data={"answers": answers, "near": "54301"})
    assert "Green Bay, WI 54301: 0 miles (0 km)" in download.text
    for name in ("case.json", "response.fhir.json"):
        got = client.post(f"/download/{name}", data={"answers": answers, "near": "54301"})
        assert got.status_code == 200
        assert "54301" not in got.text and "Green Bay" not in got.text and "near" not in json.loads(got.text)
    # the forms that send the place post it: never in an address
    assert 'action="/report"' in r.text and "?near" not in r.text and "near=" not in r.text
    logged = "\n".join(debug_logs.lines)
    assert "54301" not in logged and "Green Bay" not in logged
    # an address with a place in it is never served: the server sends it to the start
    assert client.get("/step", params={"near": "54301"}, follow_redirects=False).status_code == 303


def test_a_report_without_the_step_has_no_clinics(client):
    r = client.post("/report", data={"answers": signed(EYES)})
    assert W.heading not in r.text


def test_a_replaced_directory_is_used_by_the_web_page(tmp_path, monkeypatch):
    import yaml

    own = tmp_path / "ours.yaml"
    own.write_text(yaml.safe_dump({"clinics": [{
        "name": "Bayside Neurology", "town": "Green Bay", "state": "WI", "postcode": "54301",
        "latitude": 44.482, "longitude": -88.0205, "services": ["movement_disorders"]}]}))
    monkeypatch.setenv("TRIAGE_CLINICS", str(own))
    with TestClient(create_app()) as c:
        r = find(c, "54301")
    assert "Bayside Neurology" in r.text and "(example)" not in r.text
    assert W.example not in text_of(r.text)

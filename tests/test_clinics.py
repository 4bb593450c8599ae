"""Finding a specialist: the clinic directory as data, ``dystonia-triage clinics --near``, the
suggestions after a result (what the result needs first, DBS never first, never on an
emergency), and the place never entering the case or the saved answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli
from triage import assess, clinics, report
from triage.models import KB

EXAMPLE = ROOT / "knowledge" / "clinics.yaml"


def towns(stdout: str) -> list[str]:
    """The towns of the numbered clinic lines, in order."""
    return [line.split(", ")[1] for line in stdout.splitlines() if line[:1].isdigit() and ". " in line]


def write_directory(path: Path, rows: list[dict], example: bool = False) -> Path:
    import yaml

    path.write_text(yaml.safe_dump({"directory": {"example": example}, "clinics": rows}, sort_keys=False))
    return path


def clinic(name: str, town: str, postcode: str, lat: float, lon: float, services: list[str], **more) -> dict:
    return {"name": name, "town": town, "state": "WI", "postcode": postcode, "latitude": lat, "longitude": lon,
            "services": services, **more}


# Green Bay, Fond du Lac and West Allis (their ZIP codes' coordinates)
GREEN_BAY = (44.482, -88.0205)
FOND_DU_LAC = (43.7742, -88.4352)
WEST_ALLIS = (43.0215, -88.0176)


def test_near_a_green_bay_zip_code_lists_green_bay_first_with_miles_km_and_services():
    r = run_cli("clinics", "--near", "54301")
    assert r.returncode == 0, r.stderr
    assert towns(r.stdout)[0] == "Green Bay"
    assert sorted(towns(r.stdout)) == sorted(["Fond du Lac", "Menomonee Falls", "Green Bay", "St. Francis", "West Allis"])
    assert "Clinics nearest to Green Bay, WI 54301:" in r.stdout
    assert "Fond du Lac, WI 54935: 53 miles (85 km)" in r.stdout  # great-circle, about 53 miles
    assert "Offers: movement-disorders neurology" in r.stdout
    assert "example" in r.stdout  # the shipped directory says it is an example to replace


def test_near_west_allis_by_town_and_state_lists_west_allis_first():
    r = run_cli("clinics", "--near", "West Allis, WI")
    assert r.returncode == 0, r.stderr
    assert towns(r.stdout)[:2] == ["West Allis", "St. Francis"]


@pytest.mark.parametrize("near, named, suggested", [
    ("99999", "The ZIP code 99999 was not found", "99950 (Ketchikan, AK)"),
    ("Grean Bay, WI", "The town 'Grean Bay, WI' was not found", "Green Bay, WI"),
    ("123", "The ZIP code '123' was not found", "a US ZIP code has five digits"),
])
def test_an_unknown_place_exits_2_naming_it_and_suggesting_the_nearest_matches(near, named, suggested):
    r = run_cli("clinics", "--near", near)
    assert r.returncode == 2
    assert r.stdout == "" and "Traceback" not in r.stderr
    assert named in r.stderr and suggested in r.stderr


def test_an_unknown_service_exits_2_naming_the_allowed_values():
    r = run_cli("clinics", "--near", "54301", "--service", "acupuncture")
    assert r.returncode == 2
    assert "--service: unknown service 'acupuncture'" in r.stderr
    assert "movement_disorders, botulinum_toxin, dbs_programme, speech_therapy, physical_therapy" in r.stderr


def test_a_replaced_directory_is_used_by_option_and_by_environment(tmp_path):
    own = write_directory(tmp_path / "ours.yaml", [
        clinic("Lakeside Voice Clinic", "Fond du Lac", "54935", *FOND_DU_LAC, ["speech_therapy"],
               phone="+1 920 555 0100", url="https://example.org/voice"),
        clinic("Bayside Neurology", "Green Bay", "54301", *GREEN_BAY, ["movement_disorders", "botulinum_toxin"]),
    ])
    for r in (run_cli("clinics", "--near", "West Allis, WI", "--clinics", str(own)),
              run_cli("clinics", "--near", "West Allis, WI", env={"TRIAGE_CLINICS": str(own)})):
        assert r.returncode == 0, r.stderr
        assert "Lakeside Voice Clinic" in r.stdout and "Bayside Neurology" in r.stdout
        assert "Dystonia clinic (example)" not in r.stdout
        assert "+1 920 555 0100" in r.stdout and "https://example.org/voice" in r.stdout
        assert "example that a deployment replaces" not in r.stdout  # not marked as an example
    only = run_cli("clinics", "--near", "54301", "--service", "speech_therapy", "--clinics", str(own))
    assert only.returncode == 0 and "Lakeside Voice Clinic" in only.stdout and "Bayside" not in only.stdout


@pytest.mark.parametrize("change, named", [
    ({"fax": "555"}, "clinics.0.fax: Extra inputs are not permitted"),
    ({"services": ["acupuncture"]}, "clinics.0.services: unknown service 'acupuncture'"),
    ({"latitude": 123}, "clinics.0.latitude: Input should be less than or equal to 90"),
    ({"postcode": "5430"}, "clinics.0.postcode: String should match pattern"),
])
def test_a_malformed_directory_is_refused_naming_the_file_and_the_key(tmp_path, change, named):
    bad = write_directory(tmp_path / "bad.yaml", [{**clinic("A", "Green Bay", "54301", *GREEN_BAY, []), **change}])
    for args, env in (((("--clinics", str(bad)),), {}), ((), {"TRIAGE_CLINICS": str(bad)})):
        r = run_cli("clinics", "--near", "54301", *[a for pair in args for a in pair], env=env)
        assert r.returncode == 2, r.stdout
        assert str(bad) in r.stderr and named in r.stderr
        assert "Traceback" not in r.stderr and r.stdout == ""


def test_a_directory_that_is_not_yaml_or_missing_is_refused(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("clinics: [\n")
    r = run_cli("clinics", "--near", "54301", "--clinics", str(broken))
    assert r.returncode == 2 and str(broken) in r.stderr and "not valid YAML" in r.stderr
    r = run_cli("clinics", "--near", "54301", "--clinics", str(tmp_path / "none.yaml"))
    assert r.returncode == 2 and "cannot be read" in r.stderr


def test_the_shipped_example_invents_no_address_phone_or_web_address():
    directory = clinics.load(EXAMPLE, KB)
    assert directory.directory.example is True
    assert sorted(c.town for c in directory.clinics) == sorted(
        ["Fond du Lac", "Menomonee Falls", "Green Bay", "St. Francis", "West Allis"])
    assert all(c.address is None and c.phone is None and c.url is None for c in directory.clinics)


def test_great_circle_distance():
    # Green Bay to Fond du Lac, about 85 km; a point to itself, none
    assert clinics.distance_km(*GREEN_BAY, *FOND_DU_LAC) == pytest.approx(85.0, abs=1.0)
    assert clinics.distance_km(*GREEN_BAY, *GREEN_BAY) == 0


# --- suggestions after a result -------------------------------------------------------------

def directory_of(rows) -> clinics.Directory:
    return clinics.Directory.model_validate({"clinics": rows})


def test_the_result_prefers_clinics_offering_what_it_needs_and_never_dbs_first():
    near_west_allis = clinics.find_place("53214")
    d = directory_of([
        clinic("DBS Centre", "West Allis", "53214", *WEST_ALLIS, ["dbs_programme"]),
        clinic("Voice Clinic", "Fond du Lac", "54935", *FOND_DU_LAC, ["speech_therapy"]),
        clinic("Movement Clinic", "Green Bay", "54301", *GREEN_BAY, ["movement_disorders", "speech_therapy"]),
    ])
    voice = assess({"version": 1, "symptoms": ["speech_difficulty"], "features": ["task_specific"]})
    assert "focal.laryngeal" in [c.type for c in voice.candidates]
    found = clinics.suggest(KB, voice, near_west_allis, d)
    # movement-disorders neurology and speech therapy for a voice pattern; the DBS programme,
    # though nearest, never first
    assert [s.clinic.name for s in found.clinics] == ["Movement Clinic", "Voice Clinic", "DBS Centre"]
    eyes = assess({"version": 1, "symptoms": ["eye_blinking"], "features": ["sensory_trick"]})
    assert clinics.suggest(KB, eyes, near_west_allis, d).clinics[0].clinic.name == "Movement Clinic"
    # the directory alone, by distance (the clinics command)
    assert [s.clinic.name for s in clinics.by_distance(d, near_west_allis, KB)][0] == "DBS Centre"


def test_dbs_alone_is_never_the_first_suggestion_even_when_no_clinic_offers_what_is_needed():
    d = directory_of([
        clinic("DBS Centre", "West Allis", "53214", *WEST_ALLIS, ["dbs_programme"]),
        clinic("Physio", "Green Bay", "54301", *GREEN_BAY, ["physical_therapy"]),
    ])
    a = assess({"version": 1, "symptoms": ["neck_craning"], "features": ["sensory_trick"]})
    assert clinics.suggest(KB, a, clinics.find_place("53214"), d).clinics[0].clinic.name == "Physio"


def test_an_emergency_result_never_offers_a_clinic():
    a = assess({"version": 1, "symptoms": ["neck_craning"], "red_flags": ["breathing_difficulty"]})
    assert not clinics.offered(KB, a)
    assert clinics.offered(KB, assess({"version": 1, "symptoms": ["neck_craning"]}))


def test_the_report_shows_the_chosen_clinics_and_not_the_place(tmp_path):
    a = assess({"version": 1, "symptoms": ["eye_blinking"], "features": ["sensory_trick"]})
    found = clinics.suggest(KB, a, clinics.find_place("54301"), clinics.load(EXAMPLE, KB))
    md = report.markdown(a, None, clinics=found)
    html = report.html_report(a, None, clinics=found)
    for out in (md, html):
        assert KB.specialist_words.heading in out
        assert "Green Bay, WI 54301: 0 miles (0 km)" in out
        assert out.index("Green Bay") < out.index("Fond du Lac")
    assert KB.specialist_words.heading not in report.markdown(a, None)


# --- the terminal ---------------------------------------------------------------------------

PLAIN = [
    "9", "1", "61", "8", "1", "58", "9", "1", "2", "2", "1", "2", "4",  # blepharospasm (see test_interview_cli)
    "",  # review: show the result
]


def test_the_terminal_step_finds_clinics_and_the_place_stays_out_of_the_saved_answers(tmp_path):
    how = "1"  # "Find a specialist near you", first in the menu after the result
    lines = PLAIN + [how, "Grean Bay, WI", "54301", "", "1", "", "1", ""]
    r = run_cli("interview", "--plain", input="\n".join(lines) + "\n", cwd=tmp_path,
                env={"PYTHONPATH": str(ROOT)})
    assert r.returncode == 0, r.stdout + r.stderr
    out = " ".join(r.stdout.split())
    assert "1. Find a specialist near you" in out
    assert "The town 'Grean Bay, WI' was not found" in out and "Nearest matches: Green Bay, WI" in out
    assert "1. Dystonia clinic (example), Green Bay, WI 54301: 0 miles (0 km)" in out
    saved = (tmp_path / "dystonia-triage-case.json").read_text()
    assert "54301" not in saved and "Green Bay" not in saved and "Grean" not in saved
    assert json.loads(saved)["symptoms"] == ["eye_blinking"]
    md = (tmp_path / "dystonia-triage-report.md").read_text()
    assert "Green Bay, WI 54301: 0 miles (0 km)" in md  # the chosen clinics, in the report
    assert "Grean" not in md


def test_the_terminal_offers_no_clinic_on_an_emergency(tmp_path):
    r = run_cli("interview", "--plain", input="1\n2\n\n", cwd=tmp_path, env={"PYTHONPATH": str(ROOT)})
    from triage.questionnaire.session import Questionnaire

    assert Questionnaire().text.how_prompt in r.stdout  # the menu after the result was shown
    assert KB.specialist_words.offer not in r.stdout
    assert "EMERGENCY" in r.stdout


def test_interview_and_serve_refuse_a_broken_directory_before_starting(tmp_path):
    bad = write_directory(tmp_path / "bad.yaml", [{**clinic("A", "Green Bay", "54301", *GREEN_BAY, []), "x": 1}])
    for cmd in (("interview", "--plain"), ("serve", "--port", "0")):
        r = run_cli(*cmd, "--clinics", str(bad), input="")
        assert r.returncode == 2, (cmd, r.stdout, r.stderr)
        assert str(bad) in r.stderr and "clinics.0.x" in r.stderr



def test_a_town_in_several_states_is_not_guessed_and_a_far_place_is_told_so():
    """"Springfield" alone is asked back with its states (exit 2), not silently taken as one
    of them; from Beverly Hills the Wisconsin clinics come with a note that they are far."""
    r = run_cli("clinics", "--near", "Springfield")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "several states" in r.stderr and "Springfield, IL" in r.stderr and "Springfield, MO" in r.stderr
    assert run_cli("clinics", "--near", "Springfield, MO").returncode == 0
    far = run_cli("clinics", "--near", "90210")
    assert far.returncode == 0 and "A family doctor can help find" in " ".join(far.stdout.split())
    near = run_cli("clinics", "--near", "54301")
    assert "A family doctor can help find" not in " ".join(near.stdout.split())

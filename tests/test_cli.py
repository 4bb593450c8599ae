"""The command run as a user would: a new process, reading files and standard input."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, run_cli

EXAMPLE = str(ROOT / "examples" / "blepharospasm.json")


def test_assess_prints_the_care_level_first_then_the_candidates():
    r = run_cli("assess", EXAMPLE)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "CARE LEVEL: BOOK A NEUROLOGIST (routine)" in lines[1]
    assert lines[3].startswith("What to do now:")
    out = r.stdout
    assert out.index("What to do now") < out.index("Blepharospasm") < out.index("Next steps") < out.index("does not diagnose")
    assert "A strong match: the answers may fit this pattern well." in out
    for rule in ("region_as_reported", "one_region_only", "focal", "hallmark_raises_distribution_type"):
        assert rule in out
    assert "you have" not in out.lower()


def test_assess_json_follows_the_contract():
    r = run_cli("assess", EXAMPLE, "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["version"] == 1 and doc["care_level"] == "routine"
    assert doc["candidates"][0]["type"] == "focal.blepharospasm"
    assert doc["candidates"][0]["support"] == "strong"
    assert doc["candidates"][0]["because"]
    assert {"id": "see_neurologist"}.items() <= doc["next_steps"][0].items()
    assert doc["disclaimer"]


def test_assess_markdown():
    r = run_cli("assess", EXAMPLE, "--format", "markdown")
    assert r.returncode == 0
    assert r.stdout.startswith("# Dystonia triage report")
    assert "| Blepharospasm (focal dystonia of the eyelids) | A strong match: the answers may fit this pattern well. |" in r.stdout


def test_a_batch_gives_an_array_in_order():
    cases = [{"version": 1, "symptoms": ["neck_craning"]}, {"version": 1},
             {"version": 1, "red_flags": ["dark_urine"]}]
    r = run_cli("assess", "-", "--format", "json", input=json.dumps(cases))
    assert r.returncode == 0, r.stderr
    docs = json.loads(r.stdout)
    assert [d["care_level"] for d in docs] == ["routine", "information", "emergency_ambulance"]
    text = run_cli("assess", "-", input=json.dumps(cases)).stdout
    assert "Case 1 of 3" in text and "Case 3 of 3" in text


def test_an_emergency_says_what_to_do_first():
    r = run_cli("assess", "-", input='{"version": 1, "red_flags": ["breathing_difficulty"], "symptoms": ["neck_craning"]}')
    first = r.stdout.splitlines()[1]
    assert "EMERGENCY: CALL AN AMBULANCE NOW (emergency_ambulance)" in first
    assert "Call emergency services" in r.stdout.splitlines()[3]


BAD = [
    ('{"version": 1, "symptoms": ["eye_blink"]}', ["symptoms[0]", "'eye_blink'", "eye_blinking"]),
    ('{"version": 1, "regions": ["belly"]}', ["regions[0]", "trunk"]),
    ('{"version": 1, "features": ["trick"]}', ["features[0]", "sensory_trick"]),
    ('{"version": 1, "red_flags": ["fever"]}', ["red_flags[0]", "fever_with_spasms"]),
    ('{"version": 1, "history": ["cancer"]}', ["history[0]", "family_history"]),
    ('{"version": 1, "onset": "fast"}', ["onset", "gradual, sudden, unknown"]),
    ('{"version": 1, "course": "bad"}', ["course", "progressive"]),
    ('{"version": 1, "dopamine_blocker": "yes"}', ["dopamine_blocker", "long_term"]),
    ('{"version": 1, "respondent": "me"}', ["respondent", "caregiver"]),
    ('{"version": 1, "age": "sixty"}', ["age", "0 to 120"]),
    ('{"version": 1, "age": 61.5}', ["age", "0 to 120"]),
    ('{"version": 1, "age": 121}', ["age", "0 to 120"]),
    ('{"version": 1, "age": -1}', ["age", "0 to 120"]),
    ('{"version": 1, "age": 40, "onset_age": 50}', ["onset_age", "greater than age"]),
    ('{"version": 1, "symptom": ["tremor"]}', ["symptom", "unknown field", "symptoms"]),
    ('{"symptoms": ["tremor"]}', ["version", "required"]),
    ('{"version": 2}', ["version", "allowed values: 1"]),
    ('{"version": 1, "symptoms": "tremor"}', ["symptoms", "list"]),
    ('{"version": 1,', ["not valid JSON", "line 1"]),
    ('', ["empty"]),
    ('[]', ["array is empty"]),
    ('"a string"', ["expected a JSON object"]),
    ('[{"version": 1}, {"version": 1, "age": 500}]', ["case[1]", "age"]),
    ('[{"version": 1}, 3]', ["case[1]", "expected a JSON object"]),
    ('[' * 100000 + ']' * 100000, ["nested too deeply"]),
]


@pytest.mark.parametrize("text, words", BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_bad_input_exits_2_naming_the_field_without_a_traceback(text, words):
    r = run_cli("assess", "-", input=text)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stdout == ""  # nothing half-written
    assert "Traceback" not in r.stderr
    for word in words:
        assert word in r.stderr, (word, r.stderr)


def test_missing_file_and_huge_input(tmp_path):
    r = run_cli("assess", str(tmp_path / "nope.json"))
    assert r.returncode == 2 and "no such file" in r.stderr
    big = tmp_path / "big.json"
    big.write_text("[" + ",".join(['{"version": 1}'] * 100000) + "]")
    r = run_cli("assess", str(big))
    assert r.returncode == 2 and "larger than" in r.stderr


def test_unknown_format_is_a_usage_error():
    r = run_cli("assess", EXAMPLE, "--format", "pdf")
    assert r.returncode == 2 and "invalid choice" in r.stderr


def test_schema_describes_case_and_assessment():
    r = run_cli("schema")
    doc = json.loads(r.stdout)
    case = doc["case"]
    assert case["additionalProperties"] is False
    assert case["required"] == ["version"]
    symptoms = case["properties"]["symptoms"]["items"]
    assert "eye_blinking" in json.dumps(symptoms)
    assert "care_level" in doc["assessment"]["properties"]


def test_installed_wheel_works_from_another_directory(tmp_path):
    """`pip install .` (not editable) must carry the knowledge base and the rules."""
    target = tmp_path / "site"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(ROOT)],
        capture_output=True, text=True, timeout=600,
    )
    assert build.returncode == 0, build.stderr
    assert (target / "triage" / "_data" / "knowledge" / "types.yaml").exists()
    assert (target / "triage" / "_data" / "rules" / "50_distribution.yaml").exists()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "case.json").write_text('{"version": 1, "symptoms": ["neck_craning"]}')
    import os

    env = {**os.environ, "PYTHONPATH": str(target)}
    r = subprocess.run([sys.executable, "-c", "import triage, sys; from triage.cli import main; "
                        "print(triage.__file__, file=sys.stderr); sys.exit(main(['assess', 'case.json']))"],
                       capture_output=True, text=True, cwd=elsewhere, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert str(target) in r.stderr
    assert "Cervical dystonia" in r.stdout

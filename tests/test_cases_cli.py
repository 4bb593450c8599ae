"""``dystonia-triage cases``: list, show and quiz, run as a learner would."""

from __future__ import annotations

import json

import pytest

from tests.conftest import run_cli
from triage import teaching
from triage.models import KB
from triage.quiz import LOOK_ALIKE, NONE, question

TYPE_ORDER = [t.id for t in sorted(KB.types, key=lambda t: t.rank)] + [LOOK_ALIKE, NONE]


def _number(type_id: str) -> str:
    return str(TYPE_ORDER.index(type_id) + 1)


def test_cases_lists_every_teaching_case():
    r = run_cli("cases")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"{len(teaching.default())} teaching cases")
    for tc in teaching.default():
        assert tc.id in r.stdout and tc.title in r.stdout
    doc = json.loads(run_cli("cases", "list", "--format", "json").stdout)
    assert {"id": "writers_cramp", "title": "A pen that will not obey", "types": ["focal.upper_limb"],
            "care_level": "routine"} in doc


def test_cases_show_tells_the_story_the_answers_the_result_and_the_explanation():
    r = run_cli("cases", "show", "hemifacial_spasm")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.startswith("One side of the face\n====")
    assert "Victor is 59. His left eye twitches" in out
    assert "  features: one_side_face" in out
    qa = out[out.index("The questions, as the questionnaire asks them"):out.index("The answers, as a case")]
    assert "  Q: In the case, do the eye and mouth on one side of the face twitch together" in qa
    assert qa.index("Does the person in the case have any of these now, new or suddenly") < qa.index("Which of these does")
    assert "types: segmental; care level: routine" in out and "look-alikes: hemifacial_spasm" in out
    assert "The rules agree." in out
    assert "Teaching point: Eye and mouth on one side" in out
    assert "Look-alike condition: Hemifacial spasm [hemifacial_spasm]" in out
    assert "<- rule hemifacial_spasm:" in out and "answer: features = one_side_face" in out
    assert "support: possible" in out
    assert out.index("Teaching point") < out.index("EXPLANATION")


def test_cases_show_json_and_unknown_id():
    doc = json.loads(run_cli("cases", "show", "writers_cramp", "--format", "json").stdout)
    assert doc["id"] == "writers_cramp" and doc["explanation"]["conclusions"]
    r = run_cli("cases", "show", "no_such_case")
    assert r.returncode == 2 and "no teaching case has that id" in r.stderr and "Traceback" not in r.stderr


def test_quiz_plain_asks_then_reveals_the_answer_and_the_rules():
    answers = _number("focal.upper_limb") + "\n" + "x\n" + _number("focal.truncal") + "\n"
    r = run_cli("cases", "quiz", "writers_cramp", "essential_tremor", "--plain", input=answers)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    first, second = out.split("Case 2 of 2")
    assert first.index("Which pattern does this story fit best?") < first.index("Right: Focal hand or arm dystonia")
    assert "hallmark_raises_distribution_type: A sensory trick or task specificity" in first
    assert "Please type a number from 1 to 14." in second
    assert "Not quite: you chose Truncal dystonia" in second
    assert "Look-alike conditions: Essential tremor" in second
    assert out.rstrip().endswith("Score: 1 of 2.")


def test_quiz_without_a_terminal_is_plain_and_stops_cleanly_at_the_end_of_input():
    r = run_cli("cases", "quiz", "tics_child", "writers_cramp", input=_number("segmental") + "\n")
    assert r.returncode == 0, r.stderr
    assert "Not quite: you chose Segmental dystonia" in r.stdout  # the teaching point: a look-alike
    assert "No more answers; the quiz ends here." in r.stdout


@pytest.mark.timeout(30)
def test_quiz_with_questionary_arrow_keys():
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    from triage.commands.cases import ask_select, quiz

    tc = teaching.by_id("meige_syndrome")
    written: list[str] = []
    with create_pipe_input() as inp:
        downs = TYPE_ORDER.index("segmental")
        inp.send_text("\x1b[B" * downs + "\r")
        right, asked = quiz([tc], lambda q: ask_select(q, input=inp, output=DummyOutput()), write=written.append)
    assert (right, asked) == (1, 1)
    text = "".join(written)
    assert "Eyelids and jaw together" in text and "Right: Segmental dystonia" in text


def test_the_quiz_judges_by_the_teaching_point():
    # look-alike cases are about the look-alike, whatever pattern the movements also fit
    for case_id in ("essential_tremor", "hemifacial_spasm", "tics_child"):
        q = question(teaching.by_id(case_id))
        assert q.is_correct(LOOK_ALIKE), case_id
        assert not q.is_correct(NONE) and not q.is_correct("segmental"), case_id
    q = question(teaching.by_id("writers_cramp"))
    assert q.is_correct("focal.upper_limb") and not q.is_correct(NONE) and not q.is_correct(LOOK_ALIKE)
    q = question(teaching.by_id("nothing_recognised"))
    assert q.is_correct(NONE) and not q.is_correct(LOOK_ALIKE)

"""The interview as a user runs it: the installed command in a real pseudo-terminal, piped
answers with --plain, and the refusal to read keystrokes from a pipe."""

from __future__ import annotations

import io
import json
import os
import re
import stat
import sys
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.interview_keys import IV

PLAIN_BLEPHAROSPASM = "\n".join([
    "9",    # warning signs: none of these
    "1",    # answering about myself
    "61",   # age
    "8",    # symptoms: blinking
    "1",    # dopamine blocker: no (asked right after the symptoms)
    "58",   # age at onset
    "9",    # no other part (the eyelids are not offered again)
    "1",    # sensory trick: yes
    "2",    # one side of the face: no
    "2",    # an urge before the movement: no
    "1",    # onset: gradual
    "2",    # family history: no
    "4",    # history: none of these
    "",     # review: show the result
    "",     # how: finish
    "1",    # save the case: yes
    "",     # the file name offered
    "1",    # save the report: yes
    "",     # the file name offered
]) + "\n"


def test_not_a_terminal_says_so_and_points_to_assess_and_plain():
    for args in ([], ["interview"]):
        result = run_cli(*args, input="9\n1\n")
        assert result.returncode == 2
        assert "needs a terminal" in result.stderr
        assert "dystonia-triage assess" in result.stderr and "--plain" in result.stderr
        assert "Traceback" not in result.stderr
        assert result.stdout == ""


def test_plain_with_piped_answers_gives_the_assessment_and_saves_both_files(tmp_path):
    result = run_cli("interview", "--plain", input=PLAIN_BLEPHAROSPASM, cwd=tmp_path,
                     env={"PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "\x1b[" not in out  # no colour, no cursor movement
    flat = " ".join(out.split())
    assert flat.index("call emergency services now") < flat.index("-- Warning signs --")
    assert "CARE LEVEL: BOOK A NEUROLOGIST\n" in out  # the id is for educators
    assert "1. Blepharospasm (focal dystonia of the eyelids)" in out
    assert "A strong match: the answers may fit this pattern well." in out
    assert "Rules behind it" not in out  # rule ids are for educators
    case = tmp_path / "dystonia-triage-case.json"
    report = tmp_path / "dystonia-triage-report.md"
    assert stat.S_IMODE(os.stat(case).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(report).st_mode) == 0o600
    assert "Blepharospasm" in report.read_text()
    again = run_cli("assess", str(case), cwd=tmp_path,
                    env={"PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    assert again.returncode == 0
    from triage import assess, report as report_mod  # the saved case gives what was shown

    assert report_mod.text(assess(json.loads(case.read_text())), rules=False).strip() in out


def test_plain_input_that_ends_early_exits_2_without_a_traceback():
    result = run_cli("interview", "--plain", input="9\n1\n")
    assert result.returncode == 2
    assert "ended before the questionnaire was finished" in result.stderr
    assert "Traceback" not in result.stderr


def test_stop_save_resume_and_assess_the_saved_answers(tmp_path):
    env = {"PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    lines = PLAIN_BLEPHAROSPASM.splitlines()
    first = run_cli("interview", "--plain", input="\n".join(lines[:4] + ["q", "", ""]) + "\n",
                    cwd=tmp_path, env=env)
    assert first.returncode == 130
    saved = tmp_path / "dystonia-triage-answers.json"
    assert stat.S_IMODE(os.stat(saved).st_mode) == 0o600
    assert "dystonia-triage interview --resume" in first.stdout
    partial = run_cli("assess", str(saved), cwd=tmp_path, env=env)  # a FHIR response: assess reads it
    assert partial.returncode == 0 and "Blepharospasm" in partial.stdout
    second = run_cli("interview", "--plain", "--resume", str(saved), input="\n".join(lines[4:]) + "\n",
                     cwd=tmp_path, env=env)
    straight = run_cli("interview", "--plain", input=PLAIN_BLEPHAROSPASM, cwd=tmp_path, env=env)
    assert second.returncode == 0 == straight.returncode
    assert "Continuing from" in second.stdout
    assert "saved with version" not in second.stdout  # saved by this very version: no note
    result = second.stdout[second.stdout.index("-- The result --"):second.stdout.index("Choose a result")]
    assert result in straight.stdout


def test_the_answers_saved_at_the_end_can_be_used_again_to_go_on(tmp_path):
    # "Save your answers in a file, so that you can go on ...?": --resume takes that case file
    # too, and asks only what it does not answer (the warning signs, as they are now, first)
    from triage.assessment import to_case

    env = {"PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    straight = run_cli("interview", "--plain", input=PLAIN_BLEPHAROSPASM, cwd=tmp_path, env=env)
    assert straight.returncode == 0, straight.stderr
    saved = tmp_path / "dystonia-triage-case.json"
    session = IV.session(IV.record.answers_from_case(to_case(json.loads(saved.read_text()))))
    order = []
    while (q := session.next_question()) is not None:
        order.append(q.id)
        session.answer(q.id, q.quiet_answer())
    assert order[0] == "red_flags"
    lines = {"red_flags": "9", "other_regions": "9", "one_side_face": "2", "urge_before": "2",
             "family_history": "2", "history": "4"}  # as in PLAIN_BLEPHAROSPASM
    again = run_cli("interview", "--plain", "--resume", str(saved), cwd=tmp_path, env=env,
                    input="\n".join([lines[qid] for qid in order] + ["", "", "2", "2"]) + "\n")
    assert again.returncode == 0, again.stderr
    assert f"Continuing from {saved}" in " ".join(again.stdout.split())
    result = again.stdout[again.stdout.index("-- The result --"):again.stdout.index("Choose a result")]
    assert result in straight.stdout


def test_a_bad_resume_file_is_refused_naming_the_problem(tmp_path):
    bad = tmp_path / "answers.json"
    bad.write_text('{"kind": "something else"}')
    result = run_cli("interview", "--plain", "--resume", str(bad), input="")
    assert result.returncode == 2
    said = " ".join(result.stderr.split())
    assert "neither answers saved by the questionnaire (a FHIR QuestionnaireResponse) nor a case file" in said
    assert "kind: unknown field" in said and "Traceback" not in result.stderr
    result = run_cli("interview", "--plain", "--resume", str(tmp_path / "missing.json"), input="")
    assert result.returncode == 2 and "no such file" in result.stderr


def test_help_lists_the_interview_first():
    result = run_cli("--help")
    assert result.stdout.index("interview") < result.stdout.index("assess")


def test_the_questionnaires_options_work_without_naming_the_command():
    # a nurse types `dystonia-triage --for clinician` (or `./dev run --for clinician`)
    result = run_cli("--for", "clinician", "--plain", input="9\n")
    assert "the patient's history" in result.stdout and "Who is answering" not in result.stdout
    assert result.returncode == 2 and "Traceback" not in result.stderr  # the input ended early
    result = run_cli("--for", "nobody")
    assert result.returncode == 2
    assert "dystonia-triage interview: error: argument --for" in result.stderr and "clinician" in result.stderr
    assert run_cli("--version").stdout.startswith("dystonia-triage ")
    assert "COMMAND" in run_cli("--help").stdout


# --- a real pseudo-terminal ------------------------------------------------------------------

DOWN, UP, ENTER, SPACE = "\x1b[B", "\x1b[A", "\r", " "
COLOUR = re.compile(r"\x1b\[[0-9;]*(?:3[0-9]|4[0-9]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")


def installed_command() -> str:
    path = Path(sys.executable).parent / "dystonia-triage"
    if not path.exists():
        pytest.skip("the console script is not installed in this environment")
    return str(path)


def test_the_installed_command_in_a_terminal_answers_a_story_and_saves_the_report(tmp_path):
    pexpect = pytest.importorskip("pexpect")
    env = {**os.environ, "NO_COLOR": "1", "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(installed_command(), [], cwd=str(tmp_path), env=env, encoding="utf-8",
                          dimensions=(50, 120), timeout=30)
    screen = io.StringIO()
    child.logfile_read = screen
    try:
        steps = [
            ("Is any of these new, or suddenly much worse", DOWN * 8 + SPACE + ENTER),  # none of these
            ("Who is answering", ENTER),                               # myself
            ("How old are you", "61" + ENTER),
            ("Which of these do you notice", DOWN * 7 + SPACE + ENTER),  # blinking
            ("medicine for psychosis", ENTER),                        # no
            ("when the movements began", "58" + ENTER),
            ("any other part of your body", DOWN * 8 + SPACE + ENTER),  # no other part
            ("lightly touching a spot", "h"),                         # why?
            ("Why this question is asked", ""),
            ("Blepharospasm (focal dystonia", ""),
            ("lightly touching a spot", ENTER),                       # yes
            ("one side of your face", DOWN + ENTER),                  # no
            ("an urge, or a build-up", DOWN + ENTER),                 # no
            ("How did the movements begin", ENTER),                   # gradually
            ("anyone in your family", DOWN + ENTER),                  # no
            ("Does any of these apply to you", DOWN * 3 + SPACE + ENTER),  # none of these
            ("Check your answers", ENTER),                            # show the result
            ("CARE LEVEL: BOOK A NEUROLOGIST", ""),
            ("Blepharospasm", ""),
            ("Only a neurologist", ""),
            ("see how it was reached", ENTER),                        # finish
            ("Save your answers in a file", ENTER),                   # no
            ("Save the report in a file", UP + ENTER),                # yes
            ("File name", ENTER),                                     # the name offered
            ("Saved:", ""),
        ]
        for text, keys in steps:
            child.expect_exact(text)
            if keys:
                child.send(keys)
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert not COLOUR.search(screen.getvalue())  # NO_COLOR: no colour codes, only plain and bold text
    report = tmp_path / "dystonia-triage-report.md"
    assert "Blepharospasm" in report.read_text()
    assert stat.S_IMODE(os.stat(report).st_mode) == 0o600
    assert not (tmp_path / "dystonia-triage-case.json").exists()


def test_plain_h_says_what_the_age_at_onset_would_change():
    # no warning signs, myself, 61, blinking, no medicine; then h at the age at onset (the input then ends)
    result = run_cli("interview", "--plain", input="9\n1\n61\n8\n1\nh\n")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    why = " ".join(result.stdout[result.stdout.index("Why this question is asked"):].split())
    assert "If “20 or younger”: adds the possible cause “An inherited (genetic) cause”" in why
    assert "If “30 to 49”: adds tests for Wilson disease." in why
    assert "Every early-onset dystonia deserves a levodopa trial" in why


FIRST_PAINT = '''
import sys
from pathlib import Path
from triage.terminal import firstscreen, prompts
firstscreen.record_file = lambda: Path(sys.argv[1])
ask = prompts.KeysIO._ask
def _ask(self, question, extra=True):
    def drawn(_app):
        question.application.after_render -= drawn
        loaded = [m for m in ("pydantic", "triage.knowledge", "triage.engine") if m in sys.modules]
        Path(sys.argv[2]).write_text(" ".join(loaded) or "nothing")
    question.application.after_render += drawn
    return ask(self, question, extra)
prompts.KeysIO._ask = _ask
from triage.cli import main
sys.exit(main([]))
'''


def test_the_second_start_draws_the_first_question_before_loading_the_knowledge_base(tmp_path):
    """The first start records its first screen; the next draws it at once and loads the
    knowledge base behind it; both end the same on Ctrl-C."""
    pexpect = pytest.importorskip("pexpect")
    env = {**os.environ, "NO_COLOR": "1", "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as a user's: the record is kept like byte-code
    record, note = tmp_path / "first-screen.json", tmp_path / "loaded"
    seen = []
    for _start in range(2):
        child = pexpect.spawn(sys.executable, ["-c", FIRST_PAINT, str(record), str(note)], cwd=str(tmp_path),
                              env=env, encoding="utf-8", dimensions=(50, 120), timeout=30)
        screen = io.StringIO()
        child.logfile_read = screen
        try:
            child.expect_exact("Is any of these new, or suddenly much worse")
            child.expect_exact("(Space to tick")
            child.sendcontrol("c")
            child.expect(pexpect.EOF)
        finally:
            child.close(force=True)
        seen.append((note.read_text(), child.exitstatus, screen.getvalue().split("\n")[-2].strip()))
        assert record.exists()
    (first, code1, end1), (second, code2, end2) = seen
    assert "pydantic" in first and "triage.knowledge" in first  # the usual way: loaded before
    assert second == "nothing"  # drawn ahead: nothing of the knowledge base or the engine yet
    assert code1 == code2 == 130 and end1 == end2

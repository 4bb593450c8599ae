"""Batches as JSON Lines: one output line per input line, in order, streamed; a bad line gets
an error line naming its number and field, and exit code 2, never a traceback."""

from __future__ import annotations

import io
import json
import subprocess
import sys

from tests.conftest import ROOT, case, run_cli
from triage import assess, stream

CASES = [
    case(symptoms=["eye_blinking"], features=["sensory_trick"], age=61, onset_age=58),
    case(regions=["trunk", "neck", "upper_limb_left"], age=12),
    case(symptoms=["neck_craning"], dopamine_blocker="recent", red_flags=["eyes_stuck_upward"]),
    case(),
]


def expected(c: dict) -> dict:
    return json.loads(assess(c).model_dump_json())


def lines(text: str) -> list[dict]:
    return [json.loads(x) for x in text.splitlines()]


def test_each_line_gives_its_assessment_in_order():
    r = run_cli("assess", "-", "--format", "jsonl", input="".join(json.dumps(c) + "\n" for c in CASES))
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # no progress line: standard error is not a terminal
    assert lines(r.stdout) == [expected(c) for c in CASES]


def test_the_same_as_a_json_batch():
    jsonl = run_cli("assess", "-", "--format", "jsonl", input="\n".join(json.dumps(c) for c in CASES))
    batch = run_cli("assess", "-", "--format", "json", input=json.dumps(CASES))
    assert lines(jsonl.stdout) == json.loads(batch.stdout)


def test_a_json_array_is_read_one_case_at_a_time():
    r = run_cli("assess", "-", "--format", "jsonl", input=json.dumps(CASES, indent=2))
    assert r.returncode == 0, r.stderr
    assert lines(r.stdout) == [expected(c) for c in CASES]


def test_a_bad_line_gets_an_error_line_the_others_their_assessment_and_exit_2():
    text = "\n".join([json.dumps(CASES[0]), "", json.dumps(case(age=130, symptoms=["eye_blink"])),
                      "{not json", json.dumps(CASES[1])]) + "\n"
    r = run_cli("assess", "-", "--format", "jsonl", input=text)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    out = lines(r.stdout)
    assert len(out) == 4  # the blank line is skipped
    assert out[0] == expected(CASES[0]) and out[3] == expected(CASES[1])
    assert out[1]["error"]["line"] == 3
    assert any(p.startswith("age:") for p in out[1]["error"]["problems"])
    assert any(p.startswith("symptoms[0]:") for p in out[1]["error"]["problems"])
    assert out[2]["error"]["line"] == 4 and "not valid JSON" in out[2]["error"]["problems"][0]
    assert "line 3: age:" in r.stderr and "line 4: not valid JSON" in r.stderr
    assert "2 of 4" in r.stderr


def test_a_line_too_long_is_refused_alone():
    huge = json.dumps(case(symptoms=["eye_blinking"] * (stream.MAX_LINE_BYTES // 10)))
    r = run_cli("assess", "-", "--format", "jsonl", input=huge + "\n" + json.dumps(CASES[0]) + "\n")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    out = lines(r.stdout)
    assert out[0]["error"]["line"] == 1 and "longer than" in out[0]["error"]["problems"][0]
    assert out[1] == expected(CASES[0])


def test_an_empty_stream_is_a_usage_error():
    r = run_cli("assess", "-", "--format", "jsonl", input="\n\n")
    assert r.returncode == 2 and "empty" in r.stderr and r.stdout == ""


def test_results_stream_out_while_the_input_is_still_open():
    proc = subprocess.Popen([sys.executable, "-m", "triage", "assess", "-", "--format", "jsonl"], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with proc:
        try:
            for c in CASES[:2]:
                proc.stdin.write(json.dumps(c) + "\n")
                proc.stdin.flush()
                assert json.loads(proc.stdout.readline()) == expected(c)  # before the next line is written
            proc.stdin.close()
            assert proc.wait(timeout=60) == 0
        finally:
            proc.kill()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_goes_to_a_terminal_on_stderr_never_to_the_output(monkeypatch):
    monkeypatch.setattr(stream, "PROGRESS_AFTER_S", 0.0)
    monkeypatch.setenv("TERM", "xterm")
    clock = iter(range(0, 10_000))
    monkeypatch.setattr(stream.time, "monotonic", lambda: float(next(clock)))
    out, err = io.StringIO(), _Terminal()
    text = "".join(json.dumps(c) + "\n" for c in CASES * 3).encode()
    outcome = stream.assess_stream(io.BufferedReader(io.BytesIO(text)), out, "test", err)
    assert outcome.count == len(CASES) * 3 and outcome.bad_count == 0
    assert lines(out.getvalue()) == [expected(c) for c in CASES * 3]
    assert "assessed" in err.getvalue() and err.getvalue().endswith("\r\x1b[K")
    quiet = io.StringIO()  # not a terminal: nothing at all
    stream.assess_stream(io.BufferedReader(io.BytesIO(text)), io.StringIO(), "test", quiet)
    assert quiet.getvalue() == ""

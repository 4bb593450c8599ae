"""The interview's first screen drawn ahead (triage/terminal/firstscreen.py): an interview
that started from a record says, leaves on the screen, asks, answers and saves exactly what one
started the usual way does; a record that does not match costs a redraw, never a wrong answer; a stale or
untrusted record is not used."""

from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path
from typing import Optional

import pyte
import pytest
from prompt_toolkit.data_structures import Size
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output.vt100 import Vt100_Output

from tests.conftest import ROOT
from tests.interview_keys import FINISH, IV, Keys, _CACHED, _LOADERS, answer, path
from triage.commands.interview import first_screen_ahead, preset
from triage.terminal import firstscreen
from triage.terminal.interview import TerminalInterview, words
from triage.terminal.prompts import KeysIO, text_width

import prompt_toolkit.application.application as pt_application

WIDTH = 80
ROWS = 60
TEXT = text_width(WIDTH)  # the columns the interview wraps its text to
BLEPHAROSPASM = {"red_flags": [], "respondent": "self", "age": 61, "symptoms": ["eye_blinking"],
                 "dopamine_blocker": "none", "onset_age": 58, "sensory_trick": "yes"}


def keys_for(script: dict, audience: Optional[str] = None) -> str:
    return "".join(step.keys() for step in path(script, audience)) + FINISH


def interview(keys: str, *, audience: Optional[str] = None, record: Optional[Path] = None,
              kept: Optional[list] = None):
    """One interview on ``keys`` at a terminal of WIDTH columns: drawn ahead from the record in
    ``record`` when one is there for it, else started the usual way (what it draws first is then
    appended to ``kept``). The exit code, what was said, what prompt_toolkit left on the screen
    (:func:`seen`), the session and whether it was drawn ahead."""
    out, screen = io.StringIO(), io.StringIO()
    try:
        for name, cached in _CACHED.items():
            setattr(pt_application, name, cached)
        with create_pipe_input() as inp:
            inp.send_text(keys)
            inp.close()
            output = Vt100_Output(screen, lambda: Size(rows=ROWS, columns=WIDTH), term="xterm")

            def keys_io(w):
                return KeysIO(w, out=out, input=inp, output=output, width=WIDTH)

            def load():
                session = IV.session()
                preset(session, audience)
                return IV, session

            ahead = None
            if record is not None:
                ahead = first_screen_ahead(audience, width=WIDTH, make_io=keys_io, path=record, load=load)
            if ahead is not None:
                iv, session = ahead.loaded
                kio = ahead.primed(keys_io(words(iv)))
            else:
                iv, session = load()
                kio = firstscreen.Recorder(keys_io(words(iv)), lambda s, w: kept.append((s, w)))
            flow = TerminalInterview(kio, session, educator=audience == "educator", err=out, warm_up=False)
            code = flow.run()
    finally:
        for name, loader in _LOADERS.items():
            setattr(pt_application, name, loader)
    return code, out.getvalue(), seen(screen.getvalue()), session, ahead is not None


def seen(screen: str) -> list[tuple[str, tuple]]:
    """What prompt_toolkit's prompts leave on the screen when the interview ends: every line of
    the terminal, those scrolled off the top included, with each character's colours and
    emphasis. (Not the bytes: prompt_toolkit renders whenever its event loop gets to it, so how
    many renders a run makes, and which, depends on the machine's timing. What the interview
    says between prompts is compared on its own.)"""
    terminal = pyte.HistoryScreen(WIDTH, ROWS, history=100_000)
    pyte.Stream(terminal).feed(screen)
    lines = [[line[x] for x in range(WIDTH)] for line in terminal.history.top]
    lines += [[terminal.buffer[y][x] for x in range(WIDTH)] for y in range(ROWS)]
    out = []
    for chars in lines:
        text = "".join(c.data for c in chars).rstrip()
        out.append((text, tuple((c.fg, c.bg, c.bold, c.italics, c.underscore, c.reverse) for c in chars[:len(text)])))
    while out and not out[-1][0]:
        out.pop()
    return out


@pytest.fixture
def record(tmp_path, monkeypatch):
    """The record file of these tests (never the package's), and a way to fill it by running
    an interview the usual way."""
    target = tmp_path / "first-screen.json"

    def fill(audience: Optional[str] = None) -> Path:
        kept: list = []
        interview(Keys.CTRL_C, audience=audience, kept=kept)
        (screen, width), = kept
        assert firstscreen.save(audience, width, screen, target)
        return target

    return fill


STORIES = {
    "a whole story, to the result": BLEPHAROSPASM,
    "an emergency at the first question": {"red_flags": ["breathing_difficulty"], "respondent": "self"},
}


@pytest.mark.parametrize("audience", [None, "clinician", "educator"])
@pytest.mark.parametrize("story", sorted(STORIES))
def test_an_interview_drawn_ahead_goes_exactly_as_one_started_the_usual_way(record, story, audience):
    script = dict(STORIES[story])
    if audience:
        script.pop("respondent", None)
    keys = keys_for(script, audience)
    usual = interview(keys, audience=audience, kept=[])
    drawn = interview(keys, audience=audience, record=record(audience))
    assert drawn[4] and not usual[4]  # the second was drawn ahead
    assert drawn[0] == usual[0]
    assert drawn[1] == usual[1]  # every line said, once, in the same order
    assert drawn[2] == usual[2]  # the same on the screen, line for line
    assert drawn[3].answers == usual[3].answers
    assert drawn[3].case() == usual[3].case()


def test_why_and_ctrl_c_at_the_first_question_drawn_ahead_do_what_they_always_do(record):
    for keys in (Keys.WHY + Keys.CTRL_C, Keys.CTRL_C):
        usual = interview(keys, kept=[])
        drawn = interview(keys, record=record())
        assert drawn[4]
        assert (drawn[0], drawn[1], drawn[2]) == (usual[0], usual[1], usual[2])
    assert usual[0] == 130


def test_a_record_that_differs_costs_a_redraw_and_its_answer_is_never_used(record, tmp_path):
    target = record()
    data = json.loads(target.read_text())
    (slot, screen), = data["screens"].items()
    screen["args"]["message"] = "An older wording of the warning signs?"
    target.write_text(json.dumps(data))
    breathing = answer("red_flags", ["breathing_difficulty"])
    none = answer("red_flags", [])
    code, out, drawn, session, ahead = interview(breathing + none + Keys.CTRL_C, record=target)
    assert ahead
    screen_text = "\n".join(text for text, _style in drawn)
    assert "? An older wording" in screen_text  # what the stale record drew
    assert "? Is any of these new" in screen_text  # today's question, asked again
    assert session.answers["red_flags"] == []  # the answer given to today's question only
    assert "!!!!!!!!" not in out  # no emergency shown: breathing was ticked on the stale screen only


def test_what_is_recorded_is_what_an_interview_draws_before_its_first_prompt(record):
    code, out, _drawn, _session, _ahead = interview(Keys.CTRL_C, kept=(kept := []))
    (screen, width), = kept
    assert width == TEXT
    assert screen.prompt == "checkbox" and screen.question == "red_flags"
    assert out.startswith("\n".join(screen.lines) + "\n")
    assert screen.words == firstscreen.asdict(words(IV))


def test_building_the_records_gives_what_interviews_record(tmp_path):
    target = tmp_path / "first-screen.json"
    assert firstscreen.build(width=TEXT, path=target) == ["anyone", "self", "caregiver", "clinician",
                                                                "educator"]
    saved = json.loads(target.read_text())["screens"]
    for audience in (None, "clinician", "educator"):
        kept: list = []
        interview(Keys.CTRL_C, audience=audience, kept=kept)
        (screen, width), = kept
        assert saved[firstscreen.slot(audience, width)] == firstscreen.asdict(screen)


def test_a_record_is_used_only_for_its_audience_and_width_under_todays_key(record, monkeypatch):
    target = record()
    assert firstscreen.lookup(None, TEXT, target) is not None
    assert firstscreen.lookup("clinician", TEXT, target) is None
    assert firstscreen.lookup(None, 60, target) is None
    monkeypatch.setattr(firstscreen, "key", lambda: "another key")
    assert firstscreen.lookup(None, TEXT, target) is None


def test_the_key_changes_with_a_knowledge_file_a_rule_file_or_the_source(tmp_path, monkeypatch):
    import triage.paths

    for name in ("knowledge", "rules"):
        shutil.copytree(ROOT / name, tmp_path / name)
    monkeypatch.setattr(triage.paths, "knowledge_dir", lambda: tmp_path / "knowledge")
    monkeypatch.setattr(triage.paths, "rules_dir", lambda: tmp_path / "rules")
    before = firstscreen.key()
    assert firstscreen.key() == before
    for name in ("knowledge", "rules"):
        changed = sorted((tmp_path / name).iterdir())[0]
        changed.write_bytes(changed.read_bytes() + b"\n")
        after = firstscreen.key()
        assert after != before
        before = after
    monkeypatch.setattr(firstscreen, "FORMAT", firstscreen.FORMAT + 1)
    assert firstscreen.key() != before


def test_a_damaged_or_untrusted_record_is_not_used(record):
    target = record()
    good = target.read_bytes()
    os.chmod(target, 0o666)
    assert firstscreen.lookup(None, TEXT, target) is None
    os.chmod(target, 0o644)
    screen = json.loads(good)["screens"][firstscreen.slot(None, TEXT)]
    args = screen["args"]
    damaged_screens = [
        {"lines": []},
        {**screen, "prompt": "_ask"},
        {**screen, "words": {}},
        {**screen, "args": {k: v for k, v in args.items() if k != "options"}},
        {**screen, "args": {**args, "options": [["only a label"]]}},
        {**screen, "args": {**args, "message": 42}},
        {**screen, "question": None},
    ]
    for damaged in [b"", b"{not json", b"[]"] + [
            json.dumps({"key": firstscreen.key(), "screens": {firstscreen.slot(None, TEXT): d}}).encode()
            for d in damaged_screens]:
        target.write_bytes(damaged)
        assert firstscreen.lookup(None, TEXT, target) is None, damaged
    target.write_bytes(good)
    assert firstscreen.lookup(None, TEXT, target) is not None


def test_saving_keeps_the_other_screens_of_todays_key_and_drops_stale_ones(record, monkeypatch):
    target = record()
    kept: list = []
    interview(Keys.CTRL_C, audience="clinician", kept=kept)
    (screen, width), = kept
    assert firstscreen.save("clinician", width, screen, target)
    assert sorted(json.loads(target.read_text())["screens"]) == ["clinician|78", "|78"]
    monkeypatch.setattr(firstscreen, "key", lambda: "tomorrow's key")
    assert firstscreen.save("clinician", width, screen, target)
    assert sorted(json.loads(target.read_text())["screens"]) == ["clinician|78"]

"""Privacy: what a person answers stays on their machine and out of sight.

* no network connection, during complete runs of every command;
* nothing written unless asked (not in the working folder, the home folder or the temp folder);
* files the tool saves are owner-only and written atomically;
* nothing the person answered goes to the logs.

Every command registered in ``triage/commands/__init__.py`` must have sample arguments in
``SAMPLES`` below: a new command without them fails these tests until someone adds them.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.inprocess import run_main
from triage.commands import MODULES

# A case whose answers are easy to spot anywhere they leak to.
CASE = {
    "version": 1, "respondent": "caregiver", "age": 47, "onset_age": 43,
    "symptoms": ["neck_craning", "hand_difficulty"], "features": ["sensory_trick"],
    "onset": "gradual", "course": "progressive", "dopamine_blocker": "long_term",
    "history": ["family_history"], "red_flags": ["recent_head_injury"],
}
ANSWERS = ["47", "43", *CASE["symptoms"], *CASE["features"], *CASE["history"], *CASE["red_flags"],
           "caregiver", "long_term", "54301"]  # the last: a place typed to find a specialist

# Sample runs of each command: (arguments, standard input). "{case}", "{batch}" and "{fhir}"
# (a QuestionnaireResponse) stand for files in a separate input folder. Each run must be complete (exit 0) and must not ask
# for a file to be written.
SAMPLES: dict[str, list[tuple[list[str], bytes]]] = {
    "assess": [
        (["assess", "{case}"], b""),
        (["assess", "{batch}", "--format", "json"], b""),
        (["assess", "-", "--format", "markdown"], json.dumps(CASE).encode()),
        (["assess", "{case}", "--format", "html"], b""),
        (["assess", "{case}", "--format", "summary"], b""),
        (["assess", "{case}", "--format", "fhir"], b""),
        (["assess", "{fhir}"], b""),  # a FHIR QuestionnaireResponse read back
    ],
    "interview": [
        # a whole blepharospasm interview answered line by line, declining to save anything
        (["interview", "--plain"],
         b"9\n1\n61\n8\n1\n58\n9\n1\n2\n2\n1\n2\n4\n\n\n2\n2\n"),
        # ... finding a specialist near a ZIP code after the result
        (["interview", "--plain"],
         b"9\n1\n61\n8\n1\n58\n9\n1\n2\n2\n1\n2\n4\n\n1\n54301\n\n2\n2\n"),
    ],
    "clinics": [
        (["clinics", "--near", "54301"], b""),
        (["clinics", "--near", "West Allis, WI", "--service", "movement_disorders", "--format", "json"], b""),
    ],
    "explain": [
        (["explain", "{case}"], b""),
        (["explain", "{case}", "--format", "json", "--add", "region=trunk", "--remove", "feature=sensory_trick"], b""),
        (["explain", "writers_cramp"], b""),
    ],
    "rules": [
        (["rules"], b""),
        (["rules", "--format", "markdown"], b""),
        (["rules", "--graph", "dot"], b""),
    ],
    "cases": [
        (["cases"], b""),
        (["cases", "show", "writers_cramp", "--format", "json"], b""),
        (["cases", "quiz", "--plain", "writers_cramp"], b"1\n"),
    ],
    "check": [
        (["check"], b""),
    ],
    "fhir": [
        (["fhir", "questionnaire"], b""),
    ],
    "schema": [
        (["schema"], b""),
        (["schema", "case"], b""),
    ],
    # A server listens on a socket by design, so its complete run here is its help; a whole
    # visit through the web app (no network, nothing written, no answer logged) is
    # test_web.py::test_a_whole_visit_uses_no_network_writes_nothing_and_logs_no_answer.
    "serve": [
        (["serve", "--help"], b""),
    ],
}


def samples_for(name: str, inputs: Path) -> list[tuple[list[str], bytes]]:
    if name not in SAMPLES:
        pytest.fail(
            f"the command {name!r} is registered in triage/commands/__init__.py but has no sample "
            f"arguments: add a complete run of it to SAMPLES in tests/test_privacy.py, so that it "
            f"is checked for network use, stray files and answers in the logs"
        )
    inputs.mkdir(exist_ok=True)
    (inputs / "case.json").write_text(json.dumps(CASE))
    (inputs / "batch.json").write_text(json.dumps([CASE, {"version": 1, "symptoms": ["eye_blinking"]}]))
    from triage import fhir
    from triage.assessment import to_case

    (inputs / "response.json").write_text(json.dumps(fhir.response_from_case(to_case(CASE))))
    fill = {"{case}": str(inputs / "case.json"), "{batch}": str(inputs / "batch.json"),
            "{fhir}": str(inputs / "response.json")}
    return [([fill.get(a, a) for a in args], stdin) for args, stdin in SAMPLES[name]]


def test_every_sample_names_a_registered_command():
    assert set(SAMPLES) <= set(MODULES), f"samples for commands that do not exist: {set(SAMPLES) - set(MODULES)}"


# --- no network -------------------------------------------------------------------------------

class NetworkBlocked(OSError):
    pass


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to reach the network raises, and is recorded even if something catches it.
    Local socket pairs (asyncio's wake-up pipe, used by the terminal questionnaire) stay allowed."""
    attempts: list[str] = []
    real_socket = socket.socket

    def refuse(what: str):
        attempts.append(what)
        raise NetworkBlocked(f"network use blocked in tests: {what}")

    class GuardedSocket(real_socket):
        def __init__(self, family=-1, type=-1, proto=-1, fileno=None):
            if fileno is None and family in (-1, socket.AF_INET, socket.AF_INET6):
                refuse(f"socket(family={family})")
            super().__init__(family, type, proto, fileno)

        def connect(self, address):
            refuse(f"connect({address!r})")

        def connect_ex(self, address):
            refuse(f"connect_ex({address!r})")

        def sendto(self, *args):
            refuse("sendto")

    monkeypatch.setattr(socket, "socket", GuardedSocket)
    for name in ("create_connection", "getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr"):
        monkeypatch.setattr(socket, name, lambda *a, _n=name, **k: refuse(_n))
    return attempts


def test_the_network_guard_catches_a_connection(no_network):
    import urllib.request

    with pytest.raises(Exception):
        urllib.request.urlopen("http://example.invalid/", timeout=1)
    with pytest.raises(NetworkBlocked):
        socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    assert no_network


@pytest.mark.parametrize("name", MODULES)
def test_no_command_makes_a_network_connection(name, no_network, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for args, stdin in samples_for(name, tmp_path / "inputs"):
        result = run_main(args, stdin)
        assert result.code == 0, (args, result.err[-1000:])
    assert no_network == [], f"{name} tried to use the network: {no_network}"


# --- nothing written unless asked ---------------------------------------------------------------

def everything_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("name", MODULES)
def test_no_command_writes_a_file_unless_asked(name, tmp_path, monkeypatch):
    work, home, temp = tmp_path / "work", tmp_path / "home", tmp_path / "temp"
    for folder in (work, home, temp):
        folder.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(home))
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    for args, stdin in samples_for(name, tmp_path / "inputs"):
        result = run_main(args, stdin)
        assert result.code == 0, (args, result.err[-1000:])
    for folder in (work, home, temp):
        assert everything_under(folder) == [], f"{name} wrote {everything_under(folder)} in {folder.name}"


# --- saved files: owner-only, atomic ----------------------------------------------------------

# Commands that save a file when asked: (arguments with "{out}" for the file to write).
SAVING = [
    ["fhir", "questionnaire", "--output", "{out}"],
]


@pytest.mark.parametrize("args", SAVING, ids=" ".join)
def test_a_command_asked_to_save_writes_that_one_file_owner_only(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    old = os.umask(0o022)
    try:
        result = run_main([a.replace("{out}", "saved.json") for a in args])
    finally:
        os.umask(old)
    assert result.code == 0, result.err
    assert everything_under(tmp_path) == ["saved.json"]
    assert mode(tmp_path / "saved.json") == 0o600

def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_saved_file_is_owner_only_whatever_the_umask(tmp_path):
    from triage.files import save_text

    old = os.umask(0)  # the most permissive umask: a plain open() would make it world-writable
    try:
        path = save_text(tmp_path / "report.md", "private answers")
    finally:
        os.umask(old)
    assert mode(path) == 0o600
    assert path.read_text() == "private answers"
    assert everything_under(tmp_path) == ["report.md"]


def test_saving_over_a_readable_file_makes_it_owner_only(tmp_path):
    from triage.files import save_text

    path = tmp_path / "report.md"
    path.write_text("old")
    path.chmod(0o644)
    save_text(path, "new")
    assert mode(path) == 0o600 and path.read_text() == "new"


@pytest.mark.parametrize("fail_in", ["write", "fsync", "replace"])
def test_an_interrupted_save_leaves_no_partial_file(tmp_path, monkeypatch, fail_in):
    from triage import files

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    if fail_in == "write":  # half the text written, then Ctrl-C
        real_fdopen = files.os.fdopen

        def fdopen(*args, **kwargs):
            fh = real_fdopen(*args, **kwargs)
            real_write = fh.write

            class Half:
                def __getattr__(self, name):
                    return getattr(fh, name)

                def __enter__(self):
                    return self

                def __exit__(self, *exc):
                    return fh.__exit__(*exc)

                def write(self, text):
                    real_write(text[: len(text) // 2])
                    fh.flush()
                    raise KeyboardInterrupt

            return Half()

        monkeypatch.setattr(files.os, "fdopen", fdopen)
    else:
        monkeypatch.setattr(files.os, fail_in, interrupt)
    with pytest.raises(KeyboardInterrupt):
        files.save_text(tmp_path / "report.md", "x" * 100_000)
    assert everything_under(tmp_path) == []  # neither the target nor a temporary file


def test_an_interrupted_save_keeps_the_previous_file_whole(tmp_path, monkeypatch):
    from triage import files

    target = tmp_path / "report.md"
    target.write_text("the previous report")
    monkeypatch.setattr(files.os, "fsync", lambda fd: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        files.save_text(target, "a new report " * 10_000)
    assert target.read_text() == "the previous report"
    assert everything_under(tmp_path) == ["report.md"]


KILLED_MID_WRITE = """
import os, signal, sys
from triage import files
def die(fd):  # the data is written but not yet in place: the worst moment to be killed
    os.kill(os.getpid(), signal.SIGKILL)
files.os.fsync = die
files.save_text(sys.argv[1], "y" * 1_000_000)
"""


@pytest.mark.parametrize("existed", [False, True])
def test_a_process_killed_while_saving_leaves_the_target_whole_or_absent(tmp_path, existed):
    target = tmp_path / "report.md"
    if existed:
        target.write_text("the previous report")
    proc = subprocess.run([sys.executable, "-c", KILLED_MID_WRITE, str(target)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    if existed:
        assert target.read_text() == "the previous report"
    else:
        assert not target.exists()
    # a killed process cannot clean up; what remains is a hidden, owner-only temporary file
    for leftover in tmp_path.glob(".report.md.*.part"):
        assert mode(leftover) == 0o600


# --- nothing the person answered in the logs -------------------------------------------------

class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(f"{record.name} {record.levelname} {record.getMessage()} {record.args!r}")


@pytest.fixture
def debug_logs():
    """Every logger at DEBUG, every record captured, for the duration of the test."""
    capture = Capture()
    root = logging.getLogger()
    loggers = [root] + [lg for lg in logging.root.manager.loggerDict.values() if isinstance(lg, logging.Logger)]
    saved = [(lg, lg.level, lg.disabled) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        lg.disabled = False
        if not lg.propagate:
            lg.addHandler(capture)
    root.addHandler(capture)
    logging.disable(logging.NOTSET)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        for lg, level, disabled in saved:
            lg.setLevel(level)
            lg.disabled = disabled
            if capture in lg.handlers:
                lg.removeHandler(capture)


def test_the_log_capture_sees_a_debug_record_from_a_project_logger(debug_logs):
    logging.getLogger("triage.anything").debug("age %s", 47)
    assert any("age 47" in line for line in debug_logs.lines)


@pytest.mark.parametrize("name", MODULES)
def test_no_answer_goes_to_the_logs(name, debug_logs, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for args, stdin in samples_for(name, tmp_path / "inputs"):
        result = run_main(args, stdin)
        assert result.code == 0, (args, result.err[-1000:])
    logged = "\n".join(debug_logs.lines)
    leaked = [a for a in ANSWERS if re.search(rf"\b{re.escape(a)}\b", logged)]
    assert not leaked, f"{name} logged answers {leaked}:\n{logged[:2000]}"


def test_assessing_in_the_library_logs_no_answer(debug_logs):
    from triage import assess

    assess(CASE)
    logged = "\n".join(debug_logs.lines)
    assert not [a for a in ANSWERS if re.search(rf"\b{re.escape(a)}\b", logged)], logged[:2000]

"""The interview's first screen, drawn before the knowledge base is loaded.

Before its first question the interview imports pydantic and the knowledge models and loads
the knowledge base (about 100 ms of a 250 ms start), and prompt_toolkit (most of the rest).
What it then draws — the welcome, and the first question with its choices — is the same every
time for the same files, the same audience (``--for``) and the same width. So:

* an interview that starts the usual way keeps what it drew before its first prompt, as plain
  JSON beside the byte-code (:class:`Recorder`): the lines it said, the prompt's kind and
  arguments, and the words of the prompts;
* the next start finds that record under a key made of the source, knowledge and rules files
  (their sizes and times of change, as for byte-code) and the versions (:func:`lookup`), draws it at once, asks the question, and loads the
  knowledge base and builds the engine in the background from the moment the prompt is on the
  screen (:func:`ask_ahead`), while the person reads;
* the interview then runs exactly as it always does, through :class:`Primed`: each line it
  says and its first prompt are checked against what was drawn, and the answer already given
  (or the Ctrl-C pressed) is given back instead of asking again. The interview's rules stay in
  one place; this only saves the wait.

A record that does not match what the interview would draw (which its key should prevent) costs
a redraw, never a wrong answer: from the first difference on, the interview draws and asks as
usual, the first question again. The record is written like the knowledge base's cache
(:mod:`triage.kbcache`): only when byte-code would be, atomically, owner-writable, and trusted
only when others cannot write it. It holds no answer: only what is drawn before any.
"""

from __future__ import annotations

import inspect
import json
import os
import sys
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Generic, Optional, TypeVar

from triage.terminal.prompts import KeysIO, Option, Words, text_width

FORMAT = 1  # bump when the record changes shape
ASKS = ("checkbox", "select", "number", "confirm", "text")  # every prompt of a KeysIO
# the prompts a first question can be, and the arguments each is recorded with (all but its reader)
PROMPTS = {name: set(inspect.signature(getattr(KeysIO, name)).parameters) - {"self", "read"}
           for name in ("checkbox", "select", "number")}
_PACKAGE = Path(__file__).resolve().parent.parent

T = TypeVar("T")


def record_file() -> Path:
    """Where the records live (one file per Python version, beside the byte-code)."""
    tag = sys.implementation.cache_tag or "python"
    return _PACKAGE / "__pycache__" / f"first-screen.{tag}.json"


def _files(top: Path, suffixes: tuple[str, ...]) -> list[str]:
    """Each file under ``top`` ending in one of ``suffixes``, as its path, size and time of
    change (what Python checks its byte-code against)."""
    found, stack = [], [top]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        stack.append(Path(entry.path))
                elif entry.name.endswith(suffixes):
                    st = entry.stat()
                    found.append(f"{os.path.relpath(entry.path, top)}\0{st.st_size}\0{st.st_mtime_ns}")
    return sorted(found)


def key() -> str:
    """What a first screen depends on, as a digest: the package's source files, the knowledge
    and rules files (each by its size and time of change, as byte-code is checked), and the
    versions of dystonia-triage, Python and this format."""
    try:
        from _blake2 import blake2b  # hashlib's, without importing OpenSSL's hashes
    except ImportError:  # pragma: no cover - a Python built without it
        from hashlib import blake2b

    from triage import __version__
    from triage.paths import knowledge_dir, rules_dir

    digest = blake2b(digest_size=20)
    digest.update(f"{FORMAT}\0{__version__}\0{sys.version}\0".encode())
    for top, suffixes in ((_PACKAGE, (".py",)), (knowledge_dir(), ("",)), (rules_dir(), ("",))):
        digest.update(f"{top}\0".encode())
        for entry in _files(top, suffixes):
            digest.update(entry.encode() + b"\0")
    return digest.hexdigest()


def _arguments(prompt: str, args: tuple, kwargs: dict) -> tuple[dict, Any]:
    """A call of ``prompt`` as the record keeps it: its arguments by name with the defaults
    filled in, and apart, its reader (``None`` when it takes none)."""
    bound = inspect.signature(getattr(KeysIO, prompt)).bind(None, *args, **kwargs)
    bound.apply_defaults()
    named = dict(bound.arguments)
    del named["self"]
    return named, named.pop("read", None)


def _plain(value: Any) -> Any:
    """``value`` as JSON gives it back (tuples as lists, options as lists), for comparing."""
    return json.loads(json.dumps(value, default=lambda o: [o.label, o.value, o.description]))


@dataclass
class Screen:
    """What the interview draws before its first answer."""

    lines: list[str]  # said, in order
    prompt: str  # the first prompt: one of PROMPTS
    args: dict  # its arguments, as JSON (options as [label, value, description])
    question: Optional[str]  # the question whose answer the prompt reads (checkbox, number)
    words: dict  # the prompts' own words (:class:`~triage.terminal.prompts.Words`)


def slot(audience: Optional[str], width: int) -> str:
    return f"{audience or ''}|{width}"


def lookup(audience: Optional[str], width: int, path: Optional[Path] = None) -> Optional[Screen]:
    """The first screen recorded for ``audience`` at ``width`` columns under today's key;
    ``None`` when there is none (or the file is stale, damaged or writable by others)."""
    from triage import kbcache

    data = kbcache.read_trusted(path or record_file())
    if data is None:
        return None
    try:
        record = json.loads(data)
        if record.get("key") != key():
            return None
        found = record["screens"].get(slot(audience, width))
        return _checked(Screen(**found)) if found else None
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def _checked(screen: Screen) -> Optional[Screen]:
    """``screen`` when it has the shape a record is written in (else ``None``); raises
    ``TypeError`` or ``ValueError`` on parts that are not."""
    Words(**screen.words)
    args = screen.args
    if screen.prompt not in PROMPTS or set(args) != PROMPTS[screen.prompt]:
        return None
    if not isinstance(args["message"], str) or not all(isinstance(line, str) for line in screen.lines):
        return None
    if "options" in args:
        for label, _value, description in args["options"]:
            if not isinstance(label, str) or not isinstance(description, (str, type(None))):
                return None
    if (screen.question is None) != (screen.prompt == "select"):
        return None
    return screen


def save(audience: Optional[str], width: int, screen: Screen, path: Optional[Path] = None) -> bool:
    """Keep ``screen`` for ``audience`` at ``width``, beside the others recorded under today's
    key. False when it cannot be written."""
    from triage import kbcache

    path = path or record_file()
    today = key()
    screens: dict = {}
    data = kbcache.read_trusted(path)
    try:
        old = json.loads(data) if data is not None else {}
        if isinstance(old, dict) and old.get("key") == today and isinstance(old.get("screens"), dict):
            screens = old["screens"]
    except ValueError:
        pass
    screens[slot(audience, width)] = asdict(screen)
    body = json.dumps({"format": FORMAT, "key": today, "screens": screens}, ensure_ascii=False, indent=1)
    return kbcache.write_atomic(path, body.encode() + b"\n")


class Recorder:
    """A :class:`~triage.terminal.prompts.KeysIO` that keeps what is drawn before the first
    prompt, and saves it (``save(screen, width)``) when that prompt is a question."""

    def __init__(self, io: KeysIO, save: Callable[[Screen, int], Any]):
        self._io = io
        self._save = save
        self._lines: Optional[list[str]] = []  # None once the first prompt was drawn

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._io, name)
        if name not in ASKS:
            return attr

        def ask(*args, **kwargs):
            self._prompted(name, args, kwargs)
            return attr(*args, **kwargs)

        return ask

    @property
    def when_shown(self) -> Optional[Callable[[], None]]:
        return self._io.when_shown

    @when_shown.setter
    def when_shown(self, hook: Optional[Callable[[], None]]) -> None:
        self._io.when_shown = hook

    def say(self, text: str = "") -> None:
        if self._lines is not None:
            self._lines.append(text)
        self._io.say(text)

    def _prompted(self, prompt: str, args: tuple, kwargs: dict) -> None:
        lines, self._lines = self._lines, None
        if lines is None or prompt not in PROMPTS:
            return
        named, read = _arguments(prompt, args, kwargs)
        question = getattr(read, "question", None)
        if read is not None and question is None:
            return  # a reader this module could not make again
        self._save(Screen(lines=lines, prompt=prompt, args=_plain(named), question=question,
                          words=asdict(self._io.words)), text_width(self._io.width))


def _options(args: dict) -> dict:
    return {**args, "options": [Option(*o) for o in args["options"]]}


class Ahead(Generic[T]):
    """The first screen drawn and answered while ``load`` ran: what it loaded, and what the
    person did at the first prompt (an answer, or ``KeyboardInterrupt`` / ``EOFError``)."""

    def __init__(self, screen: Screen, loaded: T, answer: Any, stopped: Optional[BaseException]):
        self.screen, self.loaded, self.answer, self.stopped = screen, loaded, answer, stopped

    def primed(self, io: KeysIO) -> "Primed":
        return Primed(io, self)


def ask_ahead(screen: Screen, load: Callable[[], T], reader: Callable[[T, str], Callable[[Any], Any]],
              make_io: Callable[[Words], KeysIO] = KeysIO) -> Ahead[T]:
    """Draw ``screen`` on ``make_io(words)`` (a :class:`KeysIO` with the recorded words) and ask
    its prompt; from the moment the prompt is drawn, ``load()`` runs in the background. ``reader(loaded, question)``
    gives the reader of the question once it has (a checklist's ticks are checked when Enter
    is pressed, as always, so an answer the interview would refuse is refused here too)."""
    io = make_io(Words(**screen.words))
    result: dict[str, Any] = {}

    def work() -> None:
        try:
            result["loaded"] = load()
        except BaseException as exc:  # noqa: BLE001 - raised again where the interview runs
            result["failed"] = exc

    # not a daemon: a person who quits at once waits for it rather than the interpreter
    # shutting down under a thread inside the engine's C code
    thread = threading.Thread(target=work, name="knowledge base and engine")

    def loaded() -> T:
        if thread.ident is None:
            thread.start()
        thread.join()
        if "failed" in result:
            raise result["failed"]
        return result["loaded"]

    def read(given: Any) -> Any:
        assert screen.question is not None
        return reader(loaded(), screen.question)(given)

    for line in screen.lines:
        io.say(line)
    io.when_shown = thread.start
    args = _options(screen.args)
    if screen.prompt != "select":
        args["read"] = read
    answer, stopped = None, None
    try:
        answer = getattr(io, screen.prompt)(**args)
    except (KeyboardInterrupt, EOFError) as exc:
        stopped = exc
    return Ahead(screen, loaded(), answer, stopped)


class Primed:
    """The interview's io after :func:`ask_ahead`: what the interview says and asks first is
    checked against what was drawn; while it matches, nothing is drawn again, and the first
    prompt gives back what the person did there. From the first difference on (and after the
    first prompt), every call goes to ``io``."""

    def __init__(self, io: KeysIO, ahead: Ahead):
        self._io = io
        self._ahead = ahead
        self._said = 0
        # the prompts' words are part of what was drawn
        self._live = asdict(io.words) != ahead.screen.words
        self._hook: Optional[Callable[[], None]] = None

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._io, name)
        if name not in ASKS:
            return attr

        def ask(*args, **kwargs):
            return self._answer() if self._replayed(name, args, kwargs) else attr(*args, **kwargs)

        return ask

    @property
    def when_shown(self) -> Optional[Callable[[], None]]:
        return self._hook if not self._live else self._io.when_shown

    @when_shown.setter
    def when_shown(self, hook: Optional[Callable[[], None]]) -> None:
        if self._live:
            self._io.when_shown = hook
        else:
            self._hook = hook

    def _go_live(self) -> None:
        if not self._live:
            self._live = True
            self._io.when_shown, self._hook = self._hook, None

    def say(self, text: str = "") -> None:
        lines = self._ahead.screen.lines
        if not self._live and self._said < len(lines) and lines[self._said] == text:
            self._said += 1
            return
        self._go_live()
        self._io.say(text)

    def _replayed(self, prompt: str, args: tuple, kwargs: dict) -> bool:
        """Whether this prompt is the one drawn ahead (then it is answered from there)."""
        screen = self._ahead.screen
        same = not self._live and self._said == len(screen.lines) and prompt == screen.prompt
        if same:
            named, read = _arguments(prompt, args, kwargs)
            same = _plain(named) == screen.args and getattr(read, "question", None) == screen.question
        hook = self._hook
        self._go_live()
        if same:
            self._io.when_shown = None
            if hook is not None:
                hook()
        return same

    def _answer(self) -> Any:
        ahead = self._ahead
        if ahead.stopped is not None:
            raise ahead.stopped
        return ahead.answer


class _Stop(Exception):
    """The first prompt was reached while building a record."""


class _StopAtPrompt(KeysIO):
    """A KeysIO that says nothing and stops at its first prompt (for :func:`build`)."""

    def say(self, text: str = "") -> None:
        pass

    def _stop(self, *args, **kwargs):
        raise _Stop

    checkbox = select = number = confirm = text = _stop


def build(width: int = 78, path: Optional[Path] = None) -> list[str]:
    """Record the first screen for anyone and for each ``--for`` audience at ``width``
    columns (``python -m triage.kbcache``, for an installation whose package folder is
    read-only once installed). The audiences recorded."""
    from triage.commands.interview import AUDIENCES, preset
    from triage.questionnaire.session import Questionnaire
    from triage.terminal.interview import TerminalInterview, words

    iv = Questionnaire()
    done = []
    for audience in (None, *AUDIENCES):
        session = iv.session()
        preset(session, audience)
        kept: list[Screen] = []
        io = Recorder(_StopAtPrompt(words(iv), width=width + 1), lambda screen, _width: kept.append(screen))
        try:
            TerminalInterview(io, session, educator=audience == "educator", warm_up=False).run()
        except _Stop:
            pass
        if kept and save(audience, width, kept[0], path):
            done.append(audience or "anyone")
    return done

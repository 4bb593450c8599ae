"""The engine adapter: the only module that touches durable_rules.

It guards every sharp edge of durable_rules 2.0.28 (see docs/engine.md):

* no background dispatcher: :class:`QuietHost` overrides ``Host._run`` so no timer thread ever
  runs an action behind our back (the cause of segfaults under concurrency);
* one process-wide lock around every session, so one session is live at a time (far below the
  1024-session limit that corrupts the engine), each with a fresh id, deleted in ``finally``;
* an exception raised inside an action is swallowed by durable_rules; the action wrapper
  keeps it and the adapter raises :class:`~triage.errors.EngineError` to the caller;
* only facts that some rule can match are asserted (durable_rules rejects the others); a
  conclusion no rule reads is recorded as a result instead of asserted;
* a fact is asserted at most once per session (durable_rules rejects duplicates);
* one Host per process, built on first use: importing this module twice registers nothing twice.

Every firing is recorded: the rule, the facts it matched, and what it concluded.
"""

from __future__ import annotations

import itertools
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from triage.errors import EngineError
from triage.rulebook import GATE, Rule, RuleBook

RULESET = "dystonia_triage"


@dataclass
class Firing:
    """One rule firing: which rule, on which facts, concluding what."""

    rule: str
    layer: str
    matched: dict[str, dict]
    concluded: list[dict]  # everything it concluded, in the rule's order
    already_known: list[dict] = field(default_factory=list)  # those another firing concluded first
    sources: list[tuple] = field(default_factory=list, repr=False)  # keys of the matched facts


@dataclass
class Run:
    """Everything one assessment produced: the facts known at the end and the firings."""

    answers: list[dict]
    facts: dict[tuple, dict]  # key -> fact (answers and conclusions, without the session id)
    firings: list[Firing]
    producers: dict[tuple, list[int]]  # fact key -> indexes of the firings that concluded it
    _because: dict[tuple, list[str]] = field(default_factory=dict, repr=False)

    def of_type(self, fact_type: str) -> list[dict]:
        return [f for f in self.facts.values() if f["t"] == fact_type]

    def because(self, fact: dict) -> list[str]:
        """The rules behind ``fact``, back to the answers, in firing order."""
        key = fact_key(fact)
        cached = self._because.get(key)
        if cached is None:
            cached = self._because[key] = self._trace_back(key)
        return list(cached)

    def _trace_back(self, key: tuple) -> list[str]:
        seen: set[int] = set()
        stack = list(self.producers.get(key, ()))
        while stack:
            i = stack.pop()
            if i in seen:
                continue
            seen.add(i)
            for source in self.firings[i].sources:
                stack.extend(self.producers.get(source, ()))
        rules: list[str] = []
        for i in sorted(seen):
            if self.firings[i].rule not in rules:
                rules.append(self.firings[i].rule)
        return rules


_PRIVATE = ("sid", "id")  # what the engine adds to a fact when asserting it


def fact_key(fact: dict) -> tuple:
    """A fact's identity: all its attributes but what the engine adds."""
    return tuple(sorted(
        (k, tuple(v) if isinstance(v, list) else v) for k, v in fact.items() if k not in _PRIVATE
    ))


class _Session:
    def __init__(self, sid: str):
        self.sid = sid
        self.known: dict[tuple, dict] = {}
        self.firings: list[Firing] = []
        self.producers: dict[tuple, list[int]] = {}
        self.error: Optional[BaseException] = None
        self.error_rule: Optional[str] = None
        self.key_of: dict[int, tuple] = {}  # the id each asserted fact carries -> its key

    def stamp(self, fact: dict, key: tuple) -> dict:
        """The fact as asserted: with the session id and an id unique in the session (so a
        matched fact's key never has to be computed again)."""
        fid = len(self.key_of) + 1
        self.key_of[fid] = key
        return dict(fact, sid=self.sid, id=fid)


def _quiet_host_class():
    from durable import engine as durable_engine

    class QuietHost(durable_engine.Host):
        """A durable_rules Host without the background dispatcher threads."""

        def _run(self) -> None:  # noqa: D401 - replaces the timer loop with nothing
            return None

    return QuietHost


class Engine:
    """Runs a :class:`RuleBook` in durable_rules, one session per assessment."""

    def __init__(self, book: RuleBook):
        self.book = book
        self._lock = threading.Lock()
        self._sids = itertools.count(1)
        self._sessions: dict[str, _Session] = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self._host = _quiet_host_class()()
            self._host.set_rulesets({RULESET: book.durable_definition(self._action)})

    # -- facts -------------------------------------------------------------------------------
    def _enrich(self, fact: dict) -> dict:
        """Attach the knowledge attributes a fact type declares (rules/facts.yaml)."""
        spec = self.book.facts[fact["t"]]
        if spec.knowledge and "v" in fact:
            known = self.book.kb.attributes(spec.knowledge.table, fact["v"])
            for attr in spec.knowledge.attributes:
                value = known.get(attr)
                if value is not None and value != []:
                    fact.setdefault(attr, value)
        return fact

    def answer_facts(self, answers: Iterable[dict]) -> list[dict]:
        """The answer facts, enriched, without duplicates and without those no rule reads, in
        a canonical order (so the order of a case's lists never changes the trace)."""
        out: dict[tuple, dict] = {}
        for fact in answers:
            fact = self._enrich(dict(fact))
            if self.book.consumes(fact):
                out.setdefault(fact_key(fact), fact)
        return [out[k] for k in sorted(out, key=repr)]

    # -- actions -----------------------------------------------------------------------------
    def _action(self, rule: Rule):
        def act(c) -> None:
            session = self._sessions[c.s.sid]
            try:
                matched, sources = {}, []
                for alias, fact in c._m.items():
                    if alias != "layer":
                        # every asserted fact carries a session-unique id: its key is known
                        sources.append(session.key_of[fact["id"]])
                        matched[alias] = {k: v for k, v in fact.items() if k not in _PRIVATE}
                firing = Firing(rule.id, rule.layer, matched, [], sources=sources)
                session.firings.append(firing)
                index = len(session.firings) - 1
                for fact in rule.conclude(matched):
                    fact = self._enrich(fact)
                    key = fact_key(fact)
                    session.producers.setdefault(key, []).append(index)
                    firing.concluded.append(fact)
                    if key in session.known:
                        firing.already_known.append(fact)
                        continue
                    session.known[key] = fact
                    if self.book.consumes(fact, key):
                        c.assert_fact(session.stamp(fact, key))
            except BaseException as exc:  # durable_rules would swallow it: keep it for the caller
                if session.error is None:
                    session.error, session.error_rule = exc, rule.id
                raise

        act.__name__ = rule.id
        return act

    # -- running -----------------------------------------------------------------------------
    def run(self, answers: Iterable[dict]) -> Run:
        """Assert the answers, open each layer in turn, and return what was concluded."""
        facts = self.answer_facts(answers)
        with self._lock:
            sid = str(next(self._sids))
            session = _Session(sid)
            self._sessions[sid] = session
            started = False
            try:
                batch = []
                for fact in facts:
                    key = fact_key(fact)
                    session.known[key] = fact
                    batch.append(session.stamp(fact, key))
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)
                    if batch:
                        started = True
                        self._check(session, self._host.assert_facts(RULESET, batch))
                    for layer in self.book.layers:
                        started = True
                        gate = {"sid": sid, "t": GATE, "v": layer.name}
                        self._check(session, self._host.assert_fact(RULESET, gate))
            finally:
                del self._sessions[sid]
                if started:
                    self._host.delete_state(RULESET, sid)
        return Run(facts, session.known, session.firings, session.producers)

    def _check(self, session: _Session, state: Any) -> None:
        if session.error is not None:
            raise EngineError(f"rule {session.error_rule} failed: {session.error!r}") from session.error
        if isinstance(state, dict) and state.get("exception"):
            raise EngineError(f"the rules engine reported: {state['exception']}")


_engine: Optional[Engine] = None
_engine_lock = threading.Lock()


def default() -> Engine:
    """The process's engine for the project's own rules, built on first use."""
    global _engine
    if _engine is None:
        with _engine_lock:
            if _engine is None:
                from triage import rulebook

                _engine = Engine(rulebook.default())
    return _engine

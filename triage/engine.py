"""The engine adapter: the only module that touches durable_rules.

It guards every sharp edge of durable_rules 2.0.28 (see docs/engine.md):

* no background dispatcher: :class:`QuietHost` overrides ``Host._run`` so no timer thread ever
  runs an action behind our back (the cause of segfaults under concurrency);
* one process-wide lock around every session, so one session is live at a time (far below the
  1024-session limit that corrupts the engine), and every session deleted in ``finally``, after
  a run that went well or not. (Emptying a session and using it again for the next run, by
  retracting its facts, corrupted the C core's memory: an abort or a segfault in one test run
  of three, never without it. See docs/engine.md.);
* an exception raised inside an action would be swallowed by durable_rules' Python layer; the
  adapter runs the actions itself and raises :class:`~triage.errors.EngineError` naming the rule;
* only facts that some rule can match are asserted (durable_rules rejects the others); a
  conclusion no rule reads is recorded as a result instead of asserted;
* a fact is asserted at most once per session (durable_rules rejects duplicates);
* deleting a ruleset's first session before any action started in it frees garbage (an abort):
  the engine runs one private session to an action when it is built (:meth:`Engine._prime`);
* one Host per process, built on first use: importing this module twice registers nothing twice.

The Host registers the ruleset (and compiles it in the C core); the adapter then drives the
ruleset through durable_rules' C binding directly, the way ``durable.engine.Ruleset`` does but
without its per-action costs: no dump of the whole session state after every action
(``_flush_actions`` → ``update_state``), no ``Closure`` with its datetime clock, one JSON parse
per firing and at most one ``assert_facts`` per firing, for what it concludes that its own or an
earlier layer reads (what only later layers read goes with the next gate). A layer none of whose
rules could fire is not opened. What a rule
concludes from given facts, and a fact's JSON, are the same in every session: both are kept
across runs in bounded memos, so a firing copies its conclusions instead of working them out.

Every firing is recorded: the rule, the facts it matched, and what it concluded.
"""

from __future__ import annotations

import itertools
import threading
import warnings
from typing import Any, Iterable, Optional

import orjson

from triage.errors import EngineError
from triage.rulebook import Pattern, Rule, RuleBook, wire_gate, wire_type

RULESET = "dystonia_triage"

# durable_rules' result codes for an assert (durable/engine.py, Ruleset._handle_result)
_NOT_HANDLED, _OBSERVED, _QUEUED = 1, 2, 3

# Memos kept across runs, each bounded: what a rule concludes from given facts, and a fact's
# JSON as the engine needs it, are the same in every session.
MEMO_LIMIT = 20_000

_loads = orjson.loads

# A private rule and fact type (no rule book's names start with "__") for the session that
# readies the engine (see Engine._prime), and its session id (the runs' ids start at 1).
_PRIME = "__prime__"
_PRIME_SID = "0"


def _dumps(value: Any) -> str:
    """Compact JSON, as durable_rules' C core reads it (orjson: several times json's speed)."""
    return orjson.dumps(value).decode()


class Firing:
    """One rule firing: which rule, on which facts, concluding what."""

    __slots__ = ("rule", "layer", "matched", "concluded", "already_known", "sources")

    def __init__(self, rule: str, layer: str, matched: dict[str, dict], concluded: list[dict],
                 already_known: Optional[list[dict]] = None, sources: Optional[list[tuple]] = None):
        self.rule = rule
        self.layer = layer
        self.matched = matched
        self.concluded = concluded  # everything it concluded, in the rule's order
        self.already_known = already_known if already_known is not None else []  # concluded first by another firing
        self.sources = sources if sources is not None else []  # keys of the matched facts

    def __repr__(self) -> str:
        return f"Firing(rule={self.rule!r}, matched={self.matched!r}, concluded={self.concluded!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Firing):
            return NotImplemented
        return all(getattr(self, s) == getattr(other, s) for s in self.__slots__)


class Run:
    """Everything one assessment produced: the facts known at the end and the firings."""

    __slots__ = ("answers", "facts", "firings", "producers", "_because", "_upstream", "_by_type", "_keys")

    def __init__(self, answers: list[dict], facts: dict[tuple, dict], firings: list[Firing],
                 producers: dict[tuple, list[int]]):
        self.answers = answers
        self.facts = facts  # key -> fact (answers and conclusions, without the session id)
        self.firings = firings
        self.producers = producers  # fact key -> indexes of the firings that concluded it
        self._because: dict[tuple, list[str]] = {}
        self._upstream: Optional[list[int]] = None
        self._by_type: Optional[dict[str, list[dict]]] = None
        self._keys: dict[int, tuple] = {}  # id() of a fact of ``facts`` -> its key

    def of_type(self, fact_type: str) -> list[dict]:
        by_type = self._by_type
        if by_type is None:
            by_type = self._by_type = {}
            keys = self._keys
            for key, f in self.facts.items():
                by_type.setdefault(f["t"], []).append(f)
                keys[id(f)] = key
        return list(by_type.get(fact_type, ()))

    def because(self, fact: dict) -> list[str]:
        """The rules behind ``fact``, back to the answers, in firing order."""
        key = self._keys.get(id(fact))
        if key is None or self.facts.get(key) is not fact:  # not one of_type gave: work it out
            key = fact_key(fact)
        cached = self._because.get(key)
        if cached is None:
            cached = self._because[key] = self._trace_back(key)
        return list(cached)

    def _trace_back(self, key: tuple) -> list[str]:
        up = self._upstream
        if up is None:
            up = self._upstream = self._closures()
        mask = 0
        for i in self.producers.get(key, ()):
            mask |= up[i]
        rules: list[str] = []
        firings = self.firings
        while mask:  # the firings behind it, in firing order
            low = mask & -mask
            rule = firings[low.bit_length() - 1].rule
            if rule not in rules:
                rules.append(rule)
            mask ^= low
        return rules

    def _closures(self) -> list[int]:
        """For each firing, the firings behind it (itself, the producers of the facts it
        matched, theirs, and so on) as a bit mask, computed for all firings at once. A producer
        nearly always fired earlier, so one pass in firing order settles it; only when some
        firing matched a fact that a later firing concluded again (which also counts) do passes
        repeat until nothing changes."""
        producers = self.producers
        firings = self.firings
        up: list[int] = []
        inputs: list[list[int]] = []
        forward = False
        for i, f in enumerate(firings):
            before = [p for source in f.sources for p in producers.get(source, ())]
            inputs.append(before)
            mask = 1 << i
            for p in before:
                if p < i:
                    mask |= up[p]
                else:
                    forward = True
            up.append(mask)
        changed = forward
        while changed:
            changed = False
            for i, before in enumerate(inputs):
                mask = up[i]
                for p in before:
                    mask |= up[p]
                if mask != up[i]:
                    up[i] = mask
                    changed = True
        return up


def fact_key(fact: dict) -> tuple:
    """A fact's identity: all its attributes but what the engine adds."""
    items = [(k, tuple(v) if isinstance(v, list) else v) for k, v in fact.items() if k != "sid" and k != "id"]
    items.sort()
    return tuple(items)


class _Session:
    __slots__ = ("sid", "sid_json", "tail", "known", "firings", "producers", "key_of", "passed", "later")

    def __init__(self, sid: str):
        self.sid = sid
        self.sid_json = _dumps(sid)
        self.tail = ',"sid":' + self.sid_json + ',"id":'  # what every fact of the session ends with
        self.known: dict[tuple, dict] = {}
        self.firings: list[Firing] = []
        self.producers: dict[tuple, list[int]] = {}
        self.key_of: list[tuple] = [()]  # the id each asserted fact carries -> its key (ids start at 1)
        # the layers' needed patterns (bits) that some fact in so far passes (asserted, or
        # held in ``later`` for the next gate)
        self.passed = 0
        self.later: list[str] = []  # facts to assert with the next gate (see Engine._fire, run)

    def stamp(self, key: tuple, head: str, passes: int) -> str:
        """The fact as asserted, in JSON: ``head`` (the attributes some pattern tests, as JSON
        without its closing brace: see :meth:`Engine._head`), the session id, and an id unique
        in the session, by which a firing finds the whole fact and its key again. ``passes``:
        the needed patterns the fact passes (:meth:`Engine._passes`)."""
        key_of = self.key_of
        key_of.append(key)
        self.passed |= passes
        text = head + self.tail + str(len(key_of) - 1) + "}"
        return text

    def gate(self, head: str) -> str:
        """A layer's gate as asserted (``head``: its JSON up to the session id). It too gets an
        id from the session's count: durable_rules takes a fact for one it holds ("already
        held") when their ids have the same 32-bit FNV-1a hash, and gives a fact without an id
        one made from a 64-bit hash of its content, which may meet another's. The decimal ids
        below 797,186 all have distinct hashes (40,189 and 797,186 are the first pair that
        share one), so no session here can meet a false "already held"."""
        key_of = self.key_of
        key_of.append(())  # no rule reads a gate's key (see Engine._fire)
        return head + self.sid_json + ',"id":' + str(len(key_of) - 1) + "}"


def _needs(book: RuleBook, index: int) -> Optional[list[tuple[Pattern, ...]]]:
    """For the layer at ``index``: for each of its rules, the ``when`` patterns on fact types
    that no rule of this layer or a later one concludes. By the time the layer opens, every
    fact of those types that will ever be in the session is there; when none passes one of
    those patterns' own tests, the rule cannot fire. When that holds for every rule of the
    layer, its gate is not asserted (the trace is the same, the engine is spared the work).
    None: some rule may always fire (the gate is always asserted)."""
    later = {c.fact for layer in book.layers[index:] for r in layer.rules for c in r.then}
    needs = []
    for rule in book.layers[index].rules:
        need = tuple(p for p in rule.when if p.fact not in later)
        if not need:
            return None
        needs.append(need)
    return needs


def _opens(needs: Optional[list[int]], passed: int) -> bool:
    """Whether a layer with ``needs`` (see :class:`Engine`'s gates) is opened, when the facts
    in so far (asserted, or held for the next gate) pass the needed patterns ``passed``: some
    rule of it may fire."""
    return needs is None or any(need & passed == need for need in needs)


def _quiet_host_class():
    from durable import engine as durable_engine

    class QuietHost(durable_engine.Host):
        """A durable_rules Host without the background dispatcher threads."""

        def _run(self) -> None:  # noqa: D401 - replaces the timer loop with nothing
            return None

    return QuietHost


def _never_called(c) -> None:  # pragma: no cover - the adapter runs the actions itself
    raise EngineError("durable_rules ran an action behind the adapter's back")


class Engine:
    """Runs a :class:`RuleBook` in durable_rules, one session per assessment."""

    def __init__(self, book: RuleBook):
        import durable_rules_engine

        self.book = book
        self._lock = threading.Lock()
        self._sids = itertools.count(1)
        self._sessions: dict[str, _Session] = {}
        self._rules = {r.id: r for r in book.rules}
        self._wire = book.tested_attributes()  # fact type -> the attributes durable_rules needs
        self._enriched: dict[tuple, dict] = {}  # (type, value) -> knowledge attributes to add
        self._memo_limit = MEMO_LIMIT
        self._heads: dict[tuple, str] = {}  # fact key -> the start of its JSON for the engine
        # an answer (type, value) -> (the fact enriched, its key, repr(key), some rule reads it?,
        # the needed patterns it passes)
        self._answer_memo: dict[tuple, tuple[dict, tuple, str, bool, int]] = {}
        # (rule, its aliases, the keys of the facts it matched) -> what it concludes: (fact, key,
        # the start of its JSON for the engine, or None when no rule reads it, the needed
        # patterns it passes, whether only later layers read it)
        self._concluded: dict[tuple, list[tuple[dict, tuple, Optional[str], int, bool]]] = {}
        definition = book.durable_definition(lambda rule: _never_called)
        definition[_PRIME] = {"all": [{"m": {wire_type(_PRIME): 1}}], "run": _never_called}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self._host = _quiet_host_class()()
            self._host.set_rulesets({RULESET: definition})
        self._c = durable_rules_engine
        self._handle = self._host.get_ruleset(RULESET)._handle
        self._prime()
        # The gate facts, as JSON, with a place for the session id, and what each layer needs:
        # each pattern some layer needs (see _needs) is a bit; a layer needs, for some rule,
        # every bit of that rule's mask.
        needs = [_needs(book, i) for i in range(len(book.layers))]
        # layer -> the fact types some rule of it or of an earlier layer reads
        self._read_by_now: dict[str, frozenset[str]] = {}
        read: set[str] = set()
        for layer in book.layers:
            read |= {p.fact for r in layer.rules for p in r.when + r.unless}
            self._read_by_now[layer.name] = frozenset(read)
        bits: dict[int, int] = {}  # id(pattern) -> its bit
        self._needed: dict[str, list[tuple[Pattern, int]]] = {}  # fact type -> its needed patterns
        for need in (n for layer_needs in needs if layer_needs for n in layer_needs):
            for p in need:
                if id(p) not in bits:
                    bits[id(p)] = 1 << len(bits)
                    self._needed.setdefault(p.fact, []).append((p, bits[id(p)]))
        self._gates = [(layer.name, _dumps({wire_gate(layer.name): 1})[:-1] + ',"sid":',
                        None if n is None else [sum(bits[id(p)] for p in need) for need in n])
                       for layer, n in zip(book.layers, needs)]

    def _prime(self) -> None:
        """Run one private session that starts and completes an action, before any run.

        durable_rules leaves a new session's action context (``context.messages`` and
        ``context.stateFact`` in ``createStateNode``) as it finds it in a slot never used before,
        and ``delete_state`` frees what is there. Deleting the first session of a ruleset before
        any action started in it (an interruption between an assert and the first action, an
        assert refused, or a case on which nothing fires) then frees garbage and the process
        aborts. Completing an action, and deleting a session, leave the context empty; with one
        session live at a time every run reuses this slot, so it is clean from here on."""
        c, handle = self._c, self._handle
        result = c.assert_facts(handle, _dumps([{wire_type(_PRIME): 1, "sid": _PRIME_SID, "id": 1}]))
        # until an action has started, deleting the session would free garbage: on these errors
        # it is left (one of the 1,024 slots) rather than deleted
        self._check(result[0], "the engine's first session")
        if c.start_action_for_state(handle, result[1]) is None:
            raise EngineError("the rules engine started no action in its first session")
        try:
            if c.complete_and_start_action(handle, result[1]) is not None:
                raise EngineError("the rules engine started a second action in its first session")
        finally:
            c.delete_state(handle, _PRIME_SID)

    # -- facts -------------------------------------------------------------------------------
    def _keep(self, memo: dict, key: Any, value: Any) -> None:
        """Keep ``value`` in one of the engine's memos while it has room (``MEMO_LIMIT``
        entries): what they hold is the same in every session, so a full memo only means
        that later values are worked out each time."""
        if len(memo) < self._memo_limit:
            memo[key] = value

    def _enrich(self, fact: dict) -> dict:
        """Attach the knowledge attributes a fact type declares (rules/facts.yaml)."""
        if "v" not in fact:
            return fact
        cache_key = (fact["t"], fact["v"])
        extra = self._enriched.get(cache_key)
        if extra is None:
            extra = {}
            spec = self.book.facts[fact["t"]]
            if spec.knowledge:
                known = self.book.kb.attributes(spec.knowledge.table, fact["v"])
                for attr in spec.knowledge.attributes:
                    value = known.get(attr)
                    if value is not None and value != []:
                        extra[attr] = value
            self._keep(self._enriched, cache_key, extra)
        for attr, value in extra.items():
            fact.setdefault(attr, value)
        return fact

    def answer_facts(self, answers: Iterable[dict]) -> list[dict]:
        """The answer facts, enriched, without duplicates and without those no rule reads, in
        a canonical order (so the order of a case's lists never changes the trace)."""
        return [fact for fact, _key, _passes in self._answers(answers)]

    def _answers(self, answers: Iterable[dict]) -> list[tuple[dict, tuple, int]]:
        """:meth:`answer_facts`, each with its key and the needed patterns it passes. An answer
        (a type and a value) is enriched, keyed and checked once per process; each run gets its
        own copy of the fact."""
        out: dict[tuple, tuple[str, dict, int]] = {}
        memo = self._answer_memo
        for answer in answers:
            known = mkey = None
            if len(answer) == 2 and "v" in answer:
                value = answer["v"]
                mkey = (answer["t"], value.__class__, value)  # the class: True and 1 are other answers
                try:
                    known = memo.get(mkey)
                except TypeError:  # an unhashable value: not kept
                    mkey = None
            if known is None:
                fact = self._enrich(dict(answer))
                key = fact_key(fact)
                known = (fact, key, repr(key), self.book.consumes(fact, key), self._passes(fact))
                if mkey is not None:
                    self._keep(memo, mkey, known)
            template, key, order, consumed, passes = known
            if consumed and key not in out:
                out[key] = (order, template, passes)
        return [(dict(template), key, passes)
                for key, (_order, template, passes) in sorted(out.items(), key=lambda kv: kv[1][0])]

    def _passes(self, fact: dict) -> int:
        """The patterns some layer needs (see :func:`_needs`) that ``fact`` passes, as bits."""
        return sum(bit for p, bit in self._needed.get(fact["t"], ()) if p.accepts(fact))

    def _head(self, fact: dict, key: tuple) -> str:
        """The start of a fact's JSON for the engine: only the attributes some pattern tests
        (the rest stays with the adapter), without the closing brace. The same for every
        session, so it is made once per fact."""
        head = self._heads.get(key)
        if head is None:
            fact_type = fact["t"]
            wire = {wire_type(fact_type): 1}
            wire.update((a, fact[a]) for a in self._wire[fact_type] if a != "t" and a in fact)
            head = _dumps(wire)[:-1]
            self._keep(self._heads, key, head)
        return head

    def _conclusions(self, rule: Rule, matched: dict[str, dict],
                     sources: list[tuple]) -> list[tuple[dict, tuple, Optional[str], int, bool]]:
        """What ``rule`` concludes from the facts it matched: each fact (enriched), its key,
        the start of its JSON for the engine (:meth:`_head`), or None when no rule reads it
        (then it is only recorded), the needed patterns it passes, and whether only later
        layers read it (see :meth:`_fire`). A rule's conclusions depend on nothing but the
        facts it matched, so they are worked out once per combination and kept (bounded); each
        firing gets its own copy of every fact."""
        memo = (rule.id, *matched, *sources)  # the aliases, then the facts
        out = self._concluded.get(memo)
        if out is None:
            out = []
            read_by_now = self._read_by_now[rule.layer]
            for fact in rule.conclude(matched):
                fact = self._enrich(fact)
                key = fact_key(fact)
                if self.book.consumes(fact, key):
                    out.append((fact, key, self._head(fact, key), self._passes(fact), fact["t"] not in read_by_now))
                else:
                    out.append((fact, key, None, 0, False))
            self._keep(self._concluded, memo, out)
        return out

    # -- one firing ----------------------------------------------------------------------------
    def _fire(self, session: _Session, rule: Rule, message: dict) -> list[str]:
        """Record one firing of ``rule`` on the matched facts of ``message`` (alias -> fact, as
        durable_rules sends it) and return the new facts to assert now.

        A new fact that no rule of this layer or an earlier one reads can change nothing until
        a later layer opens: it is kept in ``session.later`` and asserted in one batch with the
        next gate, before it (an assert costs about as much as a firing)."""
        matched, sources = {}, []
        key_of, known = session.key_of, session.known
        for alias, fact in message.items():
            if alias != "layer":
                # every asserted fact carries a session-unique id: its key and the whole fact are known
                key = key_of[fact["id"]]
                sources.append(key)
                matched[alias] = known[key]
        concluded: list[dict] = []
        firing = Firing(rule.id, rule.layer, matched, concluded, [], sources)
        index = len(session.firings)
        session.firings.append(firing)
        new: list[str] = []
        producers = session.producers
        for template, key, head, passes, later in self._conclusions(rule, matched, sources):
            fact = dict(template)
            producers.setdefault(key, []).append(index)
            concluded.append(fact)
            if key in known:
                firing.already_known.append(fact)
                continue
            known[key] = fact
            if head is not None:
                (session.later if later else new).append(session.stamp(key, head, passes))
        return new

    # -- running -----------------------------------------------------------------------------
    def run(self, answers: Iterable[dict]) -> Run:
        """Assert the answers, open each layer in turn, and return what was concluded."""
        keyed = self._answers(answers)
        facts = [fact for fact, _key, _passes in keyed]
        c, handle = self._c, self._handle
        with self._lock:
            sid = str(next(self._sids))
            session = _Session(sid)
            self._sessions[sid] = session
            started = False  # from the first assert on, the engine holds the session
            try:
                # The answers wait, like a conclusion that only later layers read, for the
                # first layer that opens, and go in one batch before its gate: no rule fires on
                # answers alone (every rule's first pattern is its layer's gate).
                for fact, key, passes in keyed:
                    session.known[key] = fact
                    session.later.append(session.stamp(key, self._head(fact, key), passes))
                for name, head, needs in self._gates:
                    if not _opens(needs, session.passed):
                        continue  # no rule of this layer can ever fire in this session
                    started = True
                    batch, session.later = session.later, []
                    batch.append(session.gate(head))
                    self._settle(session, c.assert_facts(handle, "[" + ",".join(batch) + "]"),
                                 "layer {} (and the facts held for it)", name)
            finally:
                del self._sessions[sid]
                if started:
                    c.delete_state(handle, sid)
        return Run(facts, session.known, session.firings, session.producers)

    def _settle(self, session: _Session, result: Any, what: str, name: str = "") -> None:
        """Run every action the engine has for this session, one at a time, until none is left
        (``what`` and ``name``: what was asserted, for :meth:`_check`)."""
        code = result[0]
        if code == _QUEUED:
            return
        self._check(code, what, name)
        c, handle, state, rules, fire = self._c, self._handle, result[1], self._rules, self._fire
        pending = c.start_action_for_state(handle, state)
        message = pending[1] if pending else None
        while message:
            (rule_id, matched), = _loads(message).items()
            try:
                new = fire(session, rules[rule_id], matched)
                if new:
                    self._check(c.assert_facts(handle, "[" + ",".join(new) + "]")[0], "what rule {} concluded", rule_id)
            except BaseException as exc:
                c.abandon_action(handle, state)
                if isinstance(exc, EngineError):
                    raise
                raise EngineError(f"rule {rule_id} failed: {exc!r}") from exc
            message = c.complete_and_start_action(handle, state)

    @staticmethod
    def _check(code: int, what: str, name: str = "") -> None:
        """Raise when the engine refused what was asserted: ``what`` names it, with ``{}`` for
        ``name`` (a layer or a rule); the message is only made when it is raised."""
        if code == _NOT_HANDLED or code == _OBSERVED:
            refused = "matched no rule to" if code == _NOT_HANDLED else "already held"
            raise EngineError(f"the rules engine {refused} {what.format(name)}")


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

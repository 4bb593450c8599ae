"""What was *not* concluded, and why not: read from the compiled rules (their ``when`` and
``unless`` patterns) and the facts of a run, in the rules' and the facts' own words. The
matching here mirrors durable_rules for explanation only; it decides nothing.
"""

from __future__ import annotations

from typing import Optional

from triage.engine import Run, fact_key
from triage.explanation.nodes import OP_WORDS, WHY_NOT_KINDS, Reason, WhyNot, _label, _source, describe_fact
from triage.rulebook import Pattern, Ref, Rule, RuleBook, Test

# --- why not ---------------------------------------------------------------------------------


def _bind(test: Test, bindings: dict[str, dict]) -> Optional[Test]:
    """The test with ``$alias`` values replaced by the bound facts' values (None: unbound)."""
    if not isinstance(test.value, Ref):
        return test
    bound = bindings.get(test.value.alias)
    if bound is None or test.value.attr not in bound:
        return None
    return Test(test.attr, test.op, bound[test.value.attr])


def _bound(pattern: Pattern, bindings: dict[str, dict]) -> Optional[Pattern]:
    tests = []
    for t in pattern.tests:
        b = _bind(t, bindings)
        if b is None:
            return None
        tests.append(b)
    return Pattern(pattern.fact, pattern.alias, tuple(tests), pattern.negated)


def describe_pattern(book: RuleBook, pattern: Pattern, bindings: dict[str, dict]) -> str:
    """A pattern in words, with values from facts matched earlier filled in."""
    parts = []
    for t in pattern.tests:
        value = t.value
        if isinstance(value, Ref):
            bound = bindings.get(value.alias, {})
            value = bound.get(value.attr, str(value))
        if t.op == "exists":
            parts.append(f"with {t.attr}" if value else f"without {t.attr}")
            continue
        shown = ", ".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)
        words = " ".join(w for w in (OP_WORDS[t.op], shown) if w)
        parts.append(words if t.attr == "v" else f"{t.attr} {words}")
    about = " ".join(book.facts[pattern.fact].about.split()).rstrip(".")
    tests = f" {', '.join(parts)}" if parts else ""
    return f"{pattern.fact}{tests} ({about})"


def _match(rule: Rule, facts: list[dict]):
    """Match the rule's ``when`` patterns against ``facts`` as durable_rules would, keeping the
    deepest partial match. Returns ``(complete_bindings, (bindings, failed_index))``."""
    complete: list[dict] = []
    best: list = [({}, 0)]

    def walk(i: int, bindings: dict) -> None:
        if len(complete) >= 20:
            return
        if i == len(rule.when):
            complete.append(bindings)
            return
        if i > best[0][1]:
            best[0] = (bindings, i)
        p = _bound(rule.when[i], bindings)
        if p is None:
            return
        for f in facts:
            if p.accepts(f):
                walk(i + 1, {**bindings, rule.when[i].alias: f})

    walk(0, {})
    return complete, best[0]


def _blockers(rule: Rule, bindings: dict, facts: list[dict]) -> list[tuple[Pattern, list[dict]]]:
    out = []
    for p in rule.unless:
        bp = _bound(p, bindings)
        hits = [f for f in facts if bp is not None and bp.accepts(f)]
        if hits:
            out.append((p, hits))
    return out


def _concluded_value(rule: Rule, kind: str) -> Optional[str]:
    for c in rule.then:
        if c.fact == kind:
            value = dict(c.attrs).get("v")
            return value if isinstance(value, str) else None
    return None


class _WhyNot:
    def __init__(self, run: Run, book: RuleBook, facts: list[dict], answers: list[dict]):
        self.run, self.book, self.facts = run, book, facts
        # every answer, also those no rule reads (the engine drops them), to show what is there
        keys = {fact_key(f) for f in facts}
        self.seen = facts + [a for a in answers if fact_key(a) not in keys]
        self.fired = {f.rule for f in run.firings}
        self.present_types = {f["t"] for f in facts}

    def of_rule(self, rule: Rule, kind: str, depth: int) -> Optional[WhyNot]:
        complete, (bindings, failed) = _match(rule, self.facts)
        reasons: list[Reason] = []
        found = [describe_fact(self.book, f) for f in bindings.values()]
        if complete:
            blocked: dict[Pattern, list[dict]] = {}
            for bindings in complete:
                found_here = _blockers(rule, bindings, self.facts)
                if not found_here:
                    return None  # some match is not blocked: it would fire, nothing to explain
                for p, hits in found_here:
                    have = blocked.setdefault(p, [])
                    have += [h for h in hits if h not in have]
            for p, hits in blocked.items():
                because: list[str] = []
                for h in hits:
                    because += [r for r in self.run.because(h) if r not in because]
                reasons.append(Reason(
                    kind="blocked",
                    text="blocked by " + describe_pattern(self.book, p, complete[0]),
                    found=[describe_fact(self.book, f) for f in complete[0].values()],
                    blocking=[describe_fact(self.book, h) for h in hits],
                    blocking_rules=because,
                ))
        else:
            pattern = rule.when[failed]
            deeper: list[WhyNot] = []
            spec = self.book.facts[pattern.fact]
            if depth > 0 and not spec.from_case and pattern.fact not in self.present_types:
                for other in self.book.rules:
                    if other.id in self.fired or pattern.fact not in other.concludes():
                        continue
                    why = self.of_rule(other, pattern.fact, depth - 1)
                    if why:
                        deeper.append(why)
            instead = [describe_fact(self.book, f) for f in self.seen if f["t"] == pattern.fact]
            reasons.append(Reason(kind="missing", text="needs " + describe_pattern(self.book, pattern, bindings),
                                  found=found, instead=instead, deeper=deeper))
        value = _concluded_value(rule, kind)
        label = _label(self.book, kind, value) if value else None
        fallback = rule.id if kind in WHY_NOT_KINDS else kind
        return WhyNot(kind=kind, id=value, label=label or fallback, rule=rule.id, explain=rule.explain,
                      source=_source(rule.source), reasons=reasons)

    def all(self) -> list[WhyNot]:
        concluded = {(f["t"], f.get("v")) for f in self.facts}
        out = []
        for kind in WHY_NOT_KINDS:
            for rule in self.book.rules:
                if rule.id in self.fired or kind not in rule.concludes():
                    continue
                value = _concluded_value(rule, kind)
                if value is not None and (kind, value) in concluded:
                    continue  # another rule concluded it
                why = self.of_rule(rule, kind, depth=1)
                if why:
                    out.append(why)
        return out



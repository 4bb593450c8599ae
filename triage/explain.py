"""Explanations for educators and reviewers: every conclusion walked back, rule by rule, to the
answers and to the literature behind each rule; what was *not* concluded and why not; and how
the result changes when an answer changes ("what if").

Everything here is read from one engine :class:`~triage.engine.Run`: the firings record which
facts each rule matched and what it concluded, so the chains are the ones that actually fired.
The "why not" part reads the compiled rules (their ``when`` and ``unless`` patterns) and the
facts of the run; its wording comes from the rules' explanations and the fact descriptions in
``rules/facts.yaml``. Nothing here decides anything clinical.
"""

from __future__ import annotations

from typing import Any, Literal, Optional, Union

from pydantic import BaseModel

from triage import engine as engine_mod
from triage.assessment import assess, case_facts, to_case
from triage.engine import Run, fact_key
from triage.models import KB, Assessment, Case
from triage.rulebook import Pattern, Ref, Rule, RuleBook, Test

# Fact types whose absence is worth explaining: the conclusions a learner asks "why not?" about.
WHY_NOT_KINDS = ("candidate", "mimic", "cause", "care")
# Conclusion kinds shown, in this order, with the knowledge table that labels them.
KINDS = {
    "care_level": "care_levels",
    "candidate": "types",
    "cause": "causes",
    "mimic": "mimics",
    "next_step": "next_steps",
}
OP_WORDS = {"eq": "", "ne": "not", "in": "one of", "lt": "below", "gt": "above",
            "le": "at most", "ge": "at least"}


# --- the explanation, as data ----------------------------------------------------------------


class SourceRef(BaseModel):
    key: str
    citation: str = ""
    url: Optional[str] = None


class FactNode(BaseModel):
    """A fact a rule matched: an answer, or a conclusion of earlier rules (then ``by`` holds
    the rules that concluded it)."""

    text: str
    origin: Literal["answer", "concluded"]
    fact: dict[str, Any]
    field: Optional[str] = None  # the case field, for answers
    by: list["RuleNode"] = []
    shown_above: bool = False  # its chain is already shown higher up in the same tree


class RuleNode(BaseModel):
    rule: str
    layer: str
    explain: str
    source: SourceRef
    matched: list[FactNode] = []


class Conclusion(BaseModel):
    kind: str
    id: str
    label: str
    detail: Optional[str] = None  # the support of a candidate
    because: list[RuleNode]


class Reason(BaseModel):
    """Why a rule did not fire: a ``when`` pattern no fact matched, or an ``unless`` fact."""

    kind: Literal["missing", "blocked"]
    text: str
    found: list[str] = []  # facts that did match the patterns before the missing one
    instead: list[str] = []  # facts of the missing kind that are there but do not fit
    blocking: list[str] = []  # the facts that blocked it
    blocking_rules: list[str] = []  # the rules behind the blocking facts
    deeper: list["WhyNot"] = []  # why the missing fact was not concluded either


class WhyNot(BaseModel):
    kind: str
    id: Optional[str] = None  # the value the rule would conclude, when it is fixed
    label: str
    rule: str
    explain: str
    source: SourceRef
    reasons: list[Reason]


class Explanation(BaseModel):
    """An assessment with the reasoning behind every part of it."""

    case: dict[str, Any]
    care_level: str
    conclusions: list[Conclusion]
    not_concluded: list[WhyNot]
    disclaimer: str


FactNode.model_rebuild()
Reason.model_rebuild()


# --- building it -------------------------------------------------------------------------------


def _source(key: str) -> SourceRef:
    src = KB.by_id("sources").get(key)
    return SourceRef(key=key, citation=src.citation if src else "", url=src.url if src else None)


def _label(book: RuleBook, fact_type: str, value: Any) -> Optional[str]:
    spec = book.facts.get(fact_type)
    if spec is None or not spec.values or not isinstance(value, str):
        return None
    name = spec.values
    if name.startswith("case."):
        items = {c.id: c for c in getattr(KB.case, name.split(".", 1)[1], [])}
    else:
        try:
            items = KB.by_id(name)
        except AttributeError:
            return None
    item = items.get(value)
    label = getattr(item, "label", None) or getattr(item, "text", None)
    return " ".join(label.split()) if label else None


def describe_fact(book: RuleBook, fact: dict) -> str:
    """A fact in a line: ``region = neck (neck)``; extra attributes the rules set are shown."""
    t = fact.get("t")
    extras = {k: v for k, v in fact.items() if k not in ("t", "v", "sid")}
    spec = book.facts.get(t)
    if spec and spec.knowledge:  # attributes copied from the knowledge base are noise here
        extras = {k: v for k, v in extras.items() if k not in spec.knowledge.attributes}
    if "v" not in fact:
        body = t + "".join(f" {k}={v}" for k, v in extras.items())
        return body
    value = fact["v"]
    text = t if value is True else f"{t} = {value}"
    label = _label(book, t, value)
    if label and label != value:
        text += f" ({label})"
    if extras:
        text += " [" + ", ".join(f"{k}: {v}" for k, v in extras.items()) + "]"
    return text


class _Builder:
    def __init__(self, run: Run, book: RuleBook):
        self.run, self.book = run, book
        self.answers = {fact_key(f) for f in run.answers}

    def fact_node(self, fact: dict, before: int, seen: set) -> FactNode:
        key = fact_key(fact)
        text = describe_fact(self.book, fact)
        if key in self.answers:
            field = self.book.facts[fact["t"]].from_case
            return FactNode(text=text, origin="answer", fact=fact, field=field)
        if key in seen:
            return FactNode(text=text, origin="concluded", fact=fact, shown_above=True)
        seen.add(key)
        producers = [i for i in self.run.producers.get(key, []) if i < before]
        return FactNode(text=text, origin="concluded", fact=fact,
                        by=[self.rule_node(i, seen) for i in producers])

    def rule_node(self, index: int, seen: set) -> RuleNode:
        firing = self.run.firings[index]
        rule = self.book.rule(firing.rule)
        return RuleNode(
            rule=rule.id, layer=rule.layer, explain=rule.explain, source=_source(rule.source),
            matched=[self.fact_node(f, index, seen) for f in firing.matched.values()],
        )

    def conclusion(self, kind: str, fact: dict, label: str, detail: Optional[str] = None) -> Conclusion:
        key = fact_key(fact)
        seen = {key}
        nodes = [self.rule_node(i, seen) for i in self.run.producers.get(key, [])]
        return Conclusion(kind=kind, id=str(fact["v"]), label=label, detail=detail, because=nodes)


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


# --- the public functions --------------------------------------------------------------------


def explain(data: Union[Case, dict]) -> Explanation:
    """Explain the assessment of one case, conclusion by conclusion, and what was not concluded."""
    case = to_case(data)
    eng = engine_mod.default()
    run = eng.run(case_facts(case))
    return explain_run(case, run, eng.book)


def explain_run(case: Case, run: Run, book: RuleBook) -> Explanation:
    b = _Builder(run, book)
    support = {f["of"]: f["v"] for f in run.of_type("support")}
    conclusions: list[Conclusion] = []
    a = assess(case)
    order = {
        "candidate": [c.type for c in a.candidates],
        "cause": [c.id for c in a.causes],
        "mimic": [m.id for m in a.mimics],
        "next_step": [s.id for s in a.next_steps],
        "care_level": [a.care_level],
    }
    for kind, table in KINDS.items():
        items = KB.by_id(table)
        facts = {f["v"]: f for f in run.of_type(kind)}
        for value in order[kind]:
            fact = facts[value]
            item = items[value]
            label = getattr(item, "label", None) or getattr(item, "text", None) or value
            c = b.conclusion(kind, fact, " ".join(label.split()), support.get(value) if kind == "candidate" else None)
            if kind == "candidate" and value in support:
                # the support level has its own chain: add the rules that set it
                sfact = next(f for f in run.of_type("support") if f["of"] == value)
                seen = {fact_key(sfact)}
                c.because += [b.rule_node(i, seen) for i in run.producers.get(fact_key(sfact), [])]
            conclusions.append(c)
    facts = list(run.facts.values())
    return Explanation(
        case=case.model_dump(mode="json", exclude_none=True),
        care_level=a.care_level,
        conclusions=conclusions,
        not_concluded=_WhyNot(run, book, facts, case_facts(case)).all(),
        disclaimer=KB.text.disclaimer,
    )


def rules_named(ex: Explanation) -> set[str]:
    """Every rule id the explanation names as having fired (not the 'why not' part)."""
    out: set[str] = set()

    def walk_rule(n: RuleNode) -> None:
        out.add(n.rule)
        for f in n.matched:
            for r in f.by:
                walk_rule(r)

    for c in ex.conclusions:
        for n in c.because:
            walk_rule(n)
    return out


# --- what if ---------------------------------------------------------------------------------


class Change(BaseModel):
    op: Literal["add", "remove"]
    field: str
    value: Optional[str] = None


class RuleDiff(BaseModel):
    rule: str
    explain: str
    source: SourceRef


class WhatIf(BaseModel):
    changes: list[Change]
    before: dict[str, Any]
    after: dict[str, Any]
    differences: dict[str, dict[str, Any]]  # part -> {"before": ..., "after": ...}
    rules_only_before: list[RuleDiff]
    rules_only_after: list[RuleDiff]


def _list_fields() -> dict[str, str]:
    from triage.casefields import LIST_FIELDS

    return {name: name for name in LIST_FIELDS}


def field_names() -> dict[str, str]:
    """Accepted names for a case field (the contract name, and the singular of a list field)."""
    from triage.casefields import FIELDS

    names = {f.name: f.name for f in FIELDS}
    for name in _list_fields():
        if name.endswith("s"):
            names.setdefault(name[:-1], name)
    return names


def parse_change(op: str, text: str) -> Change:
    """``field=value`` (or ``field`` alone, to remove a scalar answer); raises ValueError."""
    name, sep, value = text.partition("=")
    name, value = name.strip(), value.strip()
    fields = field_names()
    if name not in fields:
        raise ValueError(f"--{op} {text}: unknown field {name!r}; fields: {', '.join(f for f in Case.model_fields if f != 'version')}")
    field = fields[name]
    if not sep and (op == "add" or field in _list_fields()):
        raise ValueError(f"--{op} {text}: expected FIELD=VALUE, for example --{op} {field}=...")
    return Change(op=op, field=field, value=value if sep else None)


def apply_changes(case: Case, changes: list[Change]) -> Case:
    """The case with the changes made; a bad value or a removal of something absent raises
    ValueError naming the field (and the allowed values, through the case model)."""
    from triage.errors import CaseError

    data = case.model_dump(mode="json", exclude_none=True)
    lists = _list_fields()
    for ch in changes:
        if ch.field in lists:
            items = list(data.get(ch.field, []))
            if ch.op == "add":
                if ch.value not in items:
                    items.append(ch.value)
            else:
                if ch.value not in items:
                    have = ", ".join(items) or "nothing"
                    raise ValueError(f"--remove {ch.field}={ch.value}: the case does not have it ({ch.field}: {have})")
                items.remove(ch.value)
            data[ch.field] = items
        else:
            if ch.op == "add":
                value: Any = ch.value
                if ch.field in ("age", "onset_age"):
                    try:
                        value = int(value)
                    except (TypeError, ValueError):
                        raise ValueError(f"--add {ch.field}={ch.value}: expected whole years") from None
                data[ch.field] = value
            else:
                if ch.field not in data or (ch.value is not None and str(data[ch.field]) != ch.value):
                    raise ValueError(f"--remove {ch.field}{'=' + ch.value if ch.value else ''}: "
                                     f"the case has {ch.field}: {data.get(ch.field, 'nothing')}")
                del data[ch.field]
    try:
        return to_case(data)
    except CaseError as exc:
        raise ValueError(f"the changed case is not valid: {exc}") from None


def _summary(a: Assessment) -> dict[str, Any]:
    return {
        "care_level": a.care_level,
        "candidates": [f"{c.type} ({c.support})" for c in a.candidates],
        "causes": [c.id for c in a.causes],
        "mimics": [m.id for m in a.mimics],
        "next_steps": [s.id for s in a.next_steps],
    }


def what_if(data: Union[Case, dict], changes: list[Change]) -> WhatIf:
    """How the assessment changes with the answers changed, and the rules that made the difference."""
    case = to_case(data)
    changed = apply_changes(case, changes)
    before, after = assess(case), assess(changed)
    sb, sa = _summary(before), _summary(after)
    book = engine_mod.default().book
    fired_b = list(dict.fromkeys(t.rule for t in before.trace))
    fired_a = list(dict.fromkeys(t.rule for t in after.trace))

    def diff(rules: list[str], other: list[str]) -> list[RuleDiff]:
        return [RuleDiff(rule=r, explain=book.rule(r).explain, source=_source(book.rule(r).source))
                for r in rules if r not in other]

    return WhatIf(
        changes=changes,
        before=sb, after=sa,
        differences={k: {"before": sb[k], "after": sa[k]} for k in sb if sb[k] != sa[k]},
        rules_only_before=diff(fired_b, fired_a),
        rules_only_after=diff(fired_a, fired_b),
    )


# --- text ------------------------------------------------------------------------------------

INDENT = "  "


def _source_text(src: SourceRef) -> str:
    cite = f"{src.key} — {src.citation}" if src.citation and src.citation != src.key else src.key
    return cite


def _rule_lines(n: RuleNode, pad: str, shown: set, out: list[str]) -> None:
    out.append(f"{pad}<- rule {n.rule}: {n.explain}")
    out.append(f"{pad}   source: {_source_text(n.source)}")
    for f in n.matched:
        _fact_lines(f, pad + "     ", shown, out)


def _fact_lines(f: FactNode, pad: str, shown: set, out: list[str]) -> None:
    if f.origin == "answer":
        value = f.text.split(" = ", 1)[1] if " = " in f.text else f.text
        out.append(f"{pad}answer: {f.field} = {value}")
        return
    key = repr(sorted((k, str(v)) for k, v in f.fact.items()))
    if f.shown_above or key in shown:
        out.append(f"{pad}fact: {f.text} (explained above)")
        return
    shown.add(key)
    out.append(f"{pad}fact: {f.text}")
    for r in f.by:
        _rule_lines(r, pad + "  ", shown, out)


TITLES = {
    "care_level": "Care level",
    "candidate": "May fit the pattern of",
    "cause": "Possible cause",
    "mimic": "Look-alike condition",
    "next_step": "Next step",
}


def _why_not_lines(w: WhyNot, depth: int, out: list[str]) -> None:
    pad = INDENT * depth
    out.append(f"{pad}not {w.label} (rule {w.rule}: {w.explain})")
    for r in w.reasons:
        if r.kind == "blocked":
            out.append(f"{pad}  - {r.text}")
            out.append(f"{pad}    present: {'; '.join(r.blocking)}"
                       + (f" (from rules: {', '.join(r.blocking_rules)})" if r.blocking_rules else ""))
        else:
            if r.found:
                out.append(f"{pad}  - found: {'; '.join(r.found)}")
            out.append(f"{pad}  - {r.text}: none"
                       + (f" (there is: {'; '.join(r.instead)})" if r.instead else ""))
            for d in r.deeper:
                _why_not_lines(d, depth + 2, out)


def text(ex: Explanation) -> str:
    """The explanation as an indented tree, conclusion by conclusion."""
    out: list[str] = ["EXPLANATION (for learning; not a diagnosis)", ""]
    answers = "; ".join(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
                        for k, v in ex.case.items() if k != "version" and v not in ([], None))
    out += [f"Answers: {answers or 'none'}", ""]
    shown: set = set()
    for c in ex.conclusions:
        head = f"{TITLES[c.kind]}: {c.label} [{c.id}]"
        if c.detail:
            head += f" — support: {c.detail}"
        out.append(head)
        for n in c.because:
            _rule_lines(n, INDENT, shown, out)
        out.append("")
    if ex.not_concluded:
        out += ["Not concluded, and why not:", ""]
        for w in ex.not_concluded:
            _why_not_lines(w, 1, out)
        out.append("")
    out.append(" ".join(ex.disclaimer.split()))
    return "\n".join(out) + "\n"


def what_if_text(w: WhatIf) -> str:
    out = ["WHAT IF (for learning; not a diagnosis)", ""]
    out.append("Changes: " + ", ".join(
        f"{'+' if c.op == 'add' else '-'} {c.field}{'=' + c.value if c.value else ''}" for c in w.changes))
    out.append("")
    if not w.differences:
        out += ["The result does not change.", ""]
    for part, d in w.differences.items():
        b, a = d["before"], d["after"]
        if isinstance(b, list):
            gone = [x for x in b if x not in a]
            new = [x for x in a if x not in b]
            out.append(f"{part}:")
            out += [f"  - {x}" for x in gone] + [f"  + {x}" for x in new]
            if not gone and not new:
                out.append(f"  order: {', '.join(b)} -> {', '.join(a)}")
        else:
            out.append(f"{part}: {b} -> {a}")
    out.append("")
    for title, rules in (("Rules that fire only after the change:", w.rules_only_after),
                         ("Rules that no longer fire:", w.rules_only_before)):
        if rules:
            out.append(title)
            out += [f"  {r.rule}: {r.explain} [{r.source.key}]" for r in rules]
            out.append("")
    out.append(" ".join(KB.text.disclaimer.split()))
    return "\n".join(out) + "\n"

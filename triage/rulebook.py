"""The rule book: the YAML rules in ``rules/``, validated and compiled for durable_rules.

A rule file holds one *layer*. Layers run in file-name order; a rule fires only once its layer
is open, and a layer opens when everything before it has settled. Within and across layers,
rules chain forward: what one rule concludes is a fact that later rules match.

The small language (see ``docs/rules-language.md``)::

    - id: hemidystonia                     # named after what it concludes
      explain: One line, in plain words ({a_setting} gives its value from knowledge/settings.yaml).
      source: DUK-HEMI                     # a key of knowledge/sources.yaml
      when:                                # every pattern must match (a join)
        - arm_and_leg_one_side: {}         # any fact of that kind
        - region: {as: arm, limb: upper}   # named, with tests on attributes
      unless:                              # none of these may exist (negation)
        - trunk_and_two_more: {}
      then:                                # the facts it concludes
        - candidate: hemidystonia

A value test is a literal (equality), ``$alias`` or ``$alias.attr`` (equality with a fact
matched earlier), or one of ``{not: …}``, ``{in: […]}``, ``{below: …}``, ``{above: …}``,
``{at_most: …}``, ``{at_least: …}``, ``{exists: true|false}``. Tests written directly in the
pattern apply to the fact's value ``v``; numbers may name a setting of knowledge/settings.yaml.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from triage import knowledge as kbase
from triage.errors import RulesError
from triage.paths import rules_dir

GATE = "gate"  # the fact type that opens a layer


def wire_type(fact_type: str) -> str:
    """The attribute that carries a fact's type to durable_rules (patterns here, facts in
    ``Engine._head``):
    the type is in the attribute's name (``"@region": 1``), not its value (``"t": "region"``).
    durable_rules indexes the tests below a node by the attribute they read and tries each test
    on that attribute in turn; with the type in a value, every fact would be tried against a
    test for every type. ``@`` is not allowed in a rule book's names, so no attribute clashes."""
    return "@" + fact_type


def wire_gate(layer: str) -> str:
    """The attribute that carries a layer's gate to durable_rules (see :func:`wire_type`)."""
    return wire_type(GATE) + "@" + layer


OPS = {
    "not": "ne",
    "in": "in",
    "below": "lt",
    "above": "gt",
    "at_most": "le",
    "at_least": "ge",
    "exists": "exists",
}
NUMERIC = {"lt", "gt", "le", "ge"}
DURABLE_OP = {"ne": "$neq", "lt": "$lt", "gt": "$gt", "le": "$lte", "ge": "$gte"}
ID = re.compile(r"^[a-z][a-z0-9_]*$")


# --- the files, as Pydantic models ----------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class RuleSpec(_Strict):
    id: str
    explain: str = Field(min_length=1)
    source: str
    when: list[dict[str, Any]] = []
    unless: list[dict[str, Any]] = []
    then: list[dict[str, Any]] = Field(min_length=1)


class RuleFile(_Strict):
    layer: str
    title: str
    about: str
    rules: list[RuleSpec] = Field(min_length=1)


class KnowledgeLink(_Strict):
    table: str
    attributes: list[str] = []


class FactSpec(_Strict):
    about: str
    values: Optional[str] = None
    from_case: Optional[str] = None
    knowledge: Optional[KnowledgeLink] = None


class FactsFile(_Strict):
    facts: dict[str, FactSpec]
    value_lists: dict[str, list[str]] = {}


# --- the compiled form -----------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """A value taken from a fact matched earlier in the same rule."""

    alias: str
    attr: str = "v"

    def __str__(self) -> str:
        return f"${self.alias}" if self.attr == "v" else f"${self.alias}.{self.attr}"


@dataclass(frozen=True)
class Each:
    """One conclusion per item of a list attribute of a matched fact."""

    ref: Ref


@dataclass(frozen=True)
class Test:
    attr: str
    op: str  # eq ne in lt gt le ge exists
    value: Any


@dataclass(frozen=True)
class Pattern:
    fact: str
    alias: str
    tests: tuple[Test, ...]
    negated: bool = False

    def accepts(self, fact: dict) -> bool:
        """Whether ``fact`` passes this pattern's own tests (tests on other facts are not
        looked at). As in durable_rules, a missing attribute fails every comparison. It is
        stricter than durable_rules only where a case cannot go (validated in models.Case, and
        the knowledge attributes checked at load): durable_rules also compares a number with a
        boolean (as 0 or 1) or a string (as text), and finds null equal to null."""
        if fact.get("t") != self.fact:
            return False
        for test in self.tests:
            if isinstance(test.value, Ref):
                if test.op != "exists" and test.attr not in fact:
                    return False
                continue
            have = fact.get(test.attr)
            if test.op == "exists":
                if (test.attr in fact) != bool(test.value):
                    return False
                continue
            if have is None:
                return False
            if test.op == "eq" and have != test.value:
                return False
            if test.op == "ne" and have == test.value:
                return False
            if test.op == "in" and have not in test.value:
                return False
            if test.op in NUMERIC:
                if not isinstance(have, (int, float)) or isinstance(have, bool):
                    return False
                if not _compare(test.op, have, test.value):
                    return False
        return True


def _compare(op: str, a: float, b: float) -> bool:
    return {"lt": a < b, "gt": a > b, "le": a <= b, "ge": a >= b}[op]


@dataclass(frozen=True)
class Conclusion:
    fact: str
    attrs: tuple[tuple[str, Any], ...]  # value: literal, Ref or Each


@dataclass(frozen=True)
class Rule:
    id: str
    layer: str
    explain: str
    source: str
    file: str
    when: tuple[Pattern, ...]
    unless: tuple[Pattern, ...]
    then: tuple[Conclusion, ...]
    spec: RuleSpec = field(compare=False, repr=False)

    def reads(self) -> list[str]:
        return sorted({p.fact for p in self.when + self.unless})

    def concludes(self) -> list[str]:
        return sorted({c.fact for c in self.then})

    def conclude(self, matched: dict[str, dict]) -> list[dict]:
        """The facts this rule concludes from the facts it matched (by alias)."""
        out: list[dict] = [{}]
        for conclusion in self.then:
            facts = [{"t": conclusion.fact}]
            for attr, value in conclusion.attrs:
                if isinstance(value, Each):
                    items = _resolve(value.ref, matched, self.id)
                    facts = [dict(f, **{attr: item}) for f in facts for item in items]
                else:
                    resolved = _resolve(value, matched, self.id) if isinstance(value, Ref) else value
                    for f in facts:
                        f[attr] = resolved
            out.extend(facts)
        return out[1:]


def _resolve(ref: Ref, matched: dict[str, dict], rule: str) -> Any:
    value = matched[ref.alias].get(ref.attr)
    if value is None:
        raise RuntimeError(f"rule {rule}: {ref} has no value in the matched fact")
    return value


@dataclass(frozen=True)
class Layer:
    name: str
    title: str
    about: str
    file: str
    rules: tuple[Rule, ...]


@dataclass
class RuleBook:
    """Every layer in order, the fact vocabulary, and the knowledge base they were checked
    against."""

    layers: tuple[Layer, ...]
    facts: dict[str, FactSpec]
    value_lists: dict[str, list[str]]
    kb: kbase.KnowledgeBase

    @property
    def rules(self) -> list[Rule]:
        return [r for layer in self.layers for r in layer.rules]

    def rule(self, rule_id: str) -> Rule:
        return self._by_id[rule_id]

    def __post_init__(self) -> None:
        self._by_id = {r.id: r for r in self.rules}
        self._patterns: dict[str, list[Pattern]] = {}
        for r in self.rules:
            for p in r.when + r.unless:
                self._patterns.setdefault(p.fact, []).append(p)
        self._consumed: dict[str, bool] = {}
        # what every trace entry of a rule shares (the Assessment copies it for each firing)
        self.trace_heads = {r.id: {"rule": r.id, "layer": r.layer, "explain": r.explain, "source": r.source}
                            for r in self.rules}
        # (fact type, the case field it comes from), for the fact types that are answers
        self.case_fields = [(name, spec.from_case) for name, spec in self.facts.items() if spec.from_case]

    def patterns_for(self, fact_type: str) -> list[Pattern]:
        return self._patterns.get(fact_type, [])

    def consumes(self, fact: dict, key: Optional[tuple] = None) -> bool:
        """Whether some rule can match ``fact`` (durable_rules rejects facts no rule matches).
        ``key`` is the fact's identity when the caller has it already (see engine.fact_key)."""
        if key is None:
            key = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in fact.items()))
        known = self._consumed.get(key)  # type: ignore[call-overload]
        if known is None:
            known = any(p.accepts(fact) for p in self.patterns_for(fact["t"]))
            if len(self._consumed) < 10_000:
                self._consumed[key] = known  # type: ignore[index]
        return known

    def tested_attributes(self) -> dict[str, tuple[str, ...]]:
        """For each fact type, the attributes some pattern tests or compares with (always
        ``t`` and ``v``): all that the rules engine needs of a fact to match it. The other
        attributes (knowledge a conclusion copies, for example) stay with the adapter."""
        out: dict[str, set[str]] = {name: {"t", "v"} for name in self.facts}
        for rule in self.rules:
            named = {p.alias: p.fact for p in rule.when}
            for p in rule.when + rule.unless:
                for test in p.tests:
                    out[p.fact].add(test.attr)
                    if isinstance(test.value, Ref) and test.value.alias in named:
                        out[named[test.value.alias]].add(test.value.attr)
        return {name: tuple(sorted(attrs)) for name, attrs in out.items()}

    def readers(self, fact: dict) -> list[Rule]:
        """The rules with a pattern that ``fact`` passes (used to explain why a question is asked)."""
        return [r for r in self.rules if any(p.accepts(fact) for p in r.when + r.unless)]

    def durable_definition(self, action_for) -> dict:
        """The ruleset in durable_rules' JSON form; ``action_for(rule)`` gives each action."""
        return {r.id: {"all": _durable_patterns(r), "run": action_for(r)} for r in self.rules}


# --- compiling ---------------------------------------------------------------------------------


def _durable_value(value: Any) -> Any:
    if isinstance(value, Ref):
        return {value.alias: value.attr}
    return value


def _durable_test(test: Test) -> dict:
    if test.op == "eq":
        return {test.attr: _durable_value(test.value)}
    if test.op == "in":
        return {"$or": [{test.attr: v} for v in test.value]}
    if test.op == "exists":
        return {"$ex" if test.value else "$nex": {test.attr: 1}}
    return {DURABLE_OP[test.op]: {test.attr: _durable_value(test.value)}}


def _durable_pattern(p: Pattern) -> dict:
    tests = [{wire_type(p.fact): 1}] + [_durable_test(t) for t in p.tests]
    body = tests[0] if len(tests) == 1 else {"$and": tests}
    return {f"{p.alias}$not" if p.negated else p.alias: body}


def _durable_patterns(rule: Rule) -> list[dict]:
    """The gate, then the ``when`` patterns in order, each ``unless`` pattern right after the
    last ``when`` pattern it refers to. durable_rules never matches a fact twice in one
    combination, so a negation placed after a pattern would not see the fact bound there; at
    its earliest place a negation is tested against every fact, as ``unless`` says."""
    gate = {"layer": {wire_gate(rule.layer): 1}}
    position = {p.alias: i for i, p in enumerate(rule.when)}
    after: dict[int, list[Pattern]] = {}
    for n in rule.unless:
        refs = [position[t.value.alias] for t in n.tests if isinstance(t.value, Ref) and t.value.alias in position]
        after.setdefault(max(refs) if refs else len(rule.when) - 1, []).append(n)
    out = [gate] + [_durable_pattern(n) for n in after.get(-1, [])]
    for i, p in enumerate(rule.when):
        out += [_durable_pattern(p)] + [_durable_pattern(n) for n in after.get(i, [])]
    return out


class _Compiler:
    def __init__(self, kb: kbase.KnowledgeBase, facts: FactsFile, facts_file: str):
        self.kb = kb
        self.facts = facts.facts
        self.value_lists = facts.value_lists
        self.facts_file = facts_file
        self.problems: list[str] = []

    # values a fact's `v` may take, or None when open (numbers, booleans)
    @functools.cached_property
    def allowed(self) -> dict[str, Optional[set]]:
        out: dict[str, Optional[set]] = {}
        for name, spec in self.facts.items():
            out[name] = self._vocabulary(name, spec.values) if spec.values else None
        return out

    def _vocabulary(self, fact: str, name: str) -> Optional[set]:
        if name in self.value_lists:
            return set(self.value_lists[name])
        if name.startswith("case."):
            field_name = name.split(".", 1)[1]
            choices = getattr(self.kb.case, field_name, None)
            if choices is None:
                self.problems.append(f"{self.facts_file}: facts.{fact}.values: unknown case field {field_name!r}")
                return None
            return {c.id for c in choices}
        try:
            return set(self.kb.ids(name))
        except AttributeError:
            self.problems.append(f"{self.facts_file}: facts.{fact}.values: unknown list {name!r}")
            return None

    def explained(self, text: str, where: str) -> str:
        """A rule's explanation with each ``{setting}`` replaced by the setting's value (the
        thresholds live in knowledge/settings.yaml; the words a person reads name the age)."""
        def value(m: re.Match) -> str:
            name = m.group(1)
            if name not in self.kb.settings:
                self.problems.append(f"{where}: {{{name}}} is not a setting; settings: {', '.join(sorted(self.kb.settings))}")
                return m.group(0)
            return f"{self.kb.setting(name):g}"
        return re.sub(r"\{([a-z_]+)\}", value, text)

    def setting_or_number(self, value: Any, where: str) -> Any:
        if isinstance(value, bool):
            self.problems.append(f"{where}: expected a number or a setting name, got {value!r}")
            return 0
        if isinstance(value, (int, float)) or isinstance(value, Ref):
            return value
        if isinstance(value, str) and value in self.kb.settings:
            return self.kb.setting(value)
        self.problems.append(
            f"{where}: {value!r} is neither a number nor a setting; settings: {', '.join(sorted(self.kb.settings))}"
        )
        return 0

    def value(self, raw: Any, aliases: set[str], where: str) -> Any:
        if isinstance(raw, str) and raw.startswith("$"):
            alias, _, attr = raw[1:].partition(".")
            if alias not in aliases:
                self.problems.append(f"{where}: {raw} refers to no earlier pattern (known: {', '.join(sorted(aliases)) or 'none'})")
            return Ref(alias, attr or "v")
        return raw

    def check_literal(self, fact: str, attr: str, value: Any, where: str) -> None:
        if attr != "v" or isinstance(value, Ref):
            return
        allowed = self.allowed.get(fact)
        values = value if isinstance(value, list) else [value]
        for v in values:
            if allowed is not None and v not in allowed:
                self.problems.append(f"{where}: {v!r} is not a known {fact}; allowed: {', '.join(sorted(allowed))}")

    def tests(self, fact: str, attr: str, raw: Any, aliases: set[str], where: str) -> list[Test]:
        if isinstance(raw, dict):
            if len(raw) != 1 or next(iter(raw)) not in OPS:
                self.problems.append(f"{where}.{attr}: expected one of {', '.join(OPS)}, got {raw!r}")
                return []
            (word, arg), = raw.items()
            op = OPS[word]
            if op == "ne":
                items = arg if isinstance(arg, list) else [arg]
                out = [Test(attr, "ne", self.value(i, aliases, where)) for i in items]
                for t in out:
                    self.check_literal(fact, attr, t.value, where)
                return out
            if op == "in":
                if not isinstance(arg, list) or not arg:
                    self.problems.append(f"{where}.{attr}: 'in' takes a non-empty list")
                    return []
                self.check_literal(fact, attr, arg, where)
                return [Test(attr, "in", tuple(arg))]
            if op == "exists":
                return [Test(attr, "exists", bool(arg))]
            return [Test(attr, op, self.setting_or_number(self.value(arg, aliases, where), f"{where}.{attr}"))]
        value = self.value(raw, aliases, where)
        self.check_literal(fact, attr, value, where)
        return [Test(attr, "eq", value)]

    def pattern(self, raw: dict, index: int, negated: bool, aliases: set[str], where: str) -> Optional[Pattern]:
        if not isinstance(raw, dict) or len(raw) != 1:
            self.problems.append(f"{where}: a pattern is one mapping 'fact: tests', got {raw!r}")
            return None
        (fact, spec), = raw.items()
        if fact not in self.facts:
            self.problems.append(f"{where}: unknown fact {fact!r} (declared in {self.facts_file})")
            return None
        alias = f"n{index}" if negated else f"p{index}"
        tests: list[Test] = []
        if spec is None:
            spec = {}
        if isinstance(spec, dict):
            for key, val in spec.items():
                if key == "as":
                    if negated:
                        self.problems.append(f"{where}: a pattern under 'unless' cannot be named")
                    elif not isinstance(val, str) or not ID.match(val) or val in aliases or val == "layer":
                        self.problems.append(f"{where}: bad or repeated name {val!r}")
                    else:
                        alias = val
                elif key in OPS:
                    tests += self.tests(fact, "v", {key: val}, aliases, where)
                else:
                    tests += self.tests(fact, key, val, aliases, where)
        else:
            tests += self.tests(fact, "v", spec, aliases, where)
        return Pattern(fact, alias, tuple(tests), negated)

    def conclusion(self, raw: dict, aliases: set[str], where: str) -> Optional[Conclusion]:
        if not isinstance(raw, dict) or len(raw) != 1:
            self.problems.append(f"{where}: a conclusion is one mapping 'fact: value', got {raw!r}")
            return None
        (fact, spec), = raw.items()
        if fact not in self.facts:
            self.problems.append(f"{where}: unknown fact {fact!r} (declared in {self.facts_file})")
            return None
        if self.facts[fact].from_case:
            self.problems.append(f"{where}: {fact!r} comes from the case; rules cannot conclude it")
        attrs: list[tuple[str, Any]] = []
        items = spec.items() if isinstance(spec, dict) and "each" not in spec else [("v", spec)]
        for attr, val in items:
            if isinstance(val, dict) and set(val) == {"each"}:
                ref = self.value(val["each"], aliases, where)
                if not isinstance(ref, Ref):
                    self.problems.append(f"{where}: 'each' takes a $reference")
                    continue
                attrs.append((attr, Each(ref)))
                continue
            value = self.value(val, aliases, where)
            self.check_literal(fact, attr, value, where)
            attrs.append((attr, value))
        return Conclusion(fact, tuple(attrs))

    def rule(self, spec: RuleSpec, layer: str, file: str, index: int) -> Optional[Rule]:
        where = f"{file}: rules.{index} ({spec.id})"
        if not ID.match(spec.id):
            self.problems.append(f"{where}: id must be lower_snake_case")
        if spec.source not in self.kb.by_id("sources"):
            self.problems.append(f"{where}: source {spec.source!r} is not a key of knowledge/sources.yaml")
        aliases: set[str] = set()
        when = []
        for i, raw in enumerate(spec.when):
            p = self.pattern(raw, i, False, aliases, f"{where}.when.{i}")
            if p:
                when.append(p)
                aliases.add(p.alias)
        unless = [p for i, raw in enumerate(spec.unless)
                  if (p := self.pattern(raw, i, True, aliases, f"{where}.unless.{i}"))]
        then = [c for i, raw in enumerate(spec.then)
                if (c := self.conclusion(raw, aliases, f"{where}.then.{i}"))]
        explain = self.explained(spec.explain, f"{where}.explain")
        return Rule(spec.id, layer, explain, spec.source, file, tuple(when), tuple(unless), tuple(then), spec)


def _read_model(model, path: Path):
    doc = kbase.read_yaml(path)
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise RulesError(f"{path}: {detail}") from None


def load(directory: Path | None = None, kb: kbase.KnowledgeBase | None = None) -> RuleBook:
    """Read, check and compile every rule file in ``directory``."""
    directory = Path(directory) if directory else rules_dir()
    kb = kb or kbase.default()
    facts_path = directory / "facts.yaml"
    facts = _read_model(FactsFile, facts_path)
    compiler = _Compiler(kb, facts, str(facts_path))
    compiler.allowed  # noqa: B018 - report vocabulary problems early
    layers: list[Layer] = []
    seen_rules: dict[str, str] = {}
    files = sorted(p for p in directory.glob("*.yaml") if p.name != "facts.yaml")
    if not files:
        raise RulesError(f"{directory}: no rule files")
    for path in files:
        spec = _read_model(RuleFile, path)
        if any(layer.name == spec.layer for layer in layers):
            compiler.problems.append(f"{path}: layer {spec.layer!r} is used by another file")
        rules = []
        for i, rs in enumerate(spec.rules):
            if rs.id in seen_rules:
                compiler.problems.append(f"{path}: rules.{i}: id {rs.id!r} is already used in {seen_rules[rs.id]}")
            seen_rules[rs.id] = str(path)
            rule = compiler.rule(rs, spec.layer, str(path), i)
            if rule:
                rules.append(rule)
        layers.append(Layer(spec.layer, spec.title, spec.about, str(path), tuple(rules)))
    book = RuleBook(tuple(layers), facts.facts, facts.value_lists, kb)
    compiler.problems += _check_book(book)
    if compiler.problems:
        raise RulesError("; ".join(compiler.problems))
    return book


def _check_book(book: RuleBook) -> list[str]:
    """Checks across rules: attributes exist, and negation only looks at settled layers."""
    problems: list[str] = []
    order = {layer.name: i for i, layer in enumerate(book.layers)}
    concluded_in: dict[str, set[int]] = {}
    attributes: dict[str, set[str]] = {name: {"v"} for name in book.facts}
    for name, spec in book.facts.items():
        if spec.knowledge:
            attributes[name] |= set(spec.knowledge.attributes)
            table = getattr(book.kb, spec.knowledge.table, None)
            if table is None:
                problems.append(f"facts.{name}.knowledge.table: unknown table {spec.knowledge.table!r}")
    concluders: dict[tuple[str, int], set[str]] = {}
    for rule in book.rules:
        for c in rule.then:
            concluded_in.setdefault(c.fact, set()).add(order[rule.layer])
            concluders.setdefault((c.fact, order[rule.layer]), set()).add(rule.id)
            attributes[c.fact] |= {a for a, _ in c.attrs}
    for rule in book.rules:
        here = order[rule.layer]
        named = {p.alias: p.fact for p in rule.when}

        def has(fact: str, attr: str) -> None:
            if attr not in attributes[fact]:
                problems.append(
                    f"{rule.file}: {rule.id}: {fact!r} has no attribute {attr!r}; "
                    f"it has: {', '.join(sorted(attributes[fact]))}"
                )

        refs: list[Ref] = []
        for p in rule.when + rule.unless:
            for t in p.tests:
                has(p.fact, t.attr)
                if isinstance(t.value, Ref):
                    refs.append(t.value)
        for c in rule.then:
            refs += [v.ref if isinstance(v, Each) else v for _, v in c.attrs if isinstance(v, (Ref, Each))]
        for ref in refs:
            if ref.alias in named:
                has(named[ref.alias], ref.attr)
        for p in rule.unless:
            # A rule may deny what only it concludes in its own layer (a default that stops
            # itself); anything else must be settled in an earlier layer.
            late = [i for i in concluded_in.get(p.fact, ())
                    if i > here or (i == here and concluders[(p.fact, i)] != {rule.id})]
            if late:
                problems.append(
                    f"{rule.file}: {rule.id}: 'unless {p.fact}' looks at a fact that the layer "
                    f"{book.layers[max(late)].name!r} still concludes; negation may only look at earlier layers"
                )
        for p in rule.when:
            # Rules chain forward into later layers, never back: the engine opens a layer only
            # when its rules could fire on the facts in by then, and asserts a conclusion that
            # only later layers read with the next gate (triage/engine.py).
            ahead = [i for i in concluded_in.get(p.fact, ()) if i > here]
            if ahead:
                problems.append(
                    f"{rule.file}: {rule.id}: '{p.fact}' is concluded by the later layer "
                    f"{book.layers[min(ahead)].name!r}; a rule may only read facts of its own or earlier layers"
                )
    for fact, spec in book.facts.items():
        if spec.from_case is None and fact not in concluded_in:
            problems.append(f"facts.{fact}: no rule concludes it and it does not come from the case")
    rule_ids = {r.id for r in book.rules}
    for i, e in enumerate(book.kb.fhir.emergency_answers):  # the form's emergencies name their rule
        if e.rule not in rule_ids:
            problems.append(f"fhir.yaml: fhir.emergency_answers.{i}.rule: {e.rule!r} is not a rule of the rule book")
    return problems


@functools.lru_cache(maxsize=1)
def default() -> RuleBook:
    """The project's own rule book, loaded once per process."""
    return load()

"""The engine adapter: many sessions, threads, exceptions in rules, the trace, re-import."""

from __future__ import annotations

import gc
import json
import importlib
import shutil
import threading
from pathlib import Path

import pytest

from tests.conftest import ROOT, case
from triage import assess
from triage.errors import EngineError, RulesError
from triage.rulebook import wire_gate

CASES = [
    case(symptoms=["eye_blinking"], features=["sensory_trick"], age=61, onset_age=58),
    case(symptoms=["widespread_spasms", "jerks"], age=12, history=["family_history"]),
    case(regions=["eyes", "larynx", "neck", "upper_limb_left"], age=40),
    case(symptoms=["neck_craning"], dopamine_blocker="recent", red_flags=["breathing_difficulty"]),
    case(symptoms=["tremor"]),
    case(),
]


def summary(a):
    return a.model_dump(mode="json")


def resident_mb() -> float:
    """This process's resident memory (VmRSS), after a garbage collection."""
    gc.collect()
    line = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def test_five_thousand_assessments_in_one_process():
    # far past the engine's 1,024 live sessions: each session is deleted after use
    expected = [summary(assess(c)) for c in CASES]
    for i in range(5000):
        if i == 500:  # caches are warm by now: from here on, memory must stay flat
            warm = resident_mb()
        assert summary(assess(CASES[i % len(CASES)])) == expected[i % len(CASES)]
    # a leak of one kilobyte per assessment would exceed 4 MB here; the soak in benchmarks/ runs 100,000
    assert resident_mb() - warm < 4.0


def test_eight_threads_give_the_sequential_results():
    expected = [summary(assess(c)) for c in CASES]
    results: dict[tuple[int, int], dict] = {}
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for i in range(150):
                results[(worker, i)] = summary(assess(CASES[(worker + i) % len(CASES)]))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 8 * 150
    for (worker, i), got in results.items():
        assert got == expected[(worker + i) % len(CASES)]


def _copy_rules(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    return rules


def test_an_exception_inside_a_rule_reaches_the_caller(tmp_path):
    from triage import rulebook
    from triage.engine import Engine

    rules = _copy_rules(tmp_path)
    text = (rules / "50_distribution.yaml").read_text()
    # `$only.nothing` names an attribute the matched fact does not have: the action raises
    text = text.replace("- candidate: $only.focal_type", "- candidate: $only.nothing")
    (rules / "50_distribution.yaml").write_text(text)
    with pytest.raises(RulesError, match="'single_region' has no attribute 'nothing'"):
        rulebook.load(rules)  # the checker refuses the unknown attribute at load ...
    # ... so break it past the checker: a conclusion whose reference is empty at run time
    text = text.replace("- candidate: $only.nothing", "- candidate: $only.focal_type")
    (rules / "50_distribution.yaml").write_text(text)
    book = rulebook.load(rules)
    engine = Engine(book)
    focal = book.rule("focal")

    def broken(matched):
        raise ValueError("boom in a rule")

    object.__setattr__(focal, "conclude", broken)
    with pytest.raises(EngineError, match="focal.*boom in a rule"):
        engine.run([{"t": "region_reported", "v": "eyes"}])
    # the engine still works for the next case, and no session is left behind
    assert engine.run([{"t": "region_reported", "v": "neck"}, {"t": "region_reported", "v": "trunk"}])
    assert engine._sessions == {}


# Run in a new process: what goes wrong is an abort of the whole process, in the first session
# of a new engine (durable_rules frees the uninitialised action context of a session deleted
# before any action started in it).
_FIRST_SESSION = """
import sys
from triage import rulebook
from triage.engine import Engine
from triage.errors import EngineError

engine = Engine(rulebook.default())
real = engine._c
stop = sys.argv[1]

class Stopped:
    # the C binding, stopped where the argument says
    def __getattr__(self, name):
        if stop == "interrupted" and name == "start_action_for_state":
            def interrupted(*args):
                raise KeyboardInterrupt  # Ctrl-C after the first assert, before any action
            return interrupted
        if stop == "refused" and name == "assert_facts":
            def refused(handle, facts):
                real.assert_facts(handle, facts)
                return (1, 0)  # the engine says the first assert matched no rule
            return refused
        return getattr(real, name)

engine._c = Stopped()
try:
    engine.run([{"t": "symptom", "v": "neck_craning"}])
except (KeyboardInterrupt, EngineError) as exc:
    print("stopped:", type(exc).__name__)
engine._c = real
print("next run:", len(engine.run([{"t": "symptom", "v": "neck_craning"}]).firings), "firings")
print("sessions left:", len(engine._sessions))
"""


@pytest.mark.parametrize("stop, error", [("interrupted", "KeyboardInterrupt"), ("refused", "EngineError")])
def test_a_first_run_stopped_before_any_rule_fired_ends_cleanly(stop, error):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _FIRST_SESSION, stop], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines[0] == f"stopped: {error}"
    assert lines[1].startswith("next run: ") and int(lines[1].split()[2]) > 0
    assert lines[2] == "sessions left: 0"


def test_the_trace_names_each_rule_with_the_facts_it_matched():
    result = assess(case(symptoms=["eye_blinking"]))
    by_rule = {t.rule: t for t in result.trace}
    step = by_rule["region_implied_by_symptom"]
    assert step.matched["s"]["v"] == "eye_blinking"
    assert step.concluded[0]["t"] == "region" and step.concluded[0]["v"] == "eyes"
    assert by_rule["focal"].concluded[1]["v"] == "focal.blepharospasm"
    assert step.explain and step.source


def test_derived_facts_trigger_later_rules():
    """Forward chaining: the focal rule fires on a fact that another rule concluded."""
    result = assess(case(symptoms=["eye_blinking"]))
    order = [t.rule for t in result.trace]
    assert order.index("region_implied_by_symptom") < order.index("one_region_only") < order.index("focal")
    assert result.trace[order.index("focal")].matched["only"]["t"] == "single_region"


def test_importing_everything_twice_registers_nothing_twice():
    import triage.engine as engine_module

    first = engine_module.default()
    reloaded = importlib.reload(engine_module)
    second = reloaded.default()
    assert second is not first
    assert reloaded.Engine(first.book).run([{"t": "region_reported", "v": "eyes"}])
    assert assess(case(symptoms=["eye_blinking"])).candidates


def test_answers_no_rule_reads_are_not_asserted():
    from triage.engine import default

    engine = default()
    kept = engine.answer_facts([{"t": "course", "v": "stable"}, {"t": "onset", "v": "sudden"},
                                {"t": "onset", "v": "sudden"}])
    assert kept == [{"t": "onset", "v": "sudden"}]


def test_the_order_and_duplicates_of_answers_do_not_change_the_assessment_or_its_trace():
    one = assess(case(symptoms=["widespread_spasms", "body_twisting", "jerks"],
                      red_flags=["dark_urine", "breathing_difficulty"], features=["sensory_trick", "urge_to_move"]))
    other = assess(case(symptoms=["jerks", "body_twisting", "widespread_spasms", "jerks"],
                        red_flags=["breathing_difficulty", "dark_urine"], features=["urge_to_move", "sensory_trick"]))
    assert one.model_dump() == other.model_dump()


def test_the_present_age_stands_in_only_when_no_onset_age_is_given():
    fired = {t.rule for t in assess(case(symptoms=["neck_craning"], age=60, onset_age=25)).trace}
    assert "onset_age_as_given" in fired and "onset_age_from_present_age" not in fired
    fired = {t.rule for t in assess(case(symptoms=["neck_craning"], age=60)).trace}
    assert "onset_age_from_present_age" in fired and "onset_age_as_given" not in fired


def _every_case() -> list[dict]:
    import json
    import random

    from tests.oracle import every_region_set
    from triage import teaching

    out = []
    for path in sorted((ROOT / "examples").glob("*.json")) + sorted((ROOT / "tests" / "report_cases").glob("*.json")):
        doc = json.loads(path.read_text())
        out += doc if isinstance(doc, list) else [doc]
    out += [tc.case.model_dump(mode="json", exclude_none=True) for tc in teaching.default()]
    out += [{"version": 1, "regions": list(r)} for r in every_region_set()]
    random.Random(14).shuffle(out)
    return out


def _cases_run_differently(one, other) -> list[dict]:
    """The cases of :func:`_every_case` on which two engines give other firings (or the same in
    another order) or other facts."""
    from triage.assessment import case_facts, to_case

    differ = []
    for data in _every_case():
        facts = case_facts(to_case(data))
        a, b = one.run(facts), other.run(facts)
        if a.firings != b.firings or a.facts != b.facts:
            differ.append(data)
    return differ


def test_what_the_engine_keeps_between_runs_never_changes_a_run(monkeypatch):
    # The adapter keeps, across runs, what each rule concluded from given facts and each fact's
    # JSON (bounded memos). A warm engine, used in a shuffled order, must give exactly the
    # firings and facts of an engine that keeps nothing, on every case.
    import triage.engine as engine_module

    warm = engine_module.default()
    monkeypatch.setattr(engine_module, "MEMO_LIMIT", 0)
    cold = engine_module.Engine(warm.book)
    differ = _cases_run_differently(warm, cold)
    assert not cold._concluded and not cold._heads and not cold._answer_memo  # the cold engine kept nothing
    assert len(warm._concluded) > 100  # and the warm one did
    assert not differ, differ[:3]


def _walk_back(run, key: tuple) -> list[str]:
    """The rules behind a fact, found the slow, plain way: every firing that concluded it,
    every firing that concluded a fact one of those matched, and so on; in firing order."""
    behind, todo = set(), list(run.producers.get(key, ()))
    while todo:
        i = todo.pop()
        if i not in behind:
            behind.add(i)
            todo += [p for source in run.firings[i].sources for p in run.producers.get(source, ())]
    return list(dict.fromkeys(run.firings[i].rule for i in sorted(behind)))


def test_the_rules_behind_each_fact_are_those_a_plain_walk_back_finds():
    # Run.because works with bit masks of the firings behind each firing, settled over the
    # whole run, and keeps what it found; each fact's rules must be those of a plain walk back
    # over the run, whether the fact is the run's own or a copy.
    from triage import engine as engine_module
    from triage.assessment import case_facts, to_case

    eng = engine_module.default()
    differ = []
    for data in _every_case():
        run = eng.run(case_facts(to_case(data)))
        for key, fact in run.facts.items():
            expected = _walk_back(run, key)
            if run.because(fact) != expected or run.because(dict(fact)) != expected:
                differ.append((data, fact))
    assert not differ, differ[:3]


class _Counting:
    """durable_rules' binding, counting the asserts and the layers opened (gate facts)."""

    def __init__(self, binding):
        from triage import engine as engine_module

        self.binding, self.opened, self.asserts = binding, [], 0
        self.layers = [layer.name for layer in engine_module.default().book.layers]

    def __getattr__(self, name):
        call = getattr(self.binding, name)
        if name not in ("assert_fact", "assert_facts"):
            return call

        def asserting(handle, text):
            facts = json.loads(text)
            self.asserts += 1
            self.opened += [layer for f in (facts if isinstance(facts, list) else [facts])
                            for layer in self.layers if wire_gate(layer) in f]
            return call(handle, text)

        return asserting


def test_what_the_adapter_spares_the_engine_changes_no_run():
    # The adapter opens a layer only when one of its rules could fire (for each rule, some
    # pattern on facts that are all in by then is passed by none of them), and asserts a
    # conclusion that only later layers read together with the next gate. An engine that opens
    # every layer and asserts every conclusion at once must give exactly the same firings, in
    # the same order, and facts, on every case; the lean one asserts less and opens fewer layers.
    import triage.engine as engine_module
    from triage.assessment import case_facts, to_case

    book = engine_module.default().book
    lean, plain = engine_module.Engine(book), engine_module.Engine(book)
    plain._gates = [(name, head, None) for name, head, _needs in plain._gates]
    plain._read_by_now = {layer.name: frozenset(book.facts) for layer in book.layers}
    lean._c, plain._c = _Counting(lean._c), _Counting(plain._c)
    differ = _cases_run_differently(lean, plain)
    assert not differ, differ[:3]
    assert len(lean._c.opened) < len(plain._c.opened)
    assert lean._c.asserts < 0.8 * plain._c.asserts
    # eyes that blink and a sensory trick: no jerks, no one-sided face, no look-alike to weigh
    lean._c.opened.clear()
    lean.run(case_facts(to_case(case(symptoms=["eye_blinking"], features=["sensory_trick"], age=61))))
    assert "syndromes" not in lean._c.opened
    assert {"intake", "distribution", "care_level", "next_steps"} <= set(lean._c.opened)


def test_no_rule_fires_on_answers_alone_so_the_first_gate_goes_with_them():
    # The answers and the first layer's gate go to durable_rules in one batch, the gate last.
    # That is the same as asserting them apart only because every rule's first pattern is its
    # layer's gate: no combination can start before the gate is in.
    import triage.engine as engine_module

    book = engine_module.default().book
    for rule_id, rule in book.durable_definition(lambda rule: None).items():
        first = rule["all"][0]
        assert first == {"layer": {wire_gate(book.rule(rule_id).layer): 1}}, rule_id
    counting = engine_module.Engine(book)
    counting._c = _Counting(counting._c)
    counting.run([{"t": "age", "v": 61}, {"t": "symptom", "v": "eye_blinking"}])
    assert counting._c.opened[0] == book.layers[0].name


def test_a_caller_editing_an_assessment_changes_no_later_one():
    c = case(symptoms=["neck_craning"], features=["sensory_trick"], age=45)
    expected = summary(assess(c))
    spoiled = assess(c)
    for entry in spoiled.trace:
        for fact in entry.concluded + list(entry.matched.values()):
            fact["v"] = "spoiled"
    assert summary(assess(c)) == expected


def _fnv1a_32(text: str) -> int:
    """durable_rules' fnv1Hash32 (src/rules/state.c), by which it finds a fact it holds."""
    h = 2166136261
    for byte in text.encode():
        h = ((h ^ byte) * 16777619) & 0xFFFFFFFF
    return h


def test_no_fact_can_be_taken_for_one_the_engine_already_holds():
    # durable_rules refuses a fact ("already held") when a fact of the session has an id with
    # the same 32-bit hash. Every fact and gate the adapter asserts carries an id of its own,
    # numbered in the session, and those numbers, far past the most a case asserts, all hash
    # apart: no case can meet a false "already held" (a gate without an id would get one from a
    # hash of its content, which may meet any other).
    import triage.engine as engine_module
    from triage.assessment import case_facts, to_case

    seen: list[list[dict]] = []

    class Recording(_Counting):
        def __getattr__(self, name):
            call = getattr(self.binding, name)
            if name != "assert_facts":
                return call
            return lambda handle, text: (seen.append(json.loads(text)), call(handle, text))[1]

    eng = engine_module.Engine(engine_module.default().book)
    eng._c = Recording(eng._c)
    regions = ["eyes", "face_jaw", "larynx", "neck", "trunk", "upper_limb_left", "upper_limb_right",
               "lower_limb_left", "lower_limb_right"]
    eng.run(case_facts(to_case(case(regions=regions, age=9, red_flags=[]))))
    ids = [f["id"] for batch in seen for f in batch]
    assert len(ids) == sum(len(batch) for batch in seen) and len(set(ids)) == len(ids)
    assert any(wire_gate("next_steps") in f for batch in seen for f in batch)
    assert max(ids) < 2_000
    assert len({_fnv1a_32(str(i)) for i in range(1, 2_000)}) == 1_999


def test_durable_rules_takes_two_facts_whose_ids_share_a_hash_for_one():
    # Why the ids are numbered: in durable_rules itself, a fact whose id has the same FNV-1a
    # hash as one held (40,189 and 797,186, the first such pair) is refused as already held.
    import durable_rules_engine as c

    from triage.engine import _OBSERVED, _quiet_host_class

    assert _fnv1a_32("40189") == _fnv1a_32("797186")
    host = _quiet_host_class()()
    host.set_rulesets({"ids": {"never": {"all": [{"m": {"@x": 1}}, {"n": {"@never": 1}}], "run": lambda c: None}}})
    handle = host.get_ruleset("ids")._handle
    # the session is left in this throwaway ruleset: deleting a ruleset's first session before
    # any action started in it frees garbage (docs/engine.md; the engine primes its own)
    assert c.assert_facts(handle, '[{"@x":1,"sid":"1","id":40188}]')[0] != _OBSERVED
    assert c.assert_facts(handle, '[{"@x":1,"sid":"1","id":40189}]')[0] != _OBSERVED
    assert c.assert_facts(handle, '[{"@x":1,"sid":"1","id":797186}]')[0] == _OBSERVED

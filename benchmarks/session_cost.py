"""What durable_rules' C core costs the adapter, apart from the adapter (a script, not a test):

    .venv/bin/python benchmarks/session_cost.py [--rounds 300]

It prints, as CPU time of this thread (medians):

* a session's set-up: one layer gate asserted in a new session (durable_rules then allocates and
  clears the session's state for every join node of the ruleset) beside the same kind of gate
  asserted in a session that already exists, and ``delete_state``;
* the size of that state, from durable_rules 2.0.28's constants (``src/rules/state.h`` and
  ``state.c``) and the ruleset's count of patterns (one join node each) and actions;
* ``Engine.run`` on the benchmark mix beside the very C calls it made, replayed alone: what is
  left is the adapter's own Python (the trace, the layers' gates, the memos).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

# durable_rules 2.0.28: bytes cleared or initialised per join node (betaStateNode: two hash
# indexes of 512 x 2 unsigned ints, a pool of 8 left frames of 244 bytes and one of 8 right
# frames of 20 bytes, with their headers) and per action (a pool of 8 left frames)
JOIN_NODE_BYTES = 8 + 24 + 512 * 2 * 4 + 24 + 512 * 2 * 4 + 8 * 244 + 8 * 20
ACTION_BYTES = 8 + 24 + 8 + 8 * 244


def cpu_ns() -> int:
    return time.thread_time_ns()


def session_set_up(rounds: int) -> None:
    from triage import engine as engine_mod
    from triage.rulebook import wire_gate

    eng = engine_mod.default()
    c, handle = eng._c, eng._handle
    # two gates of layers none of whose rules can fire on a gate alone: no action is made
    quiet = [name for name, _head, needs in eng._gates if needs is not None][:2]
    if len(quiet) < 2:
        raise SystemExit("the rule book has fewer than two layers that need more than their gate")

    def gate(name: str, sid: str, n: int) -> str:
        return f'[{{"{wire_gate(name)}":1,"sid":"{sid}","id":{n}}}]'

    new, same, delete = [], [], []
    for i in range(rounds + 50):
        sid = f"cost{i}"
        t0 = cpu_ns()
        result = c.assert_facts(handle, gate(quiet[0], sid, 1))
        t1 = cpu_ns()
        c.assert_facts(handle, gate(quiet[1], sid, 2))
        t2 = cpu_ns()
        if c.start_action_for_state(handle, result[1]) is not None:
            raise SystemExit("a rule fired on a gate alone")
        t3 = cpu_ns()
        c.delete_state(handle, sid)
        t4 = cpu_ns()
        if i >= 50:  # warm
            new.append(t1 - t0)
            same.append(t2 - t1)
            delete.append(t4 - t3)
    definition = eng.book.durable_definition(lambda rule: None)
    patterns = sum(len(rule["all"]) for rule in definition.values()) + 1  # and the engine's own rule
    actions = len(definition) + 1
    state = patterns * JOIN_NODE_BYTES + actions * ACTION_BYTES
    print(f"  a gate asserted in a new session: median {statistics.median(new) / 1e3:.1f} µs")
    print(f"  the same kind of gate in a session that exists: median {statistics.median(same) / 1e3:.1f} µs")
    print(f"  delete_state: median {statistics.median(delete) / 1e3:.1f} µs")
    print(f"  state cleared for each new session: {state / 2**20:.2f} MiB "
          f"({patterns} patterns, each a join node of {JOIN_NODE_BYTES / 1024:.1f} KiB; {actions} actions)")


def replayed(rounds: int) -> None:
    from run import MIX

    from triage import engine as engine_mod
    from triage.assessment import case_facts, to_case

    eng = engine_mod.default()
    real = eng._c
    facts = [case_facts(to_case(c)) for c in MIX]
    calls: list[tuple] = []

    class Recording:
        def __getattr__(self, name):
            fn = getattr(real, name)

            def record(*args):
                result = fn(*args)
                calls.append((fn, args))
                return result
            return record

    eng._c = Recording()
    recorded = []
    try:
        for f in facts:
            calls.clear()
            eng.run(f)
            recorded.append(list(calls))
    finally:
        eng._c = real
    run_t, c_t = [], []
    for i in range(rounds * len(facts)):
        k = i % len(facts)
        t0 = cpu_ns()
        eng.run(facts[k])
        t1 = cpu_ns()
        for fn, args in recorded[k]:  # the same session id, free again once the run deleted it
            fn(*args)
        t2 = cpu_ns()
        run_t.append(t1 - t0)
        c_t.append(t2 - t1)
    run_med, c_med = statistics.median(run_t), statistics.median(c_t)
    calls_per_case = sum(len(r) for r in recorded) / len(recorded)
    print(f"  Engine.run on the mix: median {run_med / 1e3:.0f} µs")
    print(f"  its {calls_per_case:.1f} calls into durable_rules a case, replayed alone: median {c_med / 1e3:.0f} µs "
          f"({c_med / run_med:.0%} of the run)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300, help="rounds of each measure (default 300)")
    args = parser.parse_args()
    print(time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))
    session_set_up(args.rounds * 10)
    replayed(args.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

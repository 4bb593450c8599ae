"""Every explanation the project gives, in one place:

* :mod:`~triage.explanation.reached` — how a result was reached (HOW): each conclusion walked
  back, rule by rule, to the answers and the literature;
* :mod:`~triage.explanation.why_not` — what was not concluded, and why not;
* :mod:`~triage.explanation.what_if` — how the result changes when an answer changes;
* :mod:`~triage.explanation.asked` — why a question is asked (WHY) and which answers a result
  rests on, for a questionnaire session;
* :mod:`~triage.explanation.text` — all of it as text.

Their words are the knowledge base's (``questions.yaml``'s ``interview``, the rules' own
``explain``, the fact descriptions of ``rules/facts.yaml``).
"""

from __future__ import annotations

from triage.explanation.nodes import Explanation, describe_fact
from triage.explanation.reached import explain, explain_run, rules_named
from triage.explanation.text import text, what_if_text
from triage.explanation.what_if import Change, WhatIf, apply_changes, field_names, parse_change, what_if
from triage.explanation.why_not import describe_pattern

__all__ = ["Explanation", "explain", "explain_run", "rules_named", "describe_fact", "describe_pattern",
           "text", "what_if_text", "Change", "WhatIf", "what_if", "parse_change", "apply_changes", "field_names"]

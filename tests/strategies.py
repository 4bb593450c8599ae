"""Hypothesis strategies for contract cases, built from the knowledge base's ids.

Every case these strategies make is valid (ages 0–120 with ``onset_age <= age``), so a
property that fails points at the rules or the renderers, never at the generator.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from triage.models import KB

LISTS = {
    "symptoms": KB.ids("symptoms"),
    "regions": KB.ids("regions"),
    "features": [f.id for f in KB.features],
    "history": [h.id for h in KB.history],
    "red_flags": KB.ids("red_flags"),
}
SCALARS = {
    "respondent": [c.id for c in KB.case.respondent],
    "onset": [c.id for c in KB.case.onset],
    "course": [c.id for c in KB.case.course],
    "dopamine_blocker": [c.id for c in KB.case.dopamine_blocker],
}
AGE_MIN, AGE_MAX = KB.case.age_min, KB.case.age_max
CARE_RANK = {c.id: c.rank for c in KB.care_levels}

# A modest number of examples keeps the suite fast (one assessment takes a few milliseconds);
# TRIAGE_EXAMPLES=5000 ./dev test tests/test_safety_invariants.py searches much harder. No
# deadline, because the machine is shared and timing is not what these tests check.
EXAMPLES = int(os.environ.get("TRIAGE_EXAMPLES", "200"))
PROPERTY = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def ages(draw) -> dict:
    """``age`` and ``onset_age``, each possibly missing, never with onset after age."""
    out: dict = {}
    age = draw(st.none() | st.integers(AGE_MIN, AGE_MAX))
    if age is not None:
        out["age"] = age
    onset_age = draw(st.none() | st.integers(AGE_MIN, age if age is not None else AGE_MAX))
    if onset_age is not None:
        out["onset_age"] = onset_age
    return out


def id_list(field: str, max_size: int = 4) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(LISTS[field]), unique=True, max_size=max_size)


@st.composite
def cases(draw, **fixed) -> dict:
    """A valid case dict; fields in ``fixed`` are taken as given."""
    case: dict = {"version": 1}
    for field in LISTS:
        if draw(st.booleans()):
            case[field] = draw(id_list(field, max_size=2 if field == "red_flags" else 4))
    for field, values in SCALARS.items():
        if draw(st.booleans()):
            case[field] = draw(st.sampled_from(values))
    case.update(draw(ages()))
    case.update(fixed)
    return case


def shuffled_with_duplicates(draw, case: dict) -> dict:
    """The same case with every list shuffled and some items repeated."""
    out = dict(case)
    for field in LISTS:
        items = list(case.get(field, []))
        if not items:
            continue
        extra = draw(st.lists(st.sampled_from(items), max_size=3))
        out[field] = draw(st.permutations(items + extra))
    return out

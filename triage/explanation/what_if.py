"""What if: how the result changes when an answer changes, and which rules fire differently."""

from __future__ import annotations

from typing import Any, Literal, Optional, Union

from pydantic import BaseModel

from triage.assessment import assess, to_case
from triage import engine as engine_mod
from triage.explanation.nodes import SourceRef, _source
from triage.models import Assessment, Case

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
    return Change(op=op, field=field, value=value if sep else None)  # type: ignore[arg-type]


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



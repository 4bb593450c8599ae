"""The case's fields, declared once: every other list of them (the ``Case`` model, the fields a
question may fill, the report's answer groups, the explanations' field names) is derived from
this declaration. Light to import: no Pydantic, no knowledge base.

A field is a list of ids (``list``), one id (``scalar``) or a whole number (``number``); a
field of ids names the knowledge table its ids come from (``case.<name>`` for the scalar
vocabularies of ``knowledge/case.yaml``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional


@dataclass(frozen=True)
class CaseField:
    name: str
    kind: Literal["list", "scalar", "number"]
    table: Optional[str] = None  # where the allowed ids are: a knowledge table


# In the contract's order (CONTRACT.md).
FIELDS: tuple[CaseField, ...] = (
    CaseField("respondent", "scalar", "case.respondent"),
    CaseField("age", "number"),
    CaseField("onset_age", "number"),
    CaseField("symptoms", "list", "symptoms"),
    CaseField("regions", "list", "regions"),
    CaseField("features", "list", "features"),
    CaseField("onset", "scalar", "case.onset"),
    CaseField("course", "scalar", "case.course"),
    CaseField("dopamine_blocker", "scalar", "case.dopamine_blocker"),
    CaseField("history", "list", "history"),
    CaseField("red_flags", "list", "red_flags"),
    CaseField("tremor_sites", "list", "tremor_sites"),  # added 2026-12-01
)

BY_NAME = {f.name: f for f in FIELDS}
LIST_FIELDS: dict[str, str] = {f.name: f.table for f in FIELDS if f.kind == "list"}  # type: ignore[misc]
SCALAR_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.kind == "scalar")
NUMBER_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.kind == "number")


def allowed_ids(kb, name: str) -> Optional[list[str]]:
    """The ids a field of ids takes in knowledge base ``kb`` (``None`` for a number)."""
    table = BY_NAME[name].table
    if table is None:
        return None
    if table.startswith("case."):
        return [c.id for c in getattr(kb.case, table.split(".", 1)[1])]
    return [i.id for i in getattr(kb, table)]


def items(kb, name: str) -> list:
    """The knowledge items (with their labels) of a field of ids."""
    table = BY_NAME[name].table
    if table is None:
        raise KeyError(name)
    if table.startswith("case."):
        return list(getattr(kb.case, table.split(".", 1)[1]))
    return list(getattr(kb, table))

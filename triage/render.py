"""Choose how to print assessments. Light to import: the formats are named here, the work is
done by the modules each format needs."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from triage.models import Assessment, Case

FORMATS = ("text", "json", "markdown")


def render(results: Sequence["Assessment"], cases: Sequence["Case"], fmt: str, batch: bool) -> str:
    """All results in one format; a batch gives an array (json) or sections (text, markdown)."""
    from triage import report

    if fmt == "json":
        docs = [r.model_dump(mode="json") for r in results]
        return json.dumps(docs if batch else docs[0], indent=2, ensure_ascii=False) + "\n"
    one = {"text": lambda r, c: report.text(r), "markdown": report.markdown}[fmt]
    parts = [one(r, c) for r, c in zip(results, cases)]
    if not batch:
        return parts[0]
    sep = "\n" + ("-" * report.WIDTH if fmt == "text" else "---") + "\n\n"
    return sep.join(
        (f"Case {i + 1} of {len(parts)}\n\n" if fmt == "text" else f"<!-- case {i + 1} of {len(parts)} -->\n\n") + p
        for i, p in enumerate(parts)
    )

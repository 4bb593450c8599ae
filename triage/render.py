"""Choose how to print assessments. Light to import: the formats are named here, the work is
done by the modules each format needs."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Optional, Sequence

if TYPE_CHECKING:  # pragma: no cover
    from triage.models import Assessment, Asked, Case

# text: the terminal report; json: the assessment; markdown and html: the appointment report;
# summary: the nurse's chart block; fhir: the case as a FHIR QuestionnaireResponse.
FORMATS = ("text", "json", "markdown", "html", "summary", "fhir")


def _assessments():
    from pydantic import TypeAdapter

    from triage.models import Assessment

    global _ASSESSMENTS
    if _ASSESSMENTS is None:
        _ASSESSMENTS = TypeAdapter(list[Assessment])
    return _ASSESSMENTS


_ASSESSMENTS = None


def render(results: Sequence["Assessment"], cases: Sequence["Case"], fmt: str, batch: bool,
           asked: Optional[Sequence[Optional["Asked"]]] = None) -> str:
    """All results in one format; a batch gives an array (json), a Bundle (fhir), one page
    (html) or sections (text, markdown, summary). ``asked`` (one per case, from a
    questionnaire) lets the reports list what was answered "no" or "not sure"."""
    from triage import report

    asked = list(asked) if asked is not None else [None] * len(results)
    if fmt == "json":
        # the same bytes as Pydantic's model_dump_json(indent=2) (and json.dumps of model_dump)
        if not batch:
            from triage.assessment import to_json

            return to_json(results[0], indent=True).decode() + "\n"
        return _assessments().dump_json(list(results), indent=2).decode() + "\n"
    if fmt == "fhir":
        from triage import fhir

        docs = [fhir.response_from_case(c, asked=k) for c, k in zip(cases, asked)]
        doc = fhir.bundle(docs) if batch else docs[0]
        return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    meta = report.report_meta()
    if fmt == "html":
        return report.html_reports(list(zip(results, cases, asked)), meta=meta)
    one = {
        "text": lambda r, c, k: report.text(r, respondent=c.respondent),
        "markdown": lambda r, c, k: report.markdown(r, c, asked=k, meta=meta),
        "summary": lambda r, c, k: report.summary(r, c, asked=k, meta=meta),
    }[fmt]
    parts = [one(r, c, k) for r, c, k in zip(results, cases, asked)]
    if not batch:
        return parts[0]
    if fmt == "markdown":
        sep = "\n---\n\n"
        head = "<!-- case {i} of {n} -->\n\n"
    else:
        sep = "\n" + "-" * report.WIDTH + "\n\n"
        head = "Case {i} of {n}\n\n"
    return sep.join(head.format(i=i + 1, n=len(parts)) + p for i, p in enumerate(parts))

"""The questionnaire core that every front end drives (the terminal, the web page, FHIR).

* :mod:`~triage.questionnaire.questions` — the questions as data (``knowledge/questions.yaml``);
* :mod:`~triage.questionnaire.answers` — one parser and validator per kind of question;
* :mod:`~triage.questionnaire.record` — one mapping between answers, the case and the record;
* :mod:`~triage.questionnaire.relevance` — which questions could still change the result;
* :mod:`~triage.questionnaire.session` — :class:`Questionnaire` and one person's
  :class:`Session`: the next question, the assessment, whether an emergency shows now.

Why a question is asked and how a result was reached: :mod:`triage.explanation.asked`.

Light to import: the submodules load when first used (the knowledge base imports
``questions`` while it loads).
"""

from __future__ import annotations

__all__ = ["Questionnaire", "Session", "Emergency", "AnswerError"]


def __getattr__(name: str):
    if name in __all__:
        from triage.questionnaire import session

        return getattr(session, name)
    raise AttributeError(name)

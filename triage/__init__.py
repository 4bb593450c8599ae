"""dystonia-triage: a rule-based triage assistant for dystonia. It never diagnoses.

>>> from triage import assess
>>> assess({"version": 1, "symptoms": ["eye_blinking"]}).care_level
'routine'
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["assess", "Case", "Assessment", "__version__"]


def __getattr__(name: str):
    # Imported lazily so that `dystonia-triage --help` and the first question stay fast.
    if name == "assess":
        from triage.assessment import assess

        return assess
    if name in ("Case", "Assessment"):
        from triage import models

        return getattr(models, name)
    raise AttributeError(name)

"""The project's named errors. The CLI maps each to a message and an exit code."""


class TriageError(Exception):
    """Base of every error the project raises on purpose."""


class KnowledgeError(TriageError):
    """The knowledge base or the rules are broken; the message names the file and key."""


class RulesError(KnowledgeError):
    """A rule file is broken; the message names the file, the rule and the key."""


class CaseError(TriageError):
    """A case is not valid; the message names the field and the allowed values."""


class EngineError(TriageError):
    """The rules engine failed while assessing a case (a rule raised, or the engine did)."""

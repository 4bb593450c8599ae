"""The questionnaire at a terminal: :mod:`~triage.terminal.prompts` asks (questionary, or
numbered answers line by line) and :mod:`~triage.terminal.interview` is the thin loop that
renders what the questionnaire session says."""

"""Where the knowledge base and the rules live, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    # A built wheel carries the folders inside the package (see pyproject.toml); a checkout
    # or an editable install has them beside the package.
    for candidate in (_HERE / "_data" / name, _HERE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the {name}/ folder is missing from this installation")


def knowledge_dir() -> Path:
    return _find("knowledge")


def rules_dir() -> Path:
    return _find("rules")

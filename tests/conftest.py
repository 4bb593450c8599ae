"""Shared helpers: build a case from keywords and assess it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def case(**fields) -> dict:
    """A contract case with version 1 and the given fields."""
    return {"version": 1, **fields}


def run_assess(**fields):
    from triage import assess

    return assess(case(**fields))


def types_of(result) -> list[str]:
    return [c.type for c in result.candidates]


def ids(items) -> list[str]:
    return [i.id for i in items]


def run_cli(*args: str, input: str | None = None, cwd: Path | None = None, env: dict | None = None):
    """Run the command as a user would: a new Python process."""
    return subprocess.run(
        [sys.executable, "-m", "triage", *args],
        input=input, capture_output=True, text=True, cwd=cwd or ROOT, timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def kb_copy(tmp_path) -> Path:
    """A copy of knowledge/ to break on purpose."""
    target = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", target)
    return target


@pytest.fixture
def rules_copy(tmp_path) -> Path:
    """A copy of rules/ to break on purpose."""
    target = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    """Replace the first ``old`` in a file with ``new``; ``old`` must be there."""
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))

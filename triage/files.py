"""Saving files the person asked for: owner-only permissions, written atomically.

A file is written to a temporary file in the same folder, flushed to disk, and renamed over
the target, so an interruption never leaves a half-written file. Nothing is ever written
unless a front end asks for it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Union

OWNER_ONLY = 0o600


def save_text(path: Union[str, Path], text: str) -> Path:
    """Write ``text`` to ``path`` atomically, readable and writable by the owner only."""
    path = Path(path).expanduser()
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    try:
        os.fchmod(fd, OWNER_ONLY)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path

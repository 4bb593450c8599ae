"""Saving files the person asked for: owner-only permissions, written atomically.

A file is written to a temporary file in the same folder, flushed to disk, and renamed over
the target, so an interruption never leaves a half-written file. Nothing is ever written
unless a front end asks for it.
"""

from __future__ import annotations

import glob
import os
import tempfile
from pathlib import Path
from typing import Union

OWNER_ONLY = 0o600


STALE_PART_SECONDS = 60  # a .part file this old is left from a save that was killed


def free_name(path: Union[str, Path]) -> Path:
    """``path`` if nothing is there, else the first free ``NAME-2.EXT``, ``NAME-3.EXT``, ..."""
    path = Path(path)
    if not path.exists():
        return path
    suffixes = "".join(path.suffixes[-2:]) if path.name.endswith(".fhir.json") else path.suffix
    stem = path.name[: len(path.name) - len(suffixes)] if suffixes else path.name
    n = 2
    while True:
        candidate = path.with_name(f"{stem}-{n}{suffixes}")
        if not candidate.exists():
            return candidate
        n += 1


def remove_stale_parts(path: Path) -> None:
    """Remove what a killed save of ``path`` left behind (``.NAME.*.part``, owner-only, with the
    whole text): any older than :data:`STALE_PART_SECONDS`, so a save running now is untouched."""
    import time

    folder = path.parent if str(path.parent) else Path(".")
    now = time.time()
    try:
        for part in folder.glob(f".{glob.escape(path.name)}.*.part"):
            try:
                if now - part.lstat().st_mtime > STALE_PART_SECONDS and part.is_file():
                    part.unlink()
            except OSError:
                pass
    except OSError:
        pass


def save_text(path: Union[str, Path], text: str) -> Path:
    """Write ``text`` to ``path`` atomically, readable and writable by the owner only.

    A ``.part`` file left by a save that was killed (kill -9, power loss) is removed first."""
    path = Path(path).expanduser()
    folder = path.parent if str(path.parent) else Path(".")
    remove_stale_parts(path)
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

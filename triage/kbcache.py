"""The validated knowledge base, cached beside the byte-code, so a new process starts without
reading and validating every YAML file again.

Reading ``knowledge/`` means parsing 18 YAML files and building and running Pydantic's
validators for every model; the result is the same every time the files are the same. So the
:class:`~triage.knowledge.KnowledgeBase` that :func:`triage.knowledge.load` returns is kept as a
pickle in the package's ``__pycache__`` folder (where Python keeps the byte-code of the same
modules), under a key made of everything the result depends on:

* the bytes of every file in the knowledge folder;
* the source of the modules that define and check the knowledge models (``knowledge.py``,
  ``questionnaire/questions.py``, ``casefields.py``, ``errors.py``, ``paths.py`` and this one);
* the versions of dystonia-triage, Python, pydantic and pydantic-core, and this cache's format.

A cache whose key differs (another version, an edited file), that cannot be read, that is not
a knowledge base, or that is writable by others is ignored, and the knowledge base is read from
the YAML files as if there were no cache. It holds nothing from any answer: only what is in
``knowledge/``.

It is written the way Python writes byte-code: next to the package, only when the package
folder is writable, and never when byte-code is not written (``PYTHONDONTWRITEBYTECODE``,
``python -B``); atomically (a temporary file renamed into place), so a process never reads a
half-written cache. Nothing is written in the working, home or temporary folder. An
installation whose package folder is read-only (or that keeps byte-code off) can build the
cache once, at install time, with ``python -m triage.kbcache``.
"""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:  # pragma: no cover
    from triage.knowledge import KnowledgeBase

FORMAT = 1  # bump when what is pickled changes shape
_PACKAGE = Path(__file__).resolve().parent
# the modules whose source decides what load() returns (the models, their checks, the paths)
SOURCES = ("knowledge.py", "questionnaire/questions.py", "casefields.py", "errors.py", "paths.py", "kbcache.py")
MAGIC = b"dystonia-triage knowledge cache\n"


def cache_file() -> Path:
    """Where the default knowledge base's cache lives (one file per Python version)."""
    tag = sys.implementation.cache_tag or "python"
    return _PACKAGE / "__pycache__" / f"knowledge-base.{tag}.pickle"


def key(directory: Path) -> bytes:
    """What the cached knowledge base depends on, as a digest: the knowledge files' bytes, the
    models' source, and the versions (see the module's docstring)."""
    try:
        from _blake2 import blake2b  # what hashlib.blake2b is, without importing OpenSSL's hashes
    except ImportError:  # pragma: no cover - a Python built without it
        from hashlib import blake2b

    import pydantic
    import pydantic_core

    from triage import __version__

    digest = blake2b(digest_size=20)
    digest.update(f"{FORMAT}\0{__version__}\0{sys.version}\0{pydantic.VERSION}\0"
                  f"{pydantic_core.__version__}\0".encode())
    for name in SOURCES:
        digest.update(name.encode() + b"\0" + (_PACKAGE / name).read_bytes() + b"\0")
    for path in sorted(directory.iterdir()):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.digest()


def read_trusted(path: Path) -> Optional[bytes]:
    """The bytes of ``path``, or ``None`` when there is no such file, it cannot be read, or
    others may write it (the same trust as the byte-code beside it)."""
    try:
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            if st.st_mode & 0o022 or (hasattr(os, "getuid") and st.st_uid not in (os.getuid(), 0)):
                return None
            return fh.read()
    except OSError:
        return None


def write_atomic(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` atomically (a temporary file renamed into place), readable by
    all and writable by the owner only. False (and nothing left behind) when it cannot be."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        path.parent.mkdir(exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, 0o644)  # whatever the umask: readable, written by the owner only
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except OSError:
        return False
    return True


def read(path: Path, expected: bytes) -> Optional["KnowledgeBase"]:
    """The knowledge base cached in ``path`` when its key is ``expected``; ``None`` when there
    is no such file, or it is stale, damaged, not owner-only-writable, or not a knowledge base."""
    from triage.knowledge import KnowledgeBase

    data = read_trusted(path)
    head = MAGIC + expected
    if data is None or not data.startswith(head):
        return None  # no cache, or another version, other files: stale
    try:
        kb = pickle.loads(data[len(head):])
    except Exception:  # noqa: BLE001 - a cache that cannot be read is no cache
        return None
    return kb if type(kb) is KnowledgeBase else None


def write(path: Path, cache_key: bytes, kb: "KnowledgeBase") -> bool:
    """Save ``kb`` under ``cache_key`` in ``path``, atomically, readable by all and writable by
    the owner only. False (and nothing left behind) when it cannot be written."""
    clean = kb.model_copy()
    clean._indexes = {}  # look-ups are rebuilt on use
    return write_atomic(path, MAGIC + cache_key + pickle.dumps(clean, protocol=pickle.HIGHEST_PROTOCOL))


def load_default() -> "KnowledgeBase":
    """The project's own knowledge base: from the cache when it is valid, otherwise read and
    validated from the YAML files (and the cache written, when byte-code would be)."""
    from triage import knowledge
    from triage.paths import knowledge_dir

    directory = knowledge_dir()
    try:
        cache_key = key(directory)
    except OSError:
        return knowledge.load(directory)
    path = cache_file()
    kb = read(path, cache_key)
    if kb is None:
        kb = knowledge.load(directory)
        if not sys.dont_write_bytecode:
            write(path, cache_key, kb)
    return kb


def build() -> Path:
    """Read and validate the knowledge base and write its cache (``python -m triage.kbcache``,
    for an installation that keeps byte-code off or whose package folder is read-only until
    installed)."""
    from triage import knowledge
    from triage.paths import knowledge_dir

    directory = knowledge_dir()
    path = cache_file()
    if not write(path, key(directory), knowledge.load(directory)):
        raise OSError(f"cannot write {path}")
    return path


if __name__ == "__main__":  # pragma: no cover
    from triage.terminal import firstscreen

    print(f"Wrote {build()}")
    recorded = firstscreen.build()
    print(f"Wrote {firstscreen.record_file()} (the questionnaire's first screen, for: {', '.join(recorded)})")

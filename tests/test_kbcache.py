"""The knowledge base's cache (triage/kbcache.py): what it returns is what reading the YAML
files returns, and a cache that is stale, damaged, written by others or of another version is
never trusted."""

from __future__ import annotations

import os
import pickle
import shutil
import stat
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from triage import kbcache, knowledge


@pytest.fixture
def folder(tmp_path):
    target = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", target)
    return target


def test_the_cached_knowledge_base_equals_the_one_read_from_the_files(tmp_path, folder):
    kb = knowledge.load(folder)
    path = tmp_path / "kb.pickle"
    key = kbcache.key(folder)
    assert kbcache.write(path, key, kb)
    cached = kbcache.read(path, key)
    assert cached is not None and cached is not kb
    assert cached == kb
    assert cached.model_dump() == kb.model_dump()
    # the look-ups are rebuilt on use, and give the same
    assert cached.attributes("regions", "neck") == kb.attributes("regions", "neck")
    assert cached.question(kb.questions[0].id) == kb.questions[0]


def test_the_cache_is_written_owner_writable_readable_and_leaves_no_temporary_file(tmp_path, folder):
    path = tmp_path / "kb.pickle"
    old = os.umask(0)
    try:
        assert kbcache.write(path, kbcache.key(folder), knowledge.load(folder))
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kb.pickle", "knowledge"]


def test_editing_a_knowledge_file_changes_the_key(folder):
    before = kbcache.key(folder)
    text = (folder / "text.yaml").read_text()
    (folder / "text.yaml").write_text(text + "\n# an edit\n")
    assert kbcache.key(folder) != before


def test_another_version_changes_the_key(folder, monkeypatch):
    import triage

    before = kbcache.key(folder)
    monkeypatch.setattr(triage, "__version__", triage.__version__ + ".post1")
    assert kbcache.key(folder) != before
    monkeypatch.undo()
    assert kbcache.key(folder) == before
    monkeypatch.setattr(kbcache, "FORMAT", kbcache.FORMAT + 1)
    assert kbcache.key(folder) != before


def test_a_stale_cache_is_ignored(tmp_path, folder):
    path = tmp_path / "kb.pickle"
    kbcache.write(path, kbcache.key(folder), knowledge.load(folder))
    (folder / "text.yaml").write_text((folder / "text.yaml").read_text() + "\n# an edit\n")
    assert kbcache.read(path, kbcache.key(folder)) is None


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "not_a_knowledge_base", "missing"])
def test_a_damaged_cache_is_ignored(tmp_path, folder, damage):
    path = tmp_path / "kb.pickle"
    key = kbcache.key(folder)
    kbcache.write(path, key, knowledge.load(folder))
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(kbcache.MAGIC + key + b"\x80\x05not a pickle at all")
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "not_a_knowledge_base":
        path.write_bytes(kbcache.MAGIC + key + pickle.dumps({"text": "a dict"}))
    else:
        path.unlink()
    assert kbcache.read(path, key) is None


def test_a_cache_others_may_write_is_not_read(tmp_path, folder):
    path = tmp_path / "kb.pickle"
    key = kbcache.key(folder)
    kbcache.write(path, key, knowledge.load(folder))
    path.chmod(0o666)
    assert kbcache.read(path, key) is None
    path.chmod(0o644)
    assert kbcache.read(path, key) is not None


def test_a_stale_or_damaged_default_cache_is_rebuilt_from_the_files(tmp_path, monkeypatch):
    path = tmp_path / "__pycache__" / "kb.pickle"
    monkeypatch.setattr(kbcache, "cache_file", lambda: path)
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    first = kbcache.load_default()
    assert path.exists()
    assert kbcache.load_default() == first  # read back from the cache
    path.write_bytes(b"damaged")
    assert kbcache.load_default() == first  # read from the files again
    assert kbcache.read(path, kbcache.key(ROOT / "knowledge")) == first  # and the cache rewritten


def test_no_cache_is_written_when_byte_code_is_not(tmp_path, monkeypatch):
    path = tmp_path / "__pycache__" / "kb.pickle"
    monkeypatch.setattr(kbcache, "cache_file", lambda: path)
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    assert kbcache.load_default() == knowledge.load()
    assert not path.exists()


def test_an_unwritable_place_is_no_error(tmp_path, folder):
    blocked = tmp_path / "not_a_folder"
    blocked.write_text("a file where the folder would be")
    assert not kbcache.write(blocked / "kb.pickle", kbcache.key(folder), knowledge.load(folder))


def test_the_build_step_writes_the_default_cache():
    # python -m triage.kbcache, as an installation that keeps byte-code off would run it
    proc = subprocess.run([sys.executable, "-m", "triage.kbcache"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    path = kbcache.cache_file()
    assert str(path) in proc.stdout
    assert kbcache.read(path, kbcache.key(ROOT / "knowledge")) == knowledge.load()

"""Assessing a large API batch in another process, so the server's event loop never waits.

The rules engine is CPU-bound Python and C under one interpreter lock: in a thread, a batch of
1,000 cases keeps the lock long enough that ``/healthz`` and every page wait behind it (and
on a busy machine, far longer: the thread holding the lock may itself be waiting for a CPU).
A batch of more than :data:`PROCESS_BATCH` cases is therefore assessed in a small pool of
worker processes (made on the first such batch, each with its own engine); a single case or a
small batch stays in the server's thread pool, where it costs less than the hand-over.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from typing import Optional

PROCESS_BATCH = 50  # cases; a larger batch goes to a worker process
PROCESSES = max(1, min(4, (os.cpu_count() or 2) - 1))
NICENESS = 10  # the worker processes' lower CPU priority

_pool: Optional[ProcessPoolExecutor] = None
_pool_lock = threading.Lock()


def pool() -> ProcessPoolExecutor:
    """The worker processes (started fresh, not forked: the server has threads)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(max_workers=PROCESSES, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_warm)
        return _pool


def shutdown() -> None:
    """Stop the worker processes, a batch under way included (its request is gone)."""
    global _pool
    with _pool_lock:
        if _pool is not None:
            processes = list((getattr(_pool, "_processes", None) or {}).values())
            _pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
            _pool = None


def _warm() -> None:
    from triage import assess

    parent = os.getppid()

    def orphaned() -> None:  # the server died without stopping us (kill -9): stop too
        import time

        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=orphaned, daemon=True).start()
    try:  # batches yield the CPU to the server's own process: its pages and /healthz come first
        os.nice(NICENESS)
    except OSError:
        pass
    assess({"version": 1})  # the engine built before the first batch arrives


def assess_json(doc) -> bytes:
    """The assessments of a batch already validated by the server (a list of case dicts), as
    the API's JSON array."""
    from triage.assessment import assess, to_json

    return b"[" + b",".join(to_json(assess(case)) for case in doc) + b"]"

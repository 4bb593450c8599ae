"""A busy server: large batches assessed concurrently, and /healthz probed meanwhile.

    .venv/bin/python benchmarks/web_busy.py [--clients 4] [--batch 1000] [--seconds 20] [--workers 1]

It starts the real server (``dystonia-triage serve``) on a free port of 127.0.0.1. ``--clients``
clients each post a batch of ``--batch`` distinct cases to ``POST /api/assess`` (at most 1,000,
the API's cap), again and again, while one prober asks ``GET /healthz`` every 50 ms on a new
connection, as a load balancer would. After ``--seconds`` it prints the batches' latency and
throughput and the probe's percentiles. Goal (issue 12): /healthz p99 under 100 ms while the
server is busy. A script, not a test: it prints figures and checks every response was 200.
Every request goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web_load import HOST, cases, free_port, start_server  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=4, help="clients posting batches at once")
    ap.add_argument("--batch", type=int, default=1000, help="cases in one batch (at most 1,000)")
    ap.add_argument("--seconds", type=float, default=20.0, help="how long the server is kept busy")
    ap.add_argument("--workers", type=int, default=1, help="server worker processes")
    args = ap.parse_args()
    if not (1 <= args.clients <= 32 and 1 <= args.batch <= 1000 and 0 < args.seconds <= 120):
        raise SystemExit("keep it bounded: 1-32 clients, batches of at most 1,000, at most 120 s")
    pool = cases()
    port = free_port()
    server = start_server(port, args.workers)
    url = f"http://{HOST}:{port}"
    stop = threading.Event()
    batches: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def client(i: int) -> None:
        n = 0
        while not stop.is_set():
            batch = [pool[(i * 7919 + n * args.batch + k) % len(pool)] for k in range(args.batch)]
            n += 1
            req = urllib.request.Request(url + "/api/assess", data=json.dumps(batch).encode(),
                                         headers={"content-type": "application/json"})
            start = time.perf_counter()
            with urllib.request.urlopen(req, timeout=300) as r:
                r.read()
                status = r.status
            with lock:
                batches.append(time.perf_counter() - start)
                statuses[status] = statuses.get(status, 0) + 1

    probes: list[float] = []
    try:
        threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(args.clients)]
        for t in threads:
            t.start()
        time.sleep(1.0)  # the first batches are being assessed
        until = time.monotonic() + args.seconds
        while time.monotonic() < until:
            start = time.perf_counter()
            with urllib.request.urlopen(url + "/healthz", timeout=30) as r:
                r.read()
                statuses[r.status] = statuses.get(r.status, 0) + 1
            probes.append((time.perf_counter() - start) * 1000)
            time.sleep(0.05)
        stop.set()
        for t in threads:
            t.join(timeout=300)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except Exception:
            server.kill()
    probes.sort()
    q = statistics.quantiles(probes, n=100)
    cases_done = len(batches) * args.batch
    print(f"dystonia-triage busy-server run: {args.clients} clients posting batches of {args.batch:,} cases, "
          f"{args.workers} worker(s), {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
          f"{args.seconds:g} s")
    if batches:
        print(f"  batches: {len(batches)} done, median {statistics.median(batches):.1f} s each, "
              f"{cases_done / (args.seconds + 1):,.0f} cases/s")
    met = q[98] < 100
    print(f"  GET /healthz while busy: {len(probes)} probes, p50 {q[49]:.1f} ms, p99 {q[98]:.1f} ms, "
          f"max {probes[-1]:.1f} ms (goal p99 < 100 ms: {'met' if met else 'NOT MET'})")
    if set(statuses) != {200}:
        print(f"  statuses: {statuses}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Load run of the web app: requests per second and latency percentiles, on this machine.

    .venv/bin/python benchmarks/web_load.py [--clients 1,20] [--requests 1000] [--seconds 20] [--workers 1]

It starts the real server (``dystonia-triage serve``) on a free port of 127.0.0.1, then, for
each number of concurrent clients in ``--clients`` (default: one client, then 20), runs two
scenarios, one after the other, on kept-alive connections:

* ``POST /api/assess``: a case, JSON in and out;
* ``POST /step``: one questionnaire step (the page after answering the sensory-trick
  question, with all the earlier answers in the hidden field, as a browser sends it).

The requests cycle through 1,280 distinct cases, so no cache keyed by the answers can answer
them. By default the clients are a closed loop (each sends its next request the moment it has
an answer: the worst case, and the throughput ceiling); ``--rate`` makes an open loop at a fixed
request rate. Each scenario stops after ``--requests`` responses or ``--seconds`` seconds,
whichever comes first, after a short warm-up. Then it prints the server's memory (VmRSS), and
the server's CPU time per request (all its processes; what a worker needs of a core, so
requests per CPU second times free cores is what that many workers carry) and the client's
own CPU share, and the cost of a form step inside one process: engine runs per step (the questionnaire's
relevance check) and milliseconds per step, the first time a kind of case is seen and again.
Every request goes to 127.0.0.1 only. A script, not a test: it prints figures and checks every
response was 200. Goals (issue 10): one client, form step median under 30 ms and p95 under
100 ms; 20 clients, p95 under 300 ms; server memory under 300 MB after 1,000 distinct steps.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # loopback only, never anything else
SECRET = "web-load benchmark secret, this run only"  # the server's TRIAGE_SECRET: the run signs its forms


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "triage", "serve", "--host", HOST, "--port", str(port),
                             "--workers", str(workers)], cwd=ROOT, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "TRIAGE_SECRET": SECRET})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=2):
                return proc
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not start")


def tree_cpu(pid: int) -> dict[int, float]:
    """User + system CPU seconds used so far by a process and each of its descendants (the
    server's supervisor and its worker processes), by process id, from /proc."""
    from questionnaire import cpu_seconds  # benchmarks/questionnaire.py

    out: dict[int, float] = {}
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            out[p] = cpu_seconds(p)
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, IndexError, ValueError):
            continue  # a process that just ended
    return out


def request_bytes(path: str, body: bytes, content_type: str) -> bytes:
    head = (f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n")
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response (Content-Length framed); its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        if line.lower().startswith("content-length:"):
            length = int(line.split(":", 1)[1])
    await reader.readexactly(length)
    return status


async def scenario(port: int, raws: list[bytes], clients: int, total: int, seconds: float, warm_up: int,
                   rate: float = 0.0):
    """Closed loop (``rate`` 0: each client sends its next request as soon as it has the
    answer) or open loop (the clients together send ``rate`` requests a second, each on a
    fixed schedule; latency counts from the scheduled time, so a slow server cannot hide
    its queue)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    state = {"left": warm_up, "n": 0}

    async def client(i: int, record: bool) -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        interval = clients / rate if rate else 0.0
        due = time.perf_counter() + (interval * i / clients)
        try:
            while state["left"] > 0 and time.monotonic() < state["until"]:
                state["left"] -= 1
                raw = raws[state["n"] % len(raws)]
                state["n"] += 1
                if interval:
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                    t0 = due
                    due += interval
                else:
                    t0 = time.perf_counter()
                writer.write(raw)
                status = await read_response(reader)
                if record:
                    latencies.append(time.perf_counter() - t0)
                    statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    state["until"] = time.monotonic() + seconds
    await asyncio.gather(*(client(i, False) for i in range(min(clients, warm_up))))
    state["left"], state["until"] = total, time.monotonic() + seconds
    start = time.perf_counter()
    await asyncio.gather(*(client(i, True) for i in range(clients)))
    elapsed = time.perf_counter() - start
    return latencies, statuses, elapsed


SYMPTOM_SETS = [["eye_blinking"], ["neck_craning"], ["hand_difficulty"], ["speech_difficulty"],
                ["eye_blinking", "face_grimacing"], ["neck_craning", "hand_difficulty"], ["tremor"],
                ["body_twisting", "foot_cramping"]]


def cases() -> list[dict]:
    """Distinct cases (ages x onset x symptoms), so that no cache keyed by the answers can
    answer them."""
    return [{"version": 1, "respondent": "self", "age": age, "onset_age": age - before, "symptoms": symptoms,
             "features": ["sensory_trick"]}
            for age in range(20, 100) for before in (2, 10) for symptoms in SYMPTOM_SETS]


def step_form(case: dict) -> bytes:
    """A questionnaire step as a browser posts it: the answers so far, and the next answer
    (the sensory trick: a yes/no question, or one box of the details checklist)."""
    sys.path.insert(0, str(ROOT))
    from triage.knowledge import default
    from triage.web import state

    trick = ("sensory_trick", "yes") if any(q.id == "sensory_trick" for q in default().questions) \
        else ("details", "sensory_trick")
    answers = {"red_flags": [], "respondent": "self", "age": case["age"], "symptoms": case["symptoms"],
               "onset_age": case["onset_age"], "other_regions": []}
    return urllib.parse.urlencode({"answers": state.sign(json.dumps(answers), SECRET.encode()), "q": trick[0],
                                   "go": "next", "answer": trick[1]}).encode()


def rss_mb(pid: int) -> float:
    """The resident memory of a process and its children (uvicorn's workers), in MB."""
    total = 0
    pids = [pid]
    try:
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def in_process_steps(pool: list[dict], n: int = 200) -> None:
    """The cost of a form step inside one process: engine runs and ms per step."""
    sys.path.insert(0, str(ROOT))
    from triage import knowledge
    from triage.questionnaire.session import Questionnaire
    from triage.web.app import Pages, _environment

    os.environ["TRIAGE_SECRET"] = SECRET  # the forms are signed with it
    kb = knowledge.default()
    pages = Pages(_environment(), Questionnaire(kb), kb)

    class Form(dict):
        def getlist(self, key):
            value = self.get(key)
            return value if isinstance(value, list) else [] if value is None else [value]

    forms = []
    for case in pool[:n]:
        fields = urllib.parse.parse_qs(step_form(case).decode())
        forms.append(Form({k: (v if k == "answer" else v[0]) for k, v in fields.items()}))
    pages.step(forms[0])  # the engine built
    for label in ("first time (cold caches)", "again (warm caches)"):
        runs, times = pages.iv.assessor.runs, []
        for form in forms:
            start = time.perf_counter()
            pages.step(form)
            times.append((time.perf_counter() - start) * 1000)
        per = (pages.iv.assessor.runs - runs) / len(forms)
        times.sort()
        print(f"  form step in one process, {label}: {per:.1f} engine runs a step, "
              f"median {statistics.median(times):.1f} ms, p95 {times[int(len(times) * 0.95)]:.1f} ms")


GOALS = {  # (clients, scenario) -> (p50 goal, p95 goal), ms
    (1, "POST /step (a form step)"): (30, 100),
    (20, "POST /step (a form step)"): (None, 300),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", default="1,20", help="numbers of concurrent clients, comma-separated")
    ap.add_argument("--requests", type=int, default=1000, help="responses per scenario (at most)")
    ap.add_argument("--seconds", type=float, default=20.0, help="time per scenario (at most)")
    ap.add_argument("--workers", type=int, default=1, help="server worker processes")
    ap.add_argument("--rate", type=float, default=0.0,
                    help="open loop: requests per second from all clients together (default: closed loop)")
    args = ap.parse_args()
    counts = [int(c) for c in args.clients.split(",")]
    if not (all(1 <= c <= 200 for c in counts) and 1 <= args.requests <= 50_000 and 0 < args.seconds <= 120):
        raise SystemExit("keep it bounded: 1-200 clients, at most 50,000 requests and 120 s per scenario")
    pool = cases()
    scenarios = [
        ("POST /api/assess", [request_bytes("/api/assess", json.dumps(c).encode(), "application/json")
                              for c in pool]),
        ("POST /step (a form step)", [request_bytes("/step", step_form(c), "application/x-www-form-urlencoded")
                                      for c in pool]),
    ]
    port = free_port()
    server = start_server(port, args.workers)
    mode = f"open loop at {args.rate:g} req/s" if args.rate else "closed loop (no pause between requests)"
    print(f"dystonia-triage web load run: {mode}, {args.workers} worker(s), {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}, {len(pool)} distinct cases, 127.0.0.1:{port}")
    print(f"{'clients':>7} {'scenario':28} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'max ms':>8} {'srv CPU/req':>11} {'client CPU':>10}  goal")
    failed = False
    steps = 0
    per_core: dict[str, float] = {}
    spread: dict[tuple[int, str], str] = {}
    try:
        for clients in counts:
            for name, raw in scenarios:
                before, client_cpu = tree_cpu(server.pid), time.process_time()
                lat, statuses, elapsed = asyncio.run(scenario(port, raw, clients, args.requests,
                                                              args.seconds, warm_up=50, rate=args.rate))
                # the server's CPU per request (warm-up included): what one worker needs of a core,
                # whatever the number of workers; and the share of the run the client itself took
                used = {p: t - before.get(p, 0.0) for p, t in tree_cpu(server.pid).items()}
                server_cpu = sum(used.values()) / (len(lat) + 50)
                client_cpu = (time.process_time() - client_cpu) / elapsed
                if args.workers > 1:  # how the kernel spread the connections over the workers
                    shares = sorted((t for p, t in used.items() if p != server.pid), reverse=True)[:args.workers]
                    spread[(clients, name)] = " / ".join(f"{t / (sum(shares) or 1):.0%}" for t in shares)
                ms = sorted(x * 1000 for x in lat)
                q = statistics.quantiles(ms, n=100)
                goal = GOALS.get((clients, name))
                verdict = ""
                if goal:
                    p50_goal, p95_goal = goal
                    met = (p50_goal is None or q[49] < p50_goal) and q[94] < p95_goal
                    wanted = " and ".join(x for x in (p50_goal and f"p50 < {p50_goal}", f"p95 < {p95_goal}") if x)
                    verdict = f"{wanted}: {'met' if met else 'NOT MET'}"
                if name.startswith("POST /step"):
                    steps += len(ms)
                print(f"{clients:7d} {name:28} {len(ms):8d} {len(ms) / elapsed:8.0f} {q[49]:8.1f} {q[94]:8.1f} "
                      f"{q[98]:8.1f} {ms[-1]:8.1f} {server_cpu * 1000:8.2f} ms {client_cpu:9.0%}  {verdict}")
                per_core[name] = 1 / server_cpu if server_cpu else float("nan")
                if set(statuses) != {200}:
                    print(f"  statuses: {statuses}")
                    failed = True
        for (clients, name), text in spread.items():
            print(f"  {clients} clients, {name}: the workers' shares of the work: {text}")
        for name, rate in per_core.items():
            print(f"  {name}: one worker process serves about {rate:,.0f} a second per core it is given "
                  f"(1 / the server's CPU per request); {args.workers} worker(s) on {args.workers} free core(s): "
                  f"about {rate * args.workers:,.0f} a second")
        memory = rss_mb(server.pid)
        print(f"  server memory after {steps:,} form steps ({min(steps, len(pool)):,} distinct): {memory:.0f} MB "
              f"(goal < 300 MB: {'met' if memory < 300 else 'NOT MET'})")
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    in_process_steps(pool)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

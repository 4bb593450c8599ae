"""``dystonia-triage serve``: the questionnaire as a web page, and the JSON API.

It listens on 127.0.0.1 and a free port unless told otherwise. It keeps nothing between
requests, so any number of workers or machines can serve the same clinic, given one secret:
the pages carry the answers signed with ``TRIAGE_SECRET`` (see :mod:`triage.web.state`).
Without it, serve makes a random secret for this run and hands it to its workers.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import sys

from triage.cli import EXIT_OK, EXIT_USAGE


def add_parser(sub) -> None:
    p = sub.add_parser(
        "serve", help="start the web page and the JSON API (http://127.0.0.1, a free port)",
        description="Serve the questionnaire as a web page and the API (POST /api/assess, "
                    "GET /api/questionnaire, GET /api/openapi.json). Nothing is stored. "
                    "Example: dystonia-triage serve --port 8000",
    )
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=0,
                   help="port to listen on (default: 0, a free port)")
    p.add_argument("--workers", type=int, default=1,
                   help="worker processes (default: 1); the app is stateless, so any number works")
    from triage.commands.clinics import add_directory_option

    add_directory_option(p)
    p.set_defaults(func=run)


def free_port(host: str) -> int:
    """A port that nothing listens on now (the operating system picks it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def run(args: argparse.Namespace) -> int:
    import uvicorn

    if not 0 <= args.port <= 65535:
        print(f"dystonia-triage: --port: {args.port} is not a port (allowed values: 0 to 65535)", file=sys.stderr)
        return EXIT_USAGE
    if args.workers < 1:
        print(f"dystonia-triage: --workers: {args.workers} (allowed values: 1 or more)", file=sys.stderr)
        return EXIT_USAGE
    try:
        port = args.port or free_port(args.host)
    except OSError as exc:
        print(f"dystonia-triage: --host: cannot listen on {args.host!r} ({exc.strerror})", file=sys.stderr)
        return EXIT_USAGE
    from triage import clinics
    from triage.commands.clinics import directory
    from triage.knowledge import default
    from triage.web import state

    if getattr(args, "clinics", None):
        os.environ[clinics.ENV] = os.path.abspath(args.clinics)  # the workers inherit it
    directory(default(), None)  # a broken directory is refused now, not on the first page
    given = os.environ.get(state.SECRET_ENV)
    if given is not None and len(given) < state.MIN_SECRET_CHARS:
        print(f"dystonia-triage: {state.SECRET_ENV}: too short ({len(given)} characters; allowed: "
              f"{state.MIN_SECRET_CHARS} or more, e.g. from: python3 -c 'import secrets; "
              "print(secrets.token_urlsafe(32))')", file=sys.stderr)
        return EXIT_USAGE
    if given is None:
        # one secret for every worker of this run (they inherit the environment); pages from
        # before a restart are refused, so a person mid-way starts again
        os.environ[state.SECRET_ENV] = secrets.token_urlsafe(32)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"dystonia-triage: serving on http://{shown}:{port}/ (Ctrl-C to stop). Nothing is stored.",
          file=sys.stderr, flush=True)
    if given is None:
        print(f"dystonia-triage: {state.SECRET_ENV} is not set, so a random secret signs the pages of this "
              "run (set it to share pages across restarts and servers).", file=sys.stderr, flush=True)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print("dystonia-triage: this is plain HTTP; on a network, put it behind a TLS reverse proxy "
              "(see the README).", file=sys.stderr, flush=True)
    from triage.web import server

    options = dict(factory=True, host=args.host, port=port, server_header=False, log_level="warning",
                   access_log=False, http=server.TimedH11Protocol, timeout_keep_alive=server.KEEP_ALIVE_SECONDS,
                   h11_max_incomplete_event_size=server.MAX_HEADER_BYTES,
                   timeout_graceful_shutdown=server.SHUTDOWN_SECONDS)
    if args.workers > 1 and server.own_sockets_possible():
        # one listening socket per worker, so the kernel spreads the connections over them
        server.serve_workers(uvicorn.Config("triage.web.app:create_app", workers=args.workers, **options),
                             args.workers)
    else:
        uvicorn.run("triage.web.app:create_app", workers=args.workers, **options)
    return EXIT_OK

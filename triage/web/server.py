"""How ``dystonia-triage serve`` runs uvicorn: timeouts for slow or idle connections.

uvicorn closes a connection left idle after a response (``timeout_keep_alive``), but not one
that never finishes sending its request's headers: a slow client could hold it open for ever.
:class:`TimedH11Protocol` closes a connection whose request headers have not all arrived
within :data:`HEADER_SECONDS` of it opening (or of the last response); a request body that is
slower than that is cut off by the app (:data:`triage.web.app.BODY_TIMEOUT`, 408).

It also turns Nagle's algorithm off on every connection (:func:`no_delay`): with
``--workers`` 2 or more, uvicorn 0.54 binds the shared socket with ``proto`` 0, so asyncio does
not set ``TCP_NODELAY`` on the connections it accepts, and every request on a kept-alive
connection waited about 40 ms for the client's delayed ACK (Kludex/uvicorn#3149).

With several workers, :func:`serve_workers` gives each worker a listening socket of its own.
"""

from __future__ import annotations

import socket
from typing import Any, Optional

from uvicorn.protocols.http.h11_impl import H11Protocol

KEEP_ALIVE_SECONDS = 5  # an idle connection is closed after this
HEADER_SECONDS = 10.0  # the request line and headers must arrive within this
MAX_HEADER_BYTES = 16 * 1024  # request line and headers: larger is refused (431)
SHUTDOWN_SECONDS = 10  # requests still running at shutdown get this long


class TimedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with a deadline for a request's headers and no Nagle delay."""

    _header_deadline: Optional[Any] = None

    def connection_made(self, transport) -> None:
        no_delay(transport)
        super().connection_made(transport)
        self._arm()

    def _arm(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
        self._header_deadline = self.loop.call_later(HEADER_SECONDS, self._headers_too_slow)

    def _headers_too_slow(self) -> None:
        self._header_deadline = None
        waiting = self.cycle is None or self.cycle.response_complete
        if waiting and not self.transport.is_closing():
            self.transport.close()  # no request under way: nothing to answer

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None
        super().connection_lost(exc)


def no_delay(transport) -> None:
    """Send each response at once: ``TCP_NODELAY`` on the connection's TCP socket."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # a connection already gone
            pass


# --- several workers -------------------------------------------------------------------------


def listening_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` TCP sockets bound to one address with ``SO_REUSEPORT`` (the first picks the
    port when ``port`` is 0): the kernel then spreads new connections over them evenly."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    out: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            out.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((host, port))
            port = sock.getsockname()[1]
            sock.set_inheritable(True)
    except BaseException:
        for sock in out:
            sock.close()
        raise
    return out


def own_sockets_possible() -> bool:
    """Whether :func:`serve_workers` can run here: ``SO_REUSEPORT`` (Linux, the BSDs, macOS)
    and uvicorn's worker process class (uvicorn 0.30 on). Otherwise uvicorn's own supervisor
    serves the workers from one shared socket."""
    try:
        from uvicorn.supervisors.multiprocess import Process  # noqa: F401
    except ImportError:
        return False
    return hasattr(socket, "SO_REUSEPORT")


def serve_workers(config, workers: int) -> None:
    """Run ``workers`` worker processes of uvicorn's ``config``, each on a listening socket of
    its own (:func:`listening_sockets`), and replace one that dies; SIGINT or SIGTERM stops
    them all (each finishes its requests within :data:`SHUTDOWN_SECONDS`).

    uvicorn's own supervisor gives every worker one shared socket: the worker that wakes first
    accepts every connection waiting (asyncio accepts up to the backlog at once) and keeps
    each for as long as it stays open, so 40 browsers arriving together could all be served
    by one worker while the others idled (measured: 98% of the work on one of two workers)."""
    import signal
    import threading

    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors.multiprocess import Process

    sockets = listening_sockets(config.host, config.port, workers)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda _sig, _frame: stop.set())
    processes = [Process(config, [sock]) for sock in sockets]
    try:
        for process in processes:
            process.start()
        while not stop.wait(0.5):
            for i, process in enumerate(processes):
                if process.process.is_alive():
                    continue
                process.join()
                if process.exitcode == STARTUP_FAILURE:  # broken app or socket: every restart would fail
                    stop.set()
                    break
                processes[i] = Process(config, [sockets[i]])  # a new worker on the same socket
                processes[i].start()
    finally:
        for process in processes:
            if process.process.is_alive():
                process.terminate()
        for process in processes:
            process.join()
        for sock in sockets:
            sock.close()

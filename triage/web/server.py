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
    """uvicorn's h11 protocol, with a deadline for a request's headers."""

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

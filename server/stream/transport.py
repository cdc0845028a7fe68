"""What a client stream negotiation needs from the transport carrying it.

The c2s state machine (:mod:`tigase_py.server.stream.c2s`) knows nothing of sockets: TCP
(``server/net/c2s.py``) implements this interface today; BOSH and WebSocket implement it with their
own framing (a ``<body/>`` wrapper, ``<open/>``/``<close/>``) and drive the same negotiation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from tigase_py.server.xml.element import Element


class StreamTransport(Protocol):
    """Outputs of a client stream. A transport also feeds the stream its inputs: ``stream_opened``,
    ``stanza_received``, ``stream_closed`` (the parser's sink events), ``tls_established`` and
    ``transport_closed``."""

    @property
    def peer(self) -> str:
        """``address:port`` of the client."""
        ...

    @property
    def closing(self) -> bool:
        """The stream is ending: nothing more will be written."""
        ...

    def open_stream(self, frm: str | None) -> None:
        """Send the server's stream header (``from`` = the vhost, when known)."""

    def write(self, data: bytes) -> None:
        """Send serialised top-level elements (features, SASL, replies) on the stream."""

    def send_stanza(self, stanza: Element) -> None:
        """Send a stanza to the bound client (counted as outgoing traffic)."""

    def start_tls(self) -> None:
        """``<proceed/>`` was written: upgrade, then call ``tls_established`` (or close)."""

    def restart(self, authenticated: bool) -> None:
        """The client will open a new stream (RFC 6120 §6.4.6); ``authenticated`` selects the
        post-login byte limits."""

    def session_bound(self) -> None:
        """A session was bound: the pre-auth limits and timers no longer apply."""

    def hold_input(self) -> None:
        """Too much received input is waiting to be processed: stop taking more for now."""

    def release_input(self) -> None:
        """Processing caught up: take input again."""

    def begin_processing(self) -> None:
        """Called in the task that processes this stream's input, before it writes anywhere, so
        output it causes on other streams counts against this one (backpressure)."""

    def close(self) -> None:
        """End the stream normally."""

    def close_with_error(self, condition: str, text: str = "", app_condition: Element | None = None) -> None:
        """Send one stream error and end the stream; later calls do nothing."""

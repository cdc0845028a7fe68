"""Pre-authentication features: what a module offers on a client stream before login.

A module declares one with ``Module(..., pre_auth=PreAuth(...))``: a stream feature to advertise
among the pre-auth ``<stream:features/>`` and a handler for IQs whose child element it names, e.g.
XEP-0077 in-band registration answers ``<iq><query xmlns='jabber:iq:register'/></iq>``. The c2s
negotiation (``server/stream/``) finds them through the registry, so it never imports a module.

    module = Module(name="register", ..., pre_auth=PreAuth(ns.REGISTER, "query", handle, feature))

The handler returns the reply IQ; to refuse it raises ``StanzaError`` (sent as an error reply) or
``StreamError`` (the stream is closed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from tigase_py.server.core.login_guard import LoginGuard
    from tigase_py.server.core.module import ModuleContext
    from tigase_py.server.xml.element import Element


class PreAuthStream(Protocol):
    """What a pre-auth feature may know of the unauthenticated stream it serves."""

    @property
    def domain(self) -> str:
        """The vhost the client opened its stream to."""
        ...

    @property
    def peer(self) -> str:
        """``address:port`` of the client, as connections record it."""
        ...

    @property
    def ip(self) -> str:
        """The client's address, as the login throttles count it."""
        ...

    @property
    def login_guard(self) -> LoginGuard:
        """The throttles of logins and account creation per client address."""
        ...

    @property
    def may_carry_credentials(self) -> bool:
        """The stream is encrypted, or its listener does not require TLS."""
        ...


PreAuthFeature = Callable[["ModuleContext", PreAuthStream], "Element | None"]
PreAuthHandler = Callable[["ModuleContext", PreAuthStream, "Element"], Awaitable["Element"]]


@dataclass(frozen=True, slots=True)
class PreAuth:
    """An IQ payload (``ns``, ``element``) a module answers before authentication, and the stream
    feature advertising it (None: nothing to advertise, or not on this stream)."""

    ns: str
    element: str
    handler: PreAuthHandler
    feature: PreAuthFeature | None = None

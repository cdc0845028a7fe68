"""What client streams use of the rest of the server, handed to them explicitly (one object per
listener, shared by its streams), and the parser byte limits before and after login."""

from __future__ import annotations

from collections.abc import Callable, Collection, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tigase_py.server.xml.parser import ParserLimits

if TYPE_CHECKING:
    import asyncio

    from tigase_py.server.config.schema import LimitsConfig, ServerConfig
    from tigase_py.server.core.events import EventBus
    from tigase_py.server.core.login_guard import LoginGuard
    from tigase_py.server.core.registry import ModuleRegistry
    from tigase_py.server.core.router import Router
    from tigase_py.server.core.session import SessionManager
    from tigase_py.server.core.stats import CoreMetrics
    from tigase_py.server.storage.engine import Storage


@dataclass(frozen=True, slots=True)
class StreamServices:
    """The server parts a c2s stream uses, and the TLS policy of the listener it came through.

    ``starttls``: STARTTLS can be offered; ``require_tls``: nothing but STARTTLS before the stream is
    encrypted; ``channel_binding``: RFC 5929 tls-server-end-point data once encrypted (SCRAM-PLUS).
    """

    config: ServerConfig
    vhosts: Collection[str]
    storage: Storage
    sessions: SessionManager
    router: Router
    bus: EventBus
    registry: ModuleRegistry
    login_guard: LoginGuard
    stats: CoreMetrics
    track: Callable[[Coroutine[Any, Any, Any]], asyncio.Task[Any]]
    auth_failed: Callable[[], None]
    starttls: bool = False
    require_tls: bool = False
    channel_binding: bytes | None = None


def parser_limits(limits: LimitsConfig, authenticated: bool) -> ParserLimits:
    """Byte limits for the stream parser; before authentication far stricter than after."""
    if authenticated:
        return ParserLimits(
            max_stanza_bytes=limits.max_stanza_size,
            max_header_bytes=limits.max_stream_header_size,
            max_tag_bytes=limits.max_tag_size,
        )
    return ParserLimits(
        max_stanza_bytes=min(limits.pre_auth_stanza_size, limits.max_stanza_size),
        max_header_bytes=limits.max_stream_header_size,
        max_tag_bytes=min(limits.max_tag_size, limits.pre_auth_stanza_size),
        max_elements=32,
    )

"""Sessions: who is bound where. No protocol decisions live here."""

from __future__ import annotations

from typing import Any, Protocol

from tigase_py.server.jid import Jid
from tigase_py.server.xml.element import Element


class StanzaWriter(Protocol):
    def send_stanza(self, stanza: Element) -> None: ...

    def close_with_error(self, condition: str, text: str = "") -> None: ...


class Session:
    """One bound client resource."""

    __slots__ = (
        "writer",
        "jid",
        "full",
        "bare",
        "vhost",
        "priority",
        "available",
        "presence",
        "interested",
        "directed",
        "cache",
        "peer",
        "secure",
    )

    def __init__(self, writer: StanzaWriter, jid: Jid, peer: str = "", secure: bool = False) -> None:
        self.writer = writer
        self.jid = jid
        self.full = str(jid)
        self.bare = jid.bare_str
        self.vhost = jid.domain
        self.priority = 0
        self.available = False
        self.presence: Element | None = None
        self.interested = False
        self.directed: set[str] = set()
        self.cache: dict[str, Any] = {}
        self.peer = peer
        self.secure = secure

    def send(self, stanza: Element) -> None:
        self.writer.send_stanza(stanza)

    def __repr__(self) -> str:
        return f"<Session {self.full}>"


class SessionManager:
    """Bound sessions indexed by bare JID, then resource."""

    __slots__ = ("_by_bare", "count")

    def __init__(self) -> None:
        self._by_bare: dict[str, dict[str, Session]] = {}
        self.count = 0

    def get(self, jid: Jid) -> Session | None:
        resources = self._by_bare.get(jid.bare_str)
        return None if resources is None else resources.get(jid.resource)

    def resources(self, bare: str) -> list[Session]:
        resources = self._by_bare.get(bare)
        return list(resources.values()) if resources else []

    def has_resources(self, bare: str) -> bool:
        return bare in self._by_bare

    def resource_count(self, bare: str) -> int:
        resources = self._by_bare.get(bare)
        return len(resources) if resources else 0

    def add(self, session: Session) -> Session | None:
        """Bind ``session``; return the session it replaces (same full JID), if any."""
        resources = self._by_bare.setdefault(session.bare, {})
        previous = resources.get(session.jid.resource)
        resources[session.jid.resource] = session
        if previous is None:
            self.count += 1
        return previous

    def remove(self, session: Session) -> bool:
        resources = self._by_bare.get(session.bare)
        if resources is None or resources.get(session.jid.resource) is not session:
            return False
        del resources[session.jid.resource]
        self.count -= 1
        if not resources:
            del self._by_bare[session.bare]
        return True

    def all(self) -> list[Session]:
        return [s for resources in self._by_bare.values() for s in resources.values()]

    def in_domain(self, domain: str) -> list[Session]:
        return [s for s in self.all() if s.vhost == domain]

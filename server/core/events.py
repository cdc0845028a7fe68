"""The event bus: notifications (``fire``) and value pipelines (``fold``), per vhost.

Event names form a closed list so a typo fails loudly instead of silently never firing.
A notification handler returns ``None`` to continue or :data:`STOP` to end the chain; a fold
handler returns the (possibly changed) value or :data:`DROP`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

STOP: Final = "STOP"
DROP: Final = "DROP"

EVENTS = frozenset(
    {
        "session.bound",  # session: a resource was bound
        "session.closed",  # session: a bound session ended (after unavailable presence went out)
        "session.presence",  # session, initial: the session sent available presence
        "message.offline",  # stanza, owner: no resource could take the message; STOP when stored
        "user.created",  # owner
        "user.deleted",  # owner
        "roster.changed",  # owner, item, version
        "vhost.added",  # vhost
        "vhost.removed",  # vhost
    }
)

FOLDS = frozenset(
    {
        "stanza.outbound",  # stanza, session: from a local client before routing
        "stanza.deliver",  # stanza, owner: before delivery to a local account
    }
)

Handler = Callable[..., Awaitable[Any]]


class UnknownEvent(KeyError):
    pass


class EventBus:
    """Handlers are stored per (name, vhost); ``None`` as vhost means every vhost.

    A fold handler may name the stanza kinds it looks at (``kinds=("presence",)``); the chain run for a
    stanza of another kind leaves it out, so a message does not pay for presence-only filters.
    """

    __slots__ = ("_handlers", "_chains")

    def __init__(self) -> None:
        self._handlers: dict[tuple[str, str | None], list[tuple[int, Handler, frozenset[str] | None]]] = {}
        self._chains: dict[tuple[str, str | None, str | None], tuple[Handler, ...]] = {}

    def on(
        self,
        name: str,
        handler: Handler,
        vhost: str | None = None,
        priority: int = 0,
        kinds: frozenset[str] | None = None,
    ) -> Callable[[], None]:
        if name not in EVENTS and name not in FOLDS:
            raise UnknownEvent(name)
        chain = self._handlers.setdefault((name, vhost), [])
        entry = (priority, handler, kinds)
        chain.append(entry)
        chain.sort(key=lambda item: -item[0])
        self._chains.clear()

        def undo() -> None:
            if entry in chain:
                chain.remove(entry)
            if not chain:
                self._handlers.pop((name, vhost), None)
            self._chains.clear()

        return undo

    def has(self, name: str, vhost: str | None, kind: str | None = None) -> bool:
        return bool(self._chain(name, vhost, kind))

    def folders(self, name: str, vhost: str | None, kind: str | None) -> tuple[Handler, ...]:
        """The fold handlers a stanza of ``kind`` passes through, for callers that run the loop inline."""
        return self._chains.get((name, vhost, kind)) or self._chain(name, vhost, kind)

    def _chain(self, name: str, vhost: str | None, kind: str | None = None) -> tuple[Handler, ...]:
        """The handlers for (name, vhost[, stanza kind]) in priority order, cached until a registration changes."""
        key = (name, vhost, kind)
        chain = self._chains.get(key)
        if chain is None:
            specific = self._handlers.get((name, vhost), [])
            general = self._handlers.get((name, None), []) if vhost is not None else []
            ordered = sorted(specific + general, key=lambda item: -item[0])
            chain = self._chains[key] = tuple(
                handler for _, handler, kinds in ordered if kind is None or kinds is None or kind in kinds
            )
        return chain

    async def fire(self, name: str, vhost: str | None = None, /, **fields: Any) -> bool:
        """Run notification handlers in priority order; return True when one returned STOP."""
        if name not in EVENTS:
            raise UnknownEvent(name)
        for handler in self._chain(name, vhost):
            if await handler(**fields) is STOP:
                return True
        return False

    async def fold(self, name: str, value: Any, vhost: str | None = None, /, **fields: Any) -> Any:
        """Pass ``value`` through the fold handlers for its kind (its ``tag``); return the result or DROP."""
        if name not in FOLDS:
            raise UnknownEvent(name)
        for handler in self._chain(name, vhost, getattr(value, "tag", None)):
            value = await handler(value, **fields)
            if value is DROP:
                return DROP
        return value

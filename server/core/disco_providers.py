"""Disco node providers: how a module answers XEP-0030 queries on nodes (and on service JIDs).

A module declares providers; the disco module asks them and builds the reply::

    @module.disco_info(on="server")
    async def command_node(ctx: ModuleContext, request: DiscoRequest) -> DiscoInfo | None:
        if request.node != COMMANDS:
            return None                       # not mine: disco asks the next provider
        return DiscoInfo(identities=[Identity("automation", "command-list")], features=[ns.DISCO_ITEMS])

    @module.disco_items(on="service")
    async def rooms(ctx: ModuleContext, request: DiscoRequest, page: PageRequest) -> ItemsPage | None:
        if request.node:
            return None
        rows = await store.rooms(after=page.after, limit=page.max)      # page in the store
        return ItemsPage([DiscoItem(r.jid, name=r.name) for r in rows], first=..., last=..., count=...)

``on`` names the JIDs a provider serves, as the router names them: ``"server"`` (the vhost),
``"account"`` (bare account JIDs), ``"service"`` (the module's service domain) and ``"service_node"``
(``node@`` the service, e.g. a room). A module without a service of its own that declares
``"service"``/``"service_node"`` serves every service of the vhost.

Rules the disco module applies:

- info, ``node`` empty: the entity's own identities and features, plus whatever every provider
  returns (merged); info on a node: the first provider that does not return None answers, none is
  ``item-not-found``.
- items: every provider is asked; a provider that pages itself returns :class:`ItemsPage` with
  ``is_paged=True`` (its ``first``/``last``/``count`` go into the XEP-0059 ``<set/>``); a plain list or
  an unpaged page is sliced by disco, the item's position being its RSM id. ``None`` everywhere is
  ``item-not-found`` on a node and an empty list on the JID itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from tigase_py.server.errors import StanzaError
from tigase_py.server.jid import Jid
from tigase_py.server.xml import ns
from tigase_py.server.xml.element import Element

if TYPE_CHECKING:
    from tigase_py.server.core.module import Identity

DISCO_TARGETS = ("server", "account", "service", "service_node")
P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class DiscoRequest:
    """One disco query: who asks about which JID (``target``) and which ``node`` ("" for the JID)."""

    requester: Jid
    target: Jid
    node: str
    on: str


@dataclass(frozen=True, slots=True)
class DiscoInfo:
    """What a provider says about a JID or node; ``extensions`` are XEP-0128 data forms (Elements)."""

    identities: Sequence[Identity] = ()
    features: Sequence[str] = ()
    extensions: Sequence[Any] = ()


@dataclass(frozen=True, slots=True)
class DiscoItem:
    jid: str
    node: str = ""
    name: str = ""


@dataclass(frozen=True, slots=True)
class PageRequest:
    """An XEP-0059 request: at most ``max`` items after (or before) the item with id ``after``/``before``,
    or from position ``index``. All None: the client asked for everything (no ``<set/>``)."""

    max: int | None = None
    after: str | None = None
    before: str | None = None
    index: int | None = None

    @property
    def is_requested(self) -> bool:
        return any(v is not None for v in (self.max, self.after, self.before, self.index))


@dataclass(frozen=True, slots=True)
class ItemsPage:
    """Items a provider returns; ``is_paged`` says it applied the :class:`PageRequest` itself."""

    items: Sequence[DiscoItem] = ()
    is_paged: bool = False
    first: str | None = None
    last: str | None = None
    count: int | None = None
    first_index: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


InfoProvider = Callable[[Any, DiscoRequest], Awaitable[DiscoInfo | None]]
ItemsProvider = Callable[[Any, DiscoRequest, PageRequest], Awaitable[ItemsPage | Iterable[DiscoItem] | None]]


def declare(into: list[tuple[tuple[str, ...], P]], on: str | Iterable[str]) -> Callable[[P], P]:
    """The decorator behind ``Module.disco_info``/``disco_items``: check ``on``, remember the provider."""
    targets = (on,) if isinstance(on, str) else tuple(on)
    for target in targets:
        if target not in DISCO_TARGETS:
            raise ValueError(f"unknown disco target {target!r} (expected one of {', '.join(DISCO_TARGETS)})")

    def register(fn: P) -> P:
        into.append((targets, fn))
        return fn

    return register


def slice_items(items: Sequence[DiscoItem], page: PageRequest) -> ItemsPage:
    """Apply an XEP-0059 request to a whole list; an item's RSM id is its position."""
    total = len(items)
    start, end = 0, total
    if page.after is not None:
        start = _position(page.after, total) + 1
    if page.before is not None:
        end = total if page.before == "" else _position(page.before, total)
        if page.max is not None:
            start = max(start, end - page.max)
    elif page.index is not None:
        start = min(max(page.index, 0), total)
    if page.max is not None:
        end = min(end, start + page.max)
    chosen = items[start:end] if start < end else []
    if not chosen:
        return ItemsPage((), True, None, None, total, None)
    return ItemsPage(tuple(chosen), True, str(start), str(start + len(chosen) - 1), total, start)


def _position(rsm_id: str, total: int) -> int:
    if not rsm_id.isdigit() or int(rsm_id) >= total:
        # XEP-0059 §2.5: an id that does not exist.
        raise StanzaError("item-not-found", f"no item {rsm_id!r} in this list")
    return int(rsm_id)


MAX_PAGE = 1000  # the most items one XEP-0059 page may ask for (a larger <max/> is lowered to it)


def parse_page(query: Element) -> PageRequest:
    """The XEP-0059 ``<set/>`` of a query (bad-request when a number is not one)."""
    found = query.find("set", ns.RSM)
    if found is None:
        return PageRequest()

    def number(name: str) -> int | None:
        text = found.find_text(name, ns.RSM)
        if text is None:
            return None
        if not text.strip().isdigit():
            raise StanzaError("bad-request", f"<{name}/> must be a non-negative integer")
        return int(text)

    maximum = number("max")
    return PageRequest(
        max=None if maximum is None else min(maximum, MAX_PAGE),
        after=found.find_text("after", ns.RSM),
        before=found.find_text("before", ns.RSM),
        index=number("index"),
    )


def result_set(page: ItemsPage) -> Element:
    """The XEP-0059 ``<set/>`` answering a page request."""
    answer = Element("set", ns=ns.RSM)
    if page.first is not None:
        first = answer.add("first", text=page.first)
        if page.first_index is not None:
            first.attrs["index"] = str(page.first_index)
    if page.last is not None:
        answer.add("last", text=page.last)
    if page.count is not None:
        answer.add("count", text=str(page.count))
    return answer

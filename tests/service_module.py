"""A tiny hosted service for tests: ``svc.<vhost>`` answers an IQ, echoes messages and presence.

It is registered under the module name ``svc_test`` by :func:`install` (tests only; nothing under
``server/`` imports it).
"""

from __future__ import annotations

import sys

import pytest

from tigase_py.server.config import schema
from tigase_py.server.core.disco_providers import DiscoInfo, DiscoItem, DiscoRequest, ItemsPage, PageRequest
from tigase_py.server.core.module import Identity, IqContext, Module, ModuleContext, StanzaContext
from tigase_py.server.core.services import HostedService
from tigase_py.server.errors import StanzaError
from tigase_py.server.xml.element import Element

NAME = "svc_test"
NS = "urn:example:svc"
IDENTITY = Identity("component", "generic", "Test service")
NODES = 25  # disco#items of the service lists this many items: more than one page of 10
BIG = 1_000_000  # items of node "big", paged by the provider itself

module = Module(
    name=NAME,
    service=HostedService(
        default_subdomain="svc",
        identities=[IDENTITY],
        features=[NS],
        name="Test service",
    ),
)


def install(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``svc_test`` a known, default-enabled module for this test (undone by monkeypatch)."""
    monkeypatch.setitem(sys.modules, f"tigase_py.server.modules.{NAME}", sys.modules[__name__])
    monkeypatch.setattr(schema, "ALL_MODULES", (*schema.ALL_MODULES, NAME))


@module.iq("get", NS, "query", to="service")
async def answer_service(ctx: IqContext) -> Element:
    """``<iq to='svc.<vhost>'><query xmlns='urn:example:svc'/></iq>`` → the service's domain and vhost."""
    assert ctx.module.service is not None
    return ctx.result(Element("query", {"domain": ctx.module.service.domain, "vhost": ctx.module.vhost}, ns=NS))


@module.iq("set", NS, "query", to="service")
async def fail(_ctx: IqContext) -> Element:
    """A handler that breaks: the router answers internal-server-error and logs the handler key."""
    raise RuntimeError("broken on purpose")


@module.iq("get", NS, "query", to="service_node")
async def answer_node(ctx: IqContext) -> Element:
    """Only ``known@svc.<vhost>`` exists."""
    if ctx.to.local != "known":
        raise StanzaError("item-not-found", "no such node")
    return ctx.result(Element("query", {"node": ctx.to.local}, ns=NS))


@module.iq(("get", "set"), "*", "*", to="service_full")
async def answer_any(ctx: IqContext) -> Element:
    """Anything to a full JID under the service (as MUC relays IQs to occupants): name what came."""
    return ctx.result(Element("relayed", {"ns": ctx.payload.ns, "to": str(ctx.to)}, ns=NS))


@module.message("service")
async def echo_message(ctx: StanzaContext) -> Element | None:
    """Echo a message; body "bounce": write to an account that does not exist and report the error
    that comes back (its id carries who asked)."""
    stanza_id = ctx.stanza.attrs.get("id", "")
    if ctx.stanza.attrs.get("type") == "error":
        if not stanza_id.startswith("b:"):
            return None
        error = ctx.stanza.find("error")
        conditions = [c.name for c in error.elements() if c.name != "text"] if error is not None else []
        notice = Element("message", {"from": str(ctx.to), "to": stanza_id[2:], "type": "chat"})
        notice.add("body", text=f"bounced: {' '.join(conditions)}")
        return notice
    if ctx.stanza.find_text("body") == "bounce":
        return Element("message", {"from": str(ctx.to), "to": "nobody@localhost", "id": f"b:{ctx.sender}"})
    reply = Element("message", {"from": str(ctx.to), "to": str(ctx.sender), "type": "chat"})
    reply.add("body", text=f"echo: {ctx.stanza.find_text('body') or ''}")
    return reply


@module.presence("service")
async def echo_presence(ctx: StanzaContext) -> Element | None:
    if ctx.stanza.attrs.get("type") is not None:
        return None
    return Element("presence", {"from": str(ctx.to), "to": str(ctx.sender)})


@module.disco_info(on="service")
async def node_info(_ctx: ModuleContext, request: DiscoRequest) -> DiscoInfo | None:
    if request.node != "n1":
        return None
    return DiscoInfo([Identity("hierarchy", "leaf", "Node one")], [NS])


@module.disco_info(on="service_node")
async def entity_info(_ctx: ModuleContext, request: DiscoRequest) -> DiscoInfo | None:
    """``known@svc.<vhost>`` is an entity of its own (as a MUC room is); other node JIDs do not exist."""
    if request.target.local != "known" or request.node:
        return None
    return DiscoInfo([Identity("conference", "text", "Known")], [NS])


@module.disco_items(on="service")
async def items(_ctx: ModuleContext, request: DiscoRequest, page: PageRequest) -> ItemsPage | list[DiscoItem] | None:
    """The service lists ``NODES`` nodes, which disco pages (XEP-0059) when asked; node "big" holds
    ``BIG`` items that are never all built: the provider pages them itself, as a store would."""
    if request.node == "big":
        start = int(page.after) + 1 if page.after is not None and page.after.isdigit() else 0
        chosen = range(start, min(start + (page.max if page.max is not None else 10), BIG))
        found = [DiscoItem(str(request.target), f"big/{i}") for i in chosen]
        last = str(chosen[-1]) if found else None
        return ItemsPage(found, is_paged=True, first=str(start) if found else None, last=last, count=BIG)
    if request.node:
        return None
    return [DiscoItem(str(request.target), f"n{i}", f"Node {i}") for i in range(1, NODES + 1)]

"""Shared by the advanced cases: service discovery, presence subscriptions, waiting for stanzas."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable

from tigase_py.compat_tests import ns
from tigase_py.compat_tests.case import disco_features, disco_info, not_supported
from tigase_py.compat_tests.client import WireClient, next_id, stanza_error

MUC = "http://jabber.org/protocol/muc"
MUC_USER = "http://jabber.org/protocol/muc#user"
MUC_OWNER = "http://jabber.org/protocol/muc#owner"
PUBSUB = "http://jabber.org/protocol/pubsub"
PUBSUB_EVENT = "http://jabber.org/protocol/pubsub#event"
PUBSUB_OWNER = "http://jabber.org/protocol/pubsub#owner"
DATA = "jabber:x:data"
COMMANDS = "http://jabber.org/protocol/commands"
MAM = "urn:xmpp:mam:2"
RSM = "http://jabber.org/protocol/rsm"
FORWARD = "urn:xmpp:forward:0"
UPLOAD = "urn:xmpp:http:upload:0"
STANZA_ERRORS = ns.STANZA_ERRORS

Q = ns.q
MESSAGE, PRESENCE, IQ = Q(ns.CLIENT, "message"), Q(ns.CLIENT, "presence"), Q(ns.CLIENT, "iq")


def unique(prefix: str) -> str:
    """A fresh name (room, node, message body) so cases never collide with earlier runs."""
    return f"{prefix}-{secrets.token_hex(4)}"


def bare(jid: str | None) -> str:
    return (jid or "").partition("/")[0]


async def disco_items(client: WireClient, jid: str, node: str | None = None) -> list[ET.Element]:
    """The <item/> elements of ``jid``'s disco#items (empty when the query fails)."""
    attr = f" node='{node}'" if node else ""
    reply = await client.iq(
        f"<iq type='get' id='{next_id('items')}' to='{jid}'><query xmlns='{ns.DISCO_ITEMS}'{attr}/></iq>"
    )
    if reply.get("type") != "result":
        return []
    return reply.findall(f"{{{ns.DISCO_ITEMS}}}query/{{{ns.DISCO_ITEMS}}}item")


def identities(query: ET.Element | None) -> set[tuple[str, str]]:
    if query is None:
        return set()
    return {(i.get("category", ""), i.get("type", "")) for i in query.findall(Q(ns.DISCO_INFO, "identity"))}


_services: dict[tuple[str, int, str], str | None] = {}


async def find_service(client: WireClient, feature: str, identity: tuple[str, str] | None = None) -> str:
    """The JID of a service in the server's disco#items that lists ``feature`` (and ``identity``).

    Raises NotSupported when no item of the server's domain advertises it.
    """
    key = (client.target.host, client.target.port, f"{feature}|{identity}")
    if key not in _services:
        _services[key] = None
        for item in await disco_items(client, client.target.domain):
            jid = item.get("jid")
            if not jid or item.get("node") or "@" in jid:
                continue
            query = await disco_info(client, jid)
            features = set() if query is None else {f.get("var") for f in query.findall(Q(ns.DISCO_INFO, "feature"))}
            if feature in features and (identity is None or identity in identities(query)):
                _services[key] = jid
                break
    found = _services[key]
    if found is None:
        raise not_supported(f"no service in {client.target.domain}'s disco#items advertises {feature}")
    return found


async def require_account_feature(client: WireClient, feature: str) -> None:
    """NotSupported unless the account's own bare JID advertises ``feature`` in disco#info."""
    if feature not in await disco_features(client, bare(client.jid)):
        raise not_supported(f"{bare(client.jid)} does not advertise {feature} in disco#info")


async def nothing_matching(client: WireClient, predicate: Callable[[ET.Element], bool], wait: float = 1.0) -> bool:
    """True when no element matching ``predicate`` arrives within ``wait`` seconds."""
    try:
        await client.expect(predicate, wait)
    except TimeoutError:
        return True
    return False


def from_is(jid: str, tag: str = MESSAGE) -> Callable[[ET.Element], bool]:
    def match(element: ET.Element) -> bool:
        return element.tag == tag and element.get("from") == jid

    match.__name__ = f"{tag.rpartition('}')[2]} from {jid}"
    return match


def body_is(text: str) -> Callable[[ET.Element], bool]:
    def match(element: ET.Element) -> bool:
        return element.tag == MESSAGE and element.findtext(Q(ns.CLIENT, "body")) == text

    match.__name__ = f"message with body {text!r}"
    return match


async def set_iq(client: WireClient, to: str, payload: str, kind: str = "set") -> ET.Element:
    """Send an IQ of type ``kind`` with ``payload`` to ``to``; return the reply."""
    attr = f" to='{to}'" if to else ""
    return await client.iq(f"<iq type='{kind}' id='{next_id()}'{attr}>{payload}</iq>")


def error_of(reply: ET.Element) -> str | None:
    return stanza_error(reply)


async def _answer_subscription(client: WireClient, other: str) -> None:
    def asks(el: ET.Element) -> bool:
        return el.tag == PRESENCE and el.get("type") == "subscribe" and bare(el.get("from")) == other

    await client.expect(asks)
    await client.send(f"<presence to='{other}' type='subscribed'/>")


async def subscribe_mutually(first: WireClient, second: WireClient) -> None:
    """Establish a two-way presence subscription between the two accounts (RFC 6121 3.1)."""
    a, b = bare(first.jid), bare(second.jid)
    await available(first)
    await available(second)
    await first.send(f"<presence to='{b}' type='subscribe'/>")
    await _answer_subscription(second, a)
    await second.send(f"<presence to='{a}' type='subscribe'/>")
    await _answer_subscription(first, b)
    await asyncio.sleep(0.3)


async def remove_contact(client: WireClient, contact: str) -> None:
    """Remove ``contact`` from the roster (which also cancels both subscriptions); errors ignored."""
    item = f"<query xmlns='{ns.ROSTER}'><item jid='{contact}' subscription='remove'/></query>"
    with contextlib.suppress(Exception):
        await set_iq(client, "", item)


@contextlib.asynccontextmanager
async def mutual_subscription(first: WireClient, second: WireClient) -> AsyncIterator[None]:
    """A two-way subscription for the duration of a case; both roster items are removed afterwards."""
    try:
        await subscribe_mutually(first, second)
        yield
    finally:
        await remove_contact(first, bare(second.jid))
        await remove_contact(second, bare(first.jid))


async def available(client: WireClient, extra: str = "") -> None:
    """Send initial presence (RFC 6121 4.2) and give the server a moment to process it."""
    await client.send(f"<presence>{extra}</presence>")
    await asyncio.sleep(0.2)

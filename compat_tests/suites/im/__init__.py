"""Core IM cases: RFC 6121 rosters, subscriptions, presence and messages, and the IM XEPs around them.

The helpers here are shared by the cases in this folder: an ``online`` session, roster get/set/push,
stanza predicates and ``befriend``/``unfriend`` to put two accounts into a known subscription state.
The accounts are shared by the whole run, so every case first resets the state it relies on.
"""

from __future__ import annotations

import asyncio
import contextlib
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable

from tigase_py.compat_tests import ns
from tigase_py.compat_tests.case import describe, need_accounts, require_feature
from tigase_py.compat_tests.client import StreamClosed, WireClient, next_id
from tigase_py.compat_tests.target import Account, Target

IQ = ns.q(ns.CLIENT, "iq")
MESSAGE = ns.q(ns.CLIENT, "message")
PRESENCE = ns.q(ns.CLIENT, "presence")
QUERY = ns.q(ns.ROSTER, "query")
ITEM = ns.q(ns.ROSTER, "item")
WAIT = 5.0  # seconds to wait for something the server MUST send
QUIET = 0.6  # seconds to watch for something the server MUST NOT send
Predicate = Callable[[ET.Element], bool]


def bare(jid: str | None) -> str:
    return (jid or "").partition("/")[0].lower()


def same(a: str | None, b: str | None) -> bool:
    """JIDs equal (case-insensitive localpart and domain; good enough for the ASCII test accounts)."""
    return (a or "").lower() == (b or "").lower()


@contextlib.asynccontextmanager
async def online(
    target: Target,
    account: Account,
    resource: str | None = None,
    *,
    roster: bool = False,
    available: bool = False,
    priority: int | None = None,
    who: str | None = None,
) -> AsyncIterator[WireClient]:
    """A logged-in client; ``roster`` makes it an interested resource, ``available`` sends initial presence."""
    client = WireClient(target, who or account.local)
    try:
        await client.login(account, resource)
        if roster:
            await roster_get(client)
        if available:
            inner = "" if priority is None else f"<priority>{priority}</priority>"
            await client.send(f"<presence>{inner}</presence>")
        yield client
    finally:
        await client.close()


async def iq_reply(client: WireClient, kind: str, payload: str, to: str | None, expected: str) -> ET.Element:
    """Send an IQ of type ``kind`` with ``payload`` to ``to`` (None: no 'to'); assert the reply's type is
    ``expected`` (result or error) and return the reply."""
    address = "" if to is None else f" to='{to}'"
    reply = await client.iq(f"<iq type='{kind}' id='{next_id(kind)}'{address}>{payload}</iq>")
    assert reply.get("type") == expected, describe(reply)
    return reply


async def feature_query(client: WireClient, feature: str, payload: str, to: str | None) -> ET.Element:
    """Where the server advertises ``feature``, an IQ get with ``payload`` to ``to`` (None: no 'to') is a result."""
    await require_feature(client, feature)
    return await iq_reply(client, "get", payload, to, "result")


async def routed_query(
    asker: WireClient, answerer: WireClient, payload: str, answer: str = ""
) -> tuple[ET.Element, ET.Element]:
    """``asker`` sends an IQ get with ``payload`` to ``answerer``'s full JID, ``answerer`` replies to the
    request's sender with a result carrying ``answer``; returns (the request as routed, the reply as routed)."""
    assert asker.jid is not None and answerer.jid is not None
    stanza_id = next_id("routed")
    await asker.send(f"<iq type='get' id='{stanza_id}' to='{answerer.jid}'>{payload}</iq>")
    request = await answerer.expect(lambda el: el.get("id") == stanza_id, WAIT)
    await answerer.send(f"<iq type='result' id='{stanza_id}' to='{request.get('from')}'>{answer}</iq>")
    return request, await asker.expect(lambda el: el.get("id") == stanza_id, WAIT)


@contextlib.asynccontextmanager
async def receiver_and_sender(target: Target, accounts: list[Account]) -> AsyncIterator[tuple[WireClient, WireClient]]:
    """bob online and available, then alice online (not available): the pair most delivery cases need."""
    alice_account, bob_account = need_accounts(accounts, 2)
    async with online(target, bob_account, available=True) as bob, online(target, alice_account) as alice:
        yield bob, alice


async def roster_get(client: WireClient, ver: str | None = None) -> ET.Element:
    attr = "" if ver is None else f" ver='{ver}'"
    return await client.iq(f"<iq type='get' id='{next_id('roster')}'><query xmlns='{ns.ROSTER}'{attr}/></iq>")


async def roster_items(client: WireClient) -> dict[str, ET.Element]:
    """The roster as ``{bare jid: <item/>}``; AssertionError if the get fails."""
    reply = await roster_get(client)
    query = reply.find(QUERY)
    assert reply.get("type") == "result" and query is not None, describe(reply)
    return {bare(item.get("jid")): item for item in query.findall(ITEM)}


async def roster_set(client: WireClient, item: str, to: str | None = None) -> ET.Element:
    """Send a roster set with ``item`` (raw <item/> XML, or several) and return the reply."""
    address = f" to='{to}'" if to else ""
    query = f"<query xmlns='{ns.ROSTER}'>{item}</query>"
    return await client.iq(f"<iq type='set' id='{next_id('rset')}'{address}>{query}</iq>")


async def forget(client: WireClient, jid: str) -> None:
    """Remove ``jid`` from the roster if it is there (cancelling any subscription); ignore errors."""
    await roster_set(client, f"<item jid='{bare(jid)}' subscription='remove'/>")


def roster_push(jid: str, check: Callable[[ET.Element], bool] | None = None) -> Predicate:
    """A roster push (iq set) whose item is ``jid`` and satisfies ``check``."""

    def match(element: ET.Element) -> bool:
        if element.tag != IQ or element.get("type") != "set":
            return False
        item = element.find(f"{QUERY}/{ITEM}")
        return item is not None and bare(item.get("jid")) == bare(jid) and (check is None or check(item))

    match.__name__ = f"roster push for {jid}"
    return match


async def expect_push(
    client: WireClient, jid: str, check: Callable[[ET.Element], bool] | None = None, timeout: float = WAIT
) -> ET.Element:
    """Wait for a roster push about ``jid``, acknowledge it (RFC 6121 2.1.6), return the push."""
    push = await client.expect(roster_push(jid, check), timeout)
    await client.send(f"<iq type='result' id='{push.get('id')}'/>")
    return push


def pushed_item(push: ET.Element) -> ET.Element:
    item = push.find(f"{QUERY}/{ITEM}")
    assert item is not None, describe(push)
    return item


def subscription(state: str, ask: bool | None = None) -> Callable[[ET.Element], bool]:
    """Item check: the 'subscription' is ``state`` (absent means none) and, if given, 'ask' is set or not."""

    def check(item: ET.Element) -> bool:
        if (item.get("subscription") or "none") != state:
            return False
        return ask is None or (item.get("ask") == "subscribe") == ask

    return check


def presence_from(jid: str, kind: str | None = None) -> Predicate:
    """A presence from ``jid`` (bare: any of its resources; full: that resource) of ``kind`` (None: available)."""

    def match(element: ET.Element) -> bool:
        if element.tag != PRESENCE or element.get("type") != kind:
            return False
        sender = element.get("from") or ""
        return same(sender, jid) if "/" in jid else bare(sender) == bare(jid)

    match.__name__ = f"presence type={kind or 'available'} from {jid}"
    return match


def message_with(body: str) -> Predicate:
    def match(element: ET.Element) -> bool:
        return element.tag == MESSAGE and element.findtext(ns.q(ns.CLIENT, "body")) == body

    match.__name__ = f"message with body {body!r}"
    return match


def reply_to(stanza_id: str) -> Predicate:
    def match(element: ET.Element) -> bool:
        return element.get("id") == stanza_id and element.get("type") == "error"

    match.__name__ = f"error reply to {stanza_id}"
    return match


async def arrives(client: WireClient, match: Predicate, seconds: float = QUIET) -> ET.Element | None:
    """The first element matching within ``seconds``, or None (for things that MUST NOT happen)."""
    try:
        return await client.expect(match, seconds)
    except (TimeoutError, StreamClosed):
        return None


async def settle(seconds: float = 0.2) -> None:
    """Give the server a moment to finish routing before the next step."""
    await asyncio.sleep(seconds)


async def unfriend(target: Target, first: Account, second: Account) -> None:
    """Remove each account from the other's roster (whatever the state was)."""
    async with online(target, first, who=f"{first.local}-reset") as one:
        await forget(one, second.jid)
    async with online(target, second, who=f"{second.local}-reset") as two:
        await forget(two, first.jid)


async def approve(client: WireClient, other: str) -> None:
    """Wait for a subscription request from ``other`` and approve it."""
    await client.expect(presence_from(bare(other), "subscribe"), WAIT)
    await client.send(f"<presence to='{bare(other)}' type='subscribed'/>")


async def befriend(alice: WireClient, bob: WireClient, alice_jid: str, bob_jid: str) -> None:
    """Mutual subscription ('both') between two online, interested, available clients."""
    await alice.send(f"<presence to='{bare(bob_jid)}' type='subscribe'/>")
    await approve(bob, alice_jid)
    await expect_push(alice, bob_jid, subscription("to"))
    await bob.send(f"<presence to='{bare(alice_jid)}' type='subscribe'/>")
    await approve(alice, bob_jid)
    await expect_push(alice, bob_jid, subscription("both"))
    await expect_push(bob, alice_jid, subscription("both"))

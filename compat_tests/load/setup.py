"""Before the traffic: find MUC / PubSub services by disco, build rosters, create rooms and nodes.

Each step that another worker's sessions depend on is a separate ``step`` number; the coordinator
runs step k on every worker before step k+1 (e.g. a room exists before anyone else joins it).
"""

from __future__ import annotations

import asyncio
import itertools
import re
from typing import Any

from tigase_py.compat_tests.load.client import Session

DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_MUC = "http://jabber.org/protocol/muc"
NS_PUBSUB = "http://jabber.org/protocol/pubsub"
SERVICE_IDENTITY = {NS_MUC: "conference", NS_PUBSUB: "pubsub"}
STEP_TIMEOUT = 20.0
CONCURRENCY = 32
_ids = itertools.count(1)
_JID_ATTR = re.compile(rb"""jid=['"]([^'"]+)['"]""")


def next_id(prefix: str) -> str:
    return f"ld-{prefix}-{next(_ids)}"


async def request(session: Session, stanza: str, stanza_id: str, *end: bytes) -> bytes:
    """Send an IQ (or presence) and wait for the text that answers it."""
    reply = session.expect(stanza_id.encode(), *end)
    session.send(stanza.encode())
    return await asyncio.wait_for(reply, STEP_TIMEOUT)


async def find_service(session: Session, feature: str) -> str | None:
    """The first disco item of the domain whose identity category fits ``feature`` (MUC or PubSub)."""
    category = SERVICE_IDENTITY[feature]
    stanza_id = next_id("items")
    items = await request(
        session, f"<iq type='get' to='{session.domain}' id='{stanza_id}'><query xmlns='{DISCO_ITEMS}'/></iq>",
        stanza_id,
    )  # fmt: skip
    for jid in dict.fromkeys(m.decode() for m in _JID_ATTR.findall(items)):
        stanza_id = next_id("info")
        info = await request(
            session, f"<iq type='get' to='{jid}' id='{stanza_id}'><query xmlns='{DISCO_INFO}'/></iq>",
            stanza_id,
        )  # fmt: skip
        if f"category='{category}'".encode() in info or f'category="{category}"'.encode() in info:
            if feature.encode() in info:
                return jid
    return None


async def prepare(sessions: dict[int, Session], scenario: Any, plan: dict[str, Any], step: int) -> list[str]:
    """Run setup ``step``; the server's refusals (error replies), which make the phase "not supported"."""
    if scenario.kind == "presence-storm":
        await _presence_step(sessions, plan, step)
    elif scenario.kind == "muc-fanout":
        return await _rooms_step(sessions, plan, step)
    elif scenario.kind == "pubsub-fanout":
        return await _nodes_step(sessions, plan, step)
    return []


def refusal(reply: bytes) -> str | None:
    """The error condition of an error reply (``forbidden``...), or None when it is not an error."""
    head = reply[: reply.find(b">") + 1]
    if b"type='error'" not in head and b'type="error"' not in head:
        return None
    found = _CONDITION.search(reply)
    return found.group(1).decode() if found else "error"


_CONDITION = re.compile(rb"<([a-z-]+) xmlns=['\"]urn:ietf:params:xml:ns:xmpp-stanzas['\"]")


async def _bounded(coroutines: list[Any]) -> list[str]:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(coroutine: Any) -> str | None:
        async with gate:
            reply = await coroutine
        return refusal(reply) if isinstance(reply, bytes) else None

    return [r for r in await asyncio.gather(*(one(c) for c in coroutines)) if r is not None]


# -- presence-storm: user n asks the next `contacts` users for a subscription; everyone approves -------
def _approver(session: Session, data: bytes) -> None:
    """Answer every subscription request with ``subscribed``; note the contacts that approved ours.

    An approval shows as ``<presence type='subscribed'/>`` from the contact, as a roster push with
    ``subscription='to'|'both'``, or as the contact's available presence (servers differ in which of
    these reach the client).
    """
    own = session.jid.partition("/")[0]
    for tag in _PRESENCE_TAG.findall(data):
        kind = _TYPE_ATTR.search(tag)
        sender = _FROM_ATTR.search(tag)
        if sender is None:
            continue
        bare = sender.group(1).decode().partition("/")[0]
        if kind is None:
            if bare != own:  # a contact's available presence reaches us only once it approved
                session.approved.add(bare)
        elif kind.group(1) == b"subscribe":
            session.send(f"<presence to='{bare}' type='subscribed'/>".encode())
        elif kind.group(1) == b"subscribed":
            session.approved.add(bare)
    for tag in _ITEM_TAG.findall(data):
        if _SUBSCRIBED_TO.search(tag) and (jid := _JID_ATTR.search(tag)) is not None:
            session.approved.add(jid.group(1).decode())


_PRESENCE_TAG = re.compile(rb"<presence\b[^>]*>")
_ITEM_TAG = re.compile(rb"<item\b[^>]*>")
_TYPE_ATTR = re.compile(rb"""\btype=['"]([a-z]+)['"]""")
_FROM_ATTR = re.compile(rb"""\bfrom=['"]([^'"]+)['"]""")
_SUBSCRIBED_TO = re.compile(rb"""\bsubscription=['"](to|both)['"]""")


async def _presence_step(sessions: dict[int, Session], plan: dict[str, Any], step: int) -> None:
    contacts: dict[int, list[str]] = {int(k): v for k, v in plan.get("contacts", {}).items()}
    if step == 0:
        # Fetching the roster makes the session "interested" (RFC 6121 §2.1.6): it gets roster pushes.
        for session in sessions.values():
            session.on_chunk = _approver
            session.send(f"<iq type='get' id='{next_id('roster')}'><query xmlns='jabber:iq:roster'/></iq>".encode())
            session.send(b"<presence/>")
        return
    if step == 1:
        for n, session in sessions.items():
            for jid in contacts.get(n, []):
                session.send(f"<presence to='{jid}' type='subscribe'/>".encode())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STEP_TIMEOUT
        while loop.time() < deadline:
            if all(
                len(s.approved.intersection(contacts.get(n, []))) >= len(contacts.get(n, []))
                for n, s in sessions.items()
            ):
                break
            await asyncio.sleep(0.05)
        for session in sessions.values():
            session.stamp_tag = (b"<status>", b"</status>")


# -- muc-fanout: the first member of each room creates it (instant room), then the others join ----------
async def _join(session: Session, room: str, nick: str) -> bytes:
    stanza = f"<presence to='{room}/{nick}'><x xmlns='{NS_MUC}'><history maxstanzas='0'/></x></presence>"
    return await request(session, stanza, f"{room}/{nick}", b"</presence>")


async def _create_room(session: Session, room: str, nick: str) -> bytes:
    joined = await _join(session, room, nick)
    if refusal(joined) is not None:
        return joined
    stanza_id = next_id("room")
    form = "<x xmlns='jabber:x:data' type='submit'/>"
    return await request(
        session, f"<iq type='set' to='{room}' id='{stanza_id}'><query xmlns='{NS_MUC}#owner'>{form}</query></iq>",
        stanza_id,
    )  # fmt: skip


async def _rooms_step(sessions: dict[int, Session], plan: dict[str, Any], step: int) -> list[str]:
    work = []
    for room, members in plan.get("rooms", []):
        chosen = members[:1] if step == 0 else members[1:]
        for n in chosen:
            if n in sessions:
                nick = sessions[n].jid.partition("@")[0]
                work.append(_create_room(sessions[n], room, nick) if step == 0 else _join(sessions[n], room, nick))
    return await _bounded(work)


# -- pubsub-fanout: the first member of each node creates it, then the others subscribe ----------------
async def _nodes_step(sessions: dict[int, Session], plan: dict[str, Any], step: int) -> list[str]:
    work = []
    for service, node, members in plan.get("nodes", []):
        chosen = members[:1] if step == 0 else members[1:]
        for n in chosen:
            if n not in sessions:
                continue
            session = sessions[n]
            stanza_id = next_id("node")
            child = f"<create node='{node}'/>" if step == 0 else f"<subscribe node='{node}' jid='{session.jid}'/>"
            stanza = f"<iq type='set' to='{service}' id='{stanza_id}'><pubsub xmlns='{NS_PUBSUB}'>{child}</pubsub></iq>"
            work.append(request(session, stanza, stanza_id))
    return await _bounded(work)

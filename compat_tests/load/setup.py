"""Before the traffic: find MUC / PubSub services by disco, build rosters, create rooms and nodes.

Each step that another worker's sessions depend on is a separate ``step`` number; the coordinator
runs step k on every worker before step k+1 (e.g. a room exists before anyone else joins it).
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from dataclasses import dataclass, field
from typing import Any

from tigase_py.compat_tests.load.client import Session

DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_MUC = "http://jabber.org/protocol/muc"
NS_PUBSUB = "http://jabber.org/protocol/pubsub"
SERVICE_IDENTITY = {NS_MUC: "conference", NS_PUBSUB: "pubsub"}
STEP_TIMEOUT = 20.0
SUBSCRIBE_LIMIT = 300.0  # presence-storm: give up waiting for roster approvals after this long
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


@dataclass
class Outcome:
    """What a setup step found: the server's refusals (error conditions) and what is still missing."""

    refused: list[str] = field(default_factory=list)
    expected: int = 0  # subscriptions asked for (presence-storm)
    confirmed: int = 0  # ... and seen approved


async def prepare(sessions: dict[int, Session], scenario: Any, plan: dict[str, Any], step: int) -> Outcome:
    """Run setup ``step``; refusals make the phase "not supported"."""
    if scenario.kind == "presence-storm":
        return await _presence_step(sessions, plan, step)
    if scenario.kind == "muc-fanout":
        return Outcome(refused=await _rooms_step(sessions, plan, step))
    if scenario.kind == "pubsub-fanout":
        return Outcome(refused=await _nodes_step(sessions, plan, step))
    return Outcome()


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
    data = _complete_tags(session, data)
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


def _complete_tags(session: Session, data: bytes) -> bytes:
    """`data` with the start tag left over from the previous chunk in front, minus an unfinished last tag
    (kept for the next chunk): TCP and TLS records may end anywhere, also inside a tag."""
    data = session.partial_tag + data
    cut = data.rfind(b"<")
    if cut != -1 and data.find(b">", cut) == -1 and len(data) - cut <= MAX_PARTIAL_TAG:
        session.partial_tag = data[cut:]
        return data[:cut]
    session.partial_tag = b""
    return data


MAX_PARTIAL_TAG = 4096
_PRESENCE_TAG = re.compile(rb"<presence\b[^>]*>")
_ITEM_TAG = re.compile(rb"<item\b[^>]*>")
_TYPE_ATTR = re.compile(rb"""\btype=['"]([a-z]+)['"]""")
_FROM_ATTR = re.compile(rb"""\bfrom=['"]([^'"]+)['"]""")
_SUBSCRIBED_TO = re.compile(rb"""\bsubscription=['"](to|both)['"]""")


async def _presence_step(sessions: dict[int, Session], plan: dict[str, Any], step: int) -> Outcome:
    contacts: dict[int, list[str]] = {int(k): v for k, v in plan.get("contacts", {}).items()}
    if step == 0:
        # Fetching the roster makes the session "interested" (RFC 6121 §2.1.6) so it gets roster pushes,
        # and shows which contacts already approved us in an earlier run (no need to ask again).
        async def interested(session: Session) -> bytes:
            session.on_chunk = _approver
            stanza_id = next_id("roster")
            reply = await request(session, f"<iq type='get' id='{stanza_id}'><query xmlns='jabber:iq:roster'/></iq>",
                                  stanza_id)  # fmt: skip
            session.send(b"<presence/>")
            return reply

        await _bounded([interested(s) for s in sessions.values()])
        return Outcome()
    for n, session in sessions.items():
        for jid in contacts.get(n, []):
            if jid not in session.approved:
                session.send(f"<presence to='{jid}' type='subscribe'/>".encode())
    expected = sum(len(contacts.get(n, [])) for n in sessions)

    def confirmed() -> int:
        return sum(len(s.approved.intersection(contacts.get(n, []))) for n, s in sessions.items())

    # A server writes rosters at its own pace: wait while approvals keep coming, up to a hard bound.
    loop = asyncio.get_running_loop()
    start = last_change = loop.time()
    last = -1
    while (count := confirmed()) < expected and loop.time() - start < SUBSCRIBE_LIMIT:
        if count != last:
            last, last_change = count, loop.time()
        elif loop.time() - last_change > STEP_TIMEOUT:
            break
        await asyncio.sleep(0.1)
    await _quiet(sessions, loop)
    for session in sessions.values():
        session.stamp_tag = (b"<status>", b"</status>")
    return Outcome(expected=expected, confirmed=confirmed())


async def _quiet(sessions: dict[int, Session], loop: asyncio.AbstractEventLoop, calm: float = 0.5) -> None:
    """Wait until no session received anything for ``calm`` seconds (the server finished the roster
    and presence work of the setup), at most STEP_TIMEOUT; otherwise it would delay the measured traffic."""
    deadline = loop.time() + STEP_TIMEOUT
    while loop.time() < deadline:
        latest = max((s.last_received for s in sessions.values()), default=0)
        if time.monotonic_ns() - latest > calm * 1e9:
            return
        await asyncio.sleep(0.1)


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

"""XEP-0045 Multi-User Chat: discovery, entering, creation, messages, conflicts, leaving, destroying."""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable

from tigase_py.compat_tests import ns
from tigase_py.compat_tests.case import describe, disco_info, need_accounts, not_supported, spec
from tigase_py.compat_tests.client import WireClient, logged_in, stanza_error
from tigase_py.compat_tests.suites.advanced.helpers import (
    DATA,
    MESSAGE,
    MUC,
    MUC_OWNER,
    MUC_USER,
    PRESENCE,
    Q,
    body_is,
    find_service,
    identities,
    set_iq,
    unique,
)
from tigase_py.compat_tests.target import Account, Target


def statuses(presence: ET.Element) -> set[str]:
    return {s.get("code", "") for s in presence.findall(f"{{{MUC_USER}}}x/{{{MUC_USER}}}status")}


def presence_from(jid: str, kind: str | None = None) -> Callable[[ET.Element], bool]:
    def match(el: ET.Element) -> bool:
        return el.tag == PRESENCE and el.get("from") == jid and el.get("type") == kind

    match.__name__ = f"presence {kind or 'available'} from {jid}"
    return match


async def service(client: WireClient) -> str:
    return await find_service(client, MUC, ("conference", "text"))


async def join(client: WireClient, room: str, nick: str) -> ET.Element:
    """Enter ``room`` as ``nick``; return the self-presence (the one from our own occupant JID)."""
    occupant = f"{room}/{nick}"
    await client.send(f"<presence to='{occupant}'><x xmlns='{MUC}'/></presence>")

    def own(el: ET.Element) -> bool:
        return el.tag == PRESENCE and el.get("from") == occupant

    own.__name__ = f"self-presence from {occupant}"
    return await client.expect(own)


async def create_instant(client: WireClient, room: str, nick: str) -> ET.Element:
    """Create ``room`` and accept the default configuration (10.1.2); return the self-presence."""
    presence = await join(client, room, nick)
    if presence.get("type") == "error":
        raise not_supported(f"the service refused to create {room}: {stanza_error(presence)}")
    form = f"<query xmlns='{MUC_OWNER}'><x xmlns='{DATA}' type='submit'/></query>"
    reply = await set_iq(client, room, form)
    assert reply.get("type") == "result", describe(reply)
    return presence


async def destroy(client: WireClient, room: str) -> None:
    with contextlib.suppress(Exception):
        await set_iq(client, room, f"<query xmlns='{MUC_OWNER}'><destroy/></query>")


async def say(client: WireClient, to: str, kind: str, prefix: str) -> str:
    """Send a message of type ``kind`` with a unique body starting with ``prefix``; return the body."""
    text = unique(prefix)
    await client.send(f"<message to='{to}' type='{kind}'><body>{text}</body></message>")
    return text


@contextlib.asynccontextmanager
async def scratch_room(client: WireClient, nick: str | None) -> AsyncIterator[str]:
    """A new room's JID on the client's MUC service, created as an instant room by ``nick`` (None: left for the
    case to create), destroyed on exit."""
    room = f"{unique('compat-room')}@{await service(client)}"
    try:
        if nick is not None:
            await create_instant(client, room, nick)
        yield room
    finally:
        await destroy(client, room)


@contextlib.asynccontextmanager
async def room_with(target: Target, accounts: list[Account]) -> AsyncIterator[tuple[str, WireClient, WireClient]]:
    """alice creates an instant room and bob enters it: yields (room, alice, bob)."""
    alice_account, bob_account = need_accounts(accounts, 2)
    async with logged_in(target, alice_account) as alice, logged_in(target, bob_account) as bob:
        async with scratch_room(alice, "alice") as room:
            entered = await join(bob, room, "bob")
            assert entered.get("type") != "error", describe(entered)
            await alice.expect(presence_from(f"{room}/bob"))
            yield room, alice, bob


@spec("XEP-0045", "6.1", category="Core IM")
async def test_service_discovered(target: Target, accounts: list[Account]) -> None:
    """A MUC service in the server's disco#items has identity conference/text and the muc feature."""
    async with logged_in(target, accounts[0]) as alice:
        jid = await service(alice)
        query = await disco_info(alice, jid)
        assert ("conference", "text") in identities(query), describe(query)


@spec("XEP-0045", "10.1.1", category="Core IM")
async def test_create_room_self_presence(target: Target, accounts: list[Account]) -> None:
    """Creating a room: self-presence with status 110 and 201, affiliation owner, role moderator."""
    async with logged_in(target, accounts[0]) as alice:
        async with scratch_room(alice, None) as room:
            presence = await join(alice, room, "alice")
            if presence.get("type") == "error":
                raise not_supported(f"room creation refused: {stanza_error(presence)}")
            assert {"110", "201"} <= statuses(presence), describe(presence)
            item = presence.find(f"{{{MUC_USER}}}x/{{{MUC_USER}}}item")
            assert item is not None, describe(presence)
            assert (item.get("affiliation"), item.get("role")) == ("owner", "moderator"), describe(presence)


@spec("XEP-0045", "10.1.2", category="Core IM")
async def test_instant_room(target: Target, accounts: list[Account]) -> None:
    """The owner accepts the default configuration with an empty submit form: the service answers result."""
    async with logged_in(target, accounts[0]) as alice:
        async with scratch_room(alice, "alice"):
            pass  # creating the instant room is the check


@spec("XEP-0045", "6.4", category="Core IM")
async def test_room_disco_info(target: Target, accounts: list[Account]) -> None:
    """A room MUST return its identity (category conference) in disco#info."""
    async with logged_in(target, accounts[0]) as alice:
        async with scratch_room(alice, "alice") as room:
            query = await disco_info(alice, room)
            assert query is not None, "the room's disco#info failed"
            assert "conference" in {c for c, _ in identities(query)}, describe(query)


@spec("XEP-0045", "7.2.3", category="Core IM")
async def test_join_presence_broadcast(target: Target, accounts: list[Account]) -> None:
    """A new occupant gets the existing occupants' presence, then its self-presence with status 110."""
    alice_account, bob_account = need_accounts(accounts, 2)
    async with logged_in(target, alice_account) as alice, logged_in(target, bob_account) as bob:
        async with scratch_room(alice, "alice") as room:
            await bob.send(f"<presence to='{room}/bob'><x xmlns='{MUC}'/></presence>")
            existing = await bob.expect(presence_from(f"{room}/alice"))
            own = await bob.expect(presence_from(f"{room}/bob"))
            assert "110" in statuses(own), describe(own)
            assert "110" not in statuses(existing), describe(existing)
            seen = await alice.expect(presence_from(f"{room}/bob"))
            assert "110" not in statuses(seen), describe(seen)


@spec("XEP-0045", "7.2.15", category="Core IM")
async def test_subject_sent_on_join(target: Target, accounts: list[Account]) -> None:
    """After entering, the service sends the room subject: a groupchat message with <subject/>."""
    async with room_with(target, accounts) as (room, _alice, bob):

        def subject(el: ET.Element) -> bool:
            has_subject = el.find(Q(ns.CLIENT, "subject")) is not None
            return el.tag == MESSAGE and el.get("from", "").startswith(room) and has_subject

        message = await bob.expect(subject)
        assert message.get("type") == "groupchat", describe(message)


@spec("XEP-0045", "7.4", category="Core IM")
async def test_groupchat_reflected(target: Target, accounts: list[Account]) -> None:
    """A groupchat message goes to every occupant, the sender included, from the sender's occupant JID."""
    async with room_with(target, accounts) as (room, alice, bob):
        text = await say(bob, room, "groupchat", "hello room")
        for client in (alice, bob):
            message = await client.expect(body_is(text))
            assert message.get("from") == f"{room}/bob", describe(message)
            assert message.get("type") == "groupchat", describe(message)


@spec("XEP-0045", "7.5", category="Core IM")
async def test_private_message(target: Target, accounts: list[Account]) -> None:
    """A private message to an occupant JID reaches that occupant from the sender's occupant JID."""
    async with room_with(target, accounts) as (room, alice, bob):
        text = await say(bob, f"{room}/alice", "chat", "psst")
        message = await alice.expect(body_is(text))
        assert message.get("from") == f"{room}/bob", describe(message)
        assert message.get("to", "").partition("/")[0] == str(alice.jid).partition("/")[0], describe(message)


@spec("XEP-0045", "7.2.9", category="Core IM")
async def test_nick_conflict(target: Target, accounts: list[Account]) -> None:
    """Entering with a nickname another occupant uses is denied with a <conflict/> presence error."""
    alice_account, bob_account = need_accounts(accounts, 2)
    async with logged_in(target, alice_account) as alice, logged_in(target, bob_account) as bob:
        async with scratch_room(alice, "taken") as room:
            presence = await join(bob, room, "taken")
            assert presence.get("type") == "error", describe(presence)
            assert stanza_error(presence) == "conflict", describe(presence)


@spec("XEP-0045", "7.14", category="Core IM")
async def test_leave_room(target: Target, accounts: list[Account]) -> None:
    """Leaving: the leaver gets unavailable self-presence (status 110), other occupants get unavailable."""
    async with room_with(target, accounts) as (room, alice, bob):
        await bob.send(f"<presence to='{room}/bob' type='unavailable'/>")
        own = await bob.expect(presence_from(f"{room}/bob", "unavailable"))
        assert "110" in statuses(own), describe(own)
        await alice.expect(presence_from(f"{room}/bob", "unavailable"))


@spec("XEP-0045", "10.9", category="Core IM")
async def test_destroy_room(target: Target, accounts: list[Account]) -> None:
    """The owner destroys the room: result, and occupants get unavailable presence with <destroy/>."""
    async with room_with(target, accounts) as (room, alice, bob):
        reply = await set_iq(alice, room, f"<query xmlns='{MUC_OWNER}'><destroy/></query>")
        assert reply.get("type") == "result", describe(reply)
        presence = await bob.expect(presence_from(f"{room}/bob", "unavailable"))
        assert presence.find(f"{{{MUC_USER}}}x/{{{MUC_USER}}}destroy") is not None, describe(presence)

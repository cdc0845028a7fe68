"""RFC 6121 section 2: roster get, set, push and remove, the set error cases, and roster versioning."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from tigase_py.compat_tests import ns
from tigase_py.compat_tests.case import describe, need_accounts, require_stream_feature, spec
from tigase_py.compat_tests.client import WireClient, next_id, stanza_error
from tigase_py.compat_tests.suites.im import (
    ITEM,
    QUERY,
    bare,
    expect_push,
    forget,
    iq_reply,
    online,
    pushed_item,
    roster_get,
    roster_items,
    roster_set,
    subscription,
)
from tigase_py.compat_tests.target import Account, Target

ROSTERVER = ns.q("urn:xmpp:features:rosterver", "ver")


def contact() -> str:
    """A fresh contact JID on a domain nobody serves: adding it involves no other server."""
    return f"{next_id('contact')}@example.net"


async def refused_set(client: WireClient, item: str, condition: str | None, added: str | None = None) -> None:
    """A roster set with ``item`` is answered with an error (with ``condition``, if given); should the server
    accept it after all, the ``added`` JID is removed again before the case fails."""
    reply = await roster_set(client, item)
    if added is not None and reply.get("type") == "result":
        await forget(client, added)
    assert reply.get("type") == "error", describe(reply)
    assert condition is None or stanza_error(reply) == condition, describe(reply)


@contextlib.asynccontextmanager
async def scratch_contact(target: Target, account: Account) -> AsyncIterator[tuple[WireClient, str]]:
    """``account`` online as an interested resource, and a fresh contact JID that is removed from the roster
    again once the case has passed."""
    jid = contact()
    async with online(target, account, roster=True) as client:
        yield client, jid
        await forget(client, jid)


@spec("RFC6121", "2.2", category="Core IM")
async def test_roster_get(target: Target, accounts: list[Account]) -> None:
    """A roster get is answered with a result carrying a <query/> in jabber:iq:roster."""
    async with online(target, accounts[0]) as alice:
        reply = await roster_get(alice)
        assert reply.get("type") == "result", describe(reply)
        assert reply.find(QUERY) is not None, describe(reply)


@spec("RFC6121", "2.3.2", category="Core IM")
async def test_roster_set_adds_item(target: Target, accounts: list[Account]) -> None:
    """A roster set is answered with an empty result; the item then appears in the roster with its name and group."""
    async with scratch_contact(target, accounts[0]) as (alice, jid):
        reply = await roster_set(alice, f"<item jid='{jid}' name='Compat'><group>Friends</group></item>")
        assert reply.get("type") == "result", describe(reply)
        items = await roster_items(alice)
        assert jid in items, f"{jid} missing from {sorted(items)}"
        item = items[jid]
        assert item.get("name") == "Compat", describe(item)
        assert [g.text for g in item.findall(ns.q(ns.ROSTER, "group"))] == ["Friends"], describe(item)


@spec("RFC6121", "2.1.6", category="Core IM")
async def test_roster_push_to_setting_resource(target: Target, accounts: list[Account]) -> None:
    """The server pushes a new item to the interested resource that set it; the push has no 'from' but the user's."""
    async with scratch_contact(target, accounts[0]) as (alice, jid):
        await roster_set(alice, f"<item jid='{jid}'/>")
        push = await expect_push(alice, jid)
        sender = push.get("from")
        assert sender is None or (bare(sender) == bare(alice.jid) and "/" not in sender), describe(push)


@spec("RFC6121", "2.1.6", category="Core IM")
async def test_roster_push_to_other_resource(target: Target, accounts: list[Account]) -> None:
    """A roster set from one resource is pushed to the account's other interested resources too."""
    jid = contact()
    async with (
        online(target, accounts[0], "one", roster=True) as one,
        online(target, accounts[0], "two", roster=True, who="alice-two") as two,
    ):
        reply = await roster_set(one, f"<item jid='{jid}' name='Pushed'/>")
        assert reply.get("type") == "result", describe(reply)
        item = pushed_item(await expect_push(two, jid))
        assert item.get("name") == "Pushed", describe(item)
        await forget(one, jid)


@spec("RFC6121", "2.4.2", category="Core IM")
async def test_roster_update_item(target: Target, accounts: list[Account]) -> None:
    """Setting an existing item again updates it: result, a push with the new name, and the new name on get."""
    async with scratch_contact(target, accounts[0]) as (alice, jid):
        await roster_set(alice, f"<item jid='{jid}' name='Before'/>")
        await expect_push(alice, jid, lambda item: item.get("name") == "Before")
        reply = await roster_set(alice, f"<item jid='{jid}' name='After'><group>Moved</group></item>")
        assert reply.get("type") == "result", describe(reply)
        await expect_push(alice, jid, lambda item: item.get("name") == "After")
        item = (await roster_items(alice)).get(jid)
        assert item is not None and item.get("name") == "After", describe(item)


@spec("RFC6121", "2.5.2", category="Core IM")
async def test_roster_remove_item(target: Target, accounts: list[Account]) -> None:
    """subscription='remove' deletes the item: result, a push with subscription='remove', gone from the roster."""
    jid = contact()
    async with online(target, accounts[0], roster=True) as alice:
        await roster_set(alice, f"<item jid='{jid}'/>")
        await expect_push(alice, jid)
        reply = await roster_set(alice, f"<item jid='{jid}' subscription='remove'/>")
        assert reply.get("type") == "result", describe(reply)
        await expect_push(alice, jid, subscription("remove"))
        assert jid not in await roster_items(alice), "the removed item is still in the roster"


@spec("RFC6121", "2.5.3", category="Core IM")
async def test_roster_remove_unknown_item(target: Target, accounts: list[Account]) -> None:
    """Removing an item that is not in the roster gets <item-not-found/>."""
    async with online(target, accounts[0]) as alice:
        await refused_set(alice, f"<item jid='{contact()}' subscription='remove'/>", "item-not-found")


@spec("RFC6121", "2.3.3", category="Core IM")
async def test_roster_set_two_items(target: Target, accounts: list[Account]) -> None:
    """A roster set with more than one <item/> gets <bad-request/>."""
    first, second = contact(), contact()
    async with online(target, accounts[0]) as alice:
        await refused_set(alice, f"<item jid='{first}'/><item jid='{second}'/>", "bad-request")
        items = await roster_items(alice)
        assert first not in items and second not in items, "an item of the refused set was added"


@spec("RFC6121", "2.3.3", category="Core IM")
async def test_roster_set_empty_group(target: Target, accounts: list[Account]) -> None:
    """A <group/> with empty character data gets <not-acceptable/>."""
    jid = contact()
    async with online(target, accounts[0]) as alice:
        await refused_set(alice, f"<item jid='{jid}'><group></group></item>", "not-acceptable", added=jid)


@spec("RFC6121", "2.3.3", category="Core IM")
async def test_roster_set_duplicate_groups(target: Target, accounts: list[Account]) -> None:
    """An item with the same <group/> twice gets <bad-request/>."""
    jid = contact()
    async with online(target, accounts[0]) as alice:
        await refused_set(
            alice, f"<item jid='{jid}'><group>Twice</group><group>Twice</group></item>", "bad-request", added=jid
        )


@spec("RFC6121", "2.1.2.4", category="Core IM")
async def test_roster_set_without_jid(target: Target, accounts: list[Account]) -> None:
    """An <item/> without the REQUIRED 'jid' cannot be stored: the set is answered with an error."""
    async with online(target, accounts[0]) as alice:
        await refused_set(alice, "<item name='No JID'/>", None)


@spec("RFC6121", "2.3.3", category="Core IM")
async def test_roster_set_other_user(target: Target, accounts: list[Account]) -> None:
    """A roster set addressed to another user's bare JID is refused (forbidden or another error)."""
    alice_account, bob_account = need_accounts(accounts, 2)
    jid = contact()
    async with online(target, alice_account) as alice:
        reply = await roster_set(alice, f"<item jid='{jid}'/>", to=bob_account.jid)
        assert reply.get("type") == "error", describe(reply)
    async with online(target, bob_account) as bob:
        assert jid not in await roster_items(bob), "another user's set changed bob's roster"


@spec("RFC6121", "2.1.3", category="Core IM")
async def test_roster_get_other_user(target: Target, accounts: list[Account]) -> None:
    """A roster get addressed to another user's bare JID never returns that user's roster."""
    alice_account, bob_account = need_accounts(accounts, 2)
    async with online(target, alice_account) as alice:
        await iq_reply(alice, "get", f"<query xmlns='{ns.ROSTER}'/>", bob_account.jid, "error")


@spec("RFC6121", "2.6.3", category="Core IM")
async def test_roster_versioning_ver(target: Target, accounts: list[Account]) -> None:
    """Where roster versioning is offered, a get with ver='' returns the roster with a 'ver' attribute."""
    async with online(target, accounts[0]) as alice:
        require_stream_feature(alice, ROSTERVER)
        reply = await roster_get(alice, ver="")
        query = reply.find(QUERY)
        assert reply.get("type") == "result" and query is not None, describe(reply)
        assert query.get("ver") is not None, f"no ver in {describe(reply)}"


@spec("RFC6121", "2.6.3", category="Core IM")
async def test_roster_versioning_current(target: Target, accounts: list[Account]) -> None:
    """A get with the current version returns an empty result, or the full roster with a 'ver'."""
    async with scratch_contact(target, accounts[0]) as (alice, jid):
        require_stream_feature(alice, ROSTERVER)
        await roster_set(alice, f"<item jid='{jid}'/>")
        await expect_push(alice, jid)
        first = (await roster_get(alice, ver="")).find(QUERY)
        assert first is not None and first.get("ver") is not None, describe(first)
        reply = await roster_get(alice, ver=first.get("ver"))
        assert reply.get("type") == "result", describe(reply)
        query = reply.find(QUERY)
        if query is not None:
            assert query.get("ver") is not None, f"a full roster without ver: {describe(reply)}"
            assert jid in {bare(i.get("jid")) for i in query.findall(ITEM)}, describe(reply)


@spec("RFC6121", "2.6.3", category="Core IM")
async def test_roster_versioning_changed(target: Target, accounts: list[Account]) -> None:
    """After a change, a get with the old version yields the change: a full roster or a push for the item."""
    jid = contact()
    async with online(target, accounts[0], roster=True) as alice:
        require_stream_feature(alice, ROSTERVER)
        old = (await roster_get(alice, ver="")).find(QUERY)
        assert old is not None and old.get("ver") is not None, describe(old)
        await roster_set(alice, f"<item jid='{jid}' name='Versioned'/>")
        await expect_push(alice, jid)
    async with online(target, accounts[0]) as again:
        reply = await roster_get(again, ver=old.get("ver"))
        assert reply.get("type") == "result", describe(reply)
        query = reply.find(QUERY)
        if query is None:
            await expect_push(again, jid, lambda item: item.get("name") == "Versioned")
        else:
            assert jid in {bare(i.get("jid")) for i in query.findall(ITEM)}, describe(reply)
        await forget(again, jid)

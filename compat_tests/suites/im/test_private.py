"""XEP-0049 Private XML Storage: round trip, empty retrieval, other users' data and the reserved namespaces."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tigase_py.compat_tests.case import describe, need_accounts, not_supported, spec
from tigase_py.compat_tests.client import WireClient, next_id
from tigase_py.compat_tests.suites.im import online
from tigase_py.compat_tests.target import Account, Target

PRIVATE = "jabber:iq:private"


async def require_private(client: WireClient) -> None:
    """XEP-0049 does not say where the feature is advertised, so probe with a get and judge the answer."""
    reply = await private(client, "get", f"<probe xmlns='urn:compat:probe:{next_id('ns')}'/>")
    if reply.get("type") == "error":
        raise not_supported(f"private XML storage refused a plain get: {describe(reply)}")


async def private(client: WireClient, kind: str, inner: str, to: str | None = None) -> ET.Element:
    address = "" if to is None else f" to='{to}'"
    query = f"<query xmlns='{PRIVATE}'>{inner}</query>"
    return await client.iq(f"<iq type='{kind}' id='{next_id('priv')}'{address}>{query}</iq>")


@spec("XEP-0049", "3", category="Core IM")
async def test_private_round_trip(target: Target, accounts: list[Account]) -> None:
    """Data stored with a set is returned by a get of the same element and namespace."""
    async with online(target, accounts[0]) as alice:
        await require_private(alice)
        value = next_id("value")
        stored = await private(alice, "set", f"<note xmlns='urn:compat:private'><v>{value}</v></note>")
        assert stored.get("type") == "result", describe(stored)
        reply = await private(alice, "get", "<note xmlns='urn:compat:private'/>")
        assert reply.get("type") == "result", describe(reply)
        assert value in ET.tostring(reply, encoding="unicode"), f"stored value {value} missing: {describe(reply)}"


@spec("XEP-0049", "3", category="Core IM")
async def test_private_get_unset(target: Target, accounts: list[Account]) -> None:
    """A get for a namespace never stored is a result (the empty element), not an error."""
    async with online(target, accounts[0]) as alice:
        await require_private(alice)
        reply = await private(alice, "get", f"<empty xmlns='urn:compat:unset:{next_id('ns')}'/>")
        assert reply.get("type") == "result", describe(reply)


@spec("XEP-0049", "3", category="Core IM")
async def test_private_other_user_refused(target: Target, accounts: list[Account]) -> None:
    """A user cannot read or write another user's private data (forbidden, or another error)."""
    alice_account, bob_account = need_accounts(accounts, 2)
    async with online(target, alice_account) as alice:
        await require_private(alice)
        inner = "<note xmlns='urn:compat:private'><v>intrusion</v></note>"
        written = await private(alice, "set", inner, to=bob_account.jid)
        assert written.get("type") == "error", describe(written)
        read = await private(alice, "get", "<note xmlns='urn:compat:private'/>", to=bob_account.jid)
        assert read.get("type") == "error", describe(read)


@spec("XEP-0049", "3", category="Core IM")
async def test_private_empty_query_refused(target: Target, accounts: list[Account]) -> None:
    """A get without a child element names no data to return: it is refused with an error."""
    async with online(target, accounts[0]) as alice:
        await require_private(alice)
        reply = await private(alice, "get", "")
        assert reply.get("type") == "error", describe(reply)

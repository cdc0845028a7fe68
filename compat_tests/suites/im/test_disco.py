"""XEP-0030 Service Discovery: disco#info and disco#items of the server and of an account."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tigase_py.compat_tests import ns
from tigase_py.compat_tests.case import describe, spec
from tigase_py.compat_tests.client import WireClient, next_id, stanza_error
from tigase_py.compat_tests.suites.im import bare, feature_query, online
from tigase_py.compat_tests.target import Account, Target

INFO = ns.q(ns.DISCO_INFO, "query")


async def info(client: WireClient, to: str | None, node: str | None = None) -> ET.Element:
    address = "" if to is None else f" to='{to}'"
    attr = "" if node is None else f" node='{node}'"
    query = f"<query xmlns='{ns.DISCO_INFO}'{attr}/>"
    return await client.iq(f"<iq type='get' id='{next_id('disco')}'{address}>{query}</iq>")


def identities_and_features(reply: ET.Element) -> tuple[list[ET.Element], list[str]]:
    query = reply.find(INFO)
    assert reply.get("type") == "result" and query is not None, describe(reply)
    identities = query.findall(ns.q(ns.DISCO_INFO, "identity"))
    features = [f.get("var", "") for f in query.findall(ns.q(ns.DISCO_INFO, "feature"))]
    return identities, features


@spec("XEP-0030", "3.1", category="Core Server")
async def test_server_info_identity(target: Target, accounts: list[Account]) -> None:
    """The server's disco#info result has at least one identity, each with a category and a type."""
    async with online(target, accounts[0]) as alice:
        identities, _ = identities_and_features(await info(alice, target.domain))
        assert identities, "no <identity/> in the server's disco#info"
        for identity in identities:
            assert identity.get("category") and identity.get("type"), describe(identity)


@spec("XEP-0030", "3.1", category="Core Server")
async def test_server_info_lists_disco_info(target: Target, accounts: list[Account]) -> None:
    """Every entity that answers disco#info lists the disco#info feature itself; every feature has a 'var'."""
    async with online(target, accounts[0]) as alice:
        _, features = identities_and_features(await info(alice, target.domain))
        assert ns.DISCO_INFO in features, f"features: {features}"
        assert all(features), f"a <feature/> without 'var': {features}"


@spec("XEP-0030", "3.1", category="Core Server")
async def test_server_is_server_im(target: Target, accounts: list[Account]) -> None:
    """An XMPP server identifies itself with category 'server' (type 'im' in the registry)."""
    async with online(target, accounts[0]) as alice:
        identities, _ = identities_and_features(await info(alice, target.domain))
        assert any(i.get("category") == "server" for i in identities), [i.attrib for i in identities]


@spec("XEP-0030", "4.1", category="Core Server")
async def test_server_items(target: Target, accounts: list[Account]) -> None:
    """Where disco#items is advertised, the server's items result lists items that each carry a 'jid'."""
    async with online(target, accounts[0]) as alice:
        reply = await feature_query(alice, ns.DISCO_ITEMS, f"<query xmlns='{ns.DISCO_ITEMS}'/>", target.domain)
        found = reply.find(ns.q(ns.DISCO_ITEMS, "query"))
        assert found is not None, describe(reply)
        for item in found.findall(ns.q(ns.DISCO_ITEMS, "item")):
            assert item.get("jid"), describe(item)


@spec("XEP-0030", "3.1", category="Core IM")
async def test_own_account_info(target: Target, accounts: list[Account]) -> None:
    """A disco#info query to the user's own bare JID is answered by the server with a result."""
    async with online(target, accounts[0]) as alice:
        reply = await info(alice, bare(alice.jid))
        if reply.get("type") == "error":
            assert stanza_error(reply) in ("service-unavailable", "feature-not-implemented"), describe(reply)
            return
        identities, _ = identities_and_features(reply)
        for identity in identities:
            assert identity.get("category") and identity.get("type"), describe(identity)


@spec("XEP-0030", "3.2", category="Core Server")
async def test_unknown_node(target: Target, accounts: list[Account]) -> None:
    """disco#info of a node that does not exist is an error (item-not-found is the one defined)."""
    async with online(target, accounts[0]) as alice:
        reply = await info(alice, target.domain, node=f"urn:compat:no-such-node:{next_id('n')}")
        assert reply.get("type") == "error", describe(reply)


@spec("XEP-0030", "3.1", category="Core Server")
async def test_info_result_id_and_from(target: Target, accounts: list[Account]) -> None:
    """The disco#info result comes from the server's JID with the request's id."""
    async with online(target, accounts[0]) as alice:
        stanza_id = next_id("disco")
        query = f"<query xmlns='{ns.DISCO_INFO}'/>"
        reply = await alice.iq(f"<iq type='get' id='{stanza_id}' to='{target.domain}'>{query}</iq>")
        assert reply.get("id") == stanza_id and reply.get("type") == "result", describe(reply)
        assert (reply.get("from") or "").lower() == target.domain.lower(), describe(reply)

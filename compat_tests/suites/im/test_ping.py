"""XEP-0199 XMPP Ping: client-to-server and client-to-client pings."""

from __future__ import annotations

from tigase_py.compat_tests import ns
from tigase_py.compat_tests.case import describe, spec
from tigase_py.compat_tests.client import next_id
from tigase_py.compat_tests.suites.im import WAIT, feature_query, online, receiver_and_sender, routed_query
from tigase_py.compat_tests.target import Account, Target

PING = f"<ping xmlns='{ns.PING}'/>"


@spec("XEP-0199", "4.2", category="Core Server")
async def test_ping_server(target: Target, accounts: list[Account]) -> None:
    """A ping to the server's domain is answered with an empty result from the server."""
    async with online(target, accounts[0]) as alice:
        reply = await feature_query(alice, ns.PING, PING, target.domain)
        assert (reply.get("from") or "").lower() == target.domain.lower(), describe(reply)


@spec("XEP-0199", "4.3", category="Core Server")
async def test_ping_without_to(target: Target, accounts: list[Account]) -> None:
    """A ping with no 'to' is handled by the server for the account: a result (RFC 6120 10.3.3)."""
    async with online(target, accounts[0]) as alice:
        await feature_query(alice, ns.PING, PING, None)


@spec("XEP-0199", "4.1", category="Core IM")
async def test_ping_client(target: Target, accounts: list[Account]) -> None:
    """A ping to another client's full JID is routed to it; its pong is routed back."""
    async with receiver_and_sender(target, accounts) as (bob, alice):
        _, reply = await routed_query(alice, bob, PING)
        assert reply.get("type") == "result", describe(reply)


@spec("XEP-0199", "4.1", category="Core IM")
async def test_ping_client_error_routed(target: Target, accounts: list[Account]) -> None:
    """A client's error answer to a ping (it does not support ping) is routed back unchanged in type."""
    async with receiver_and_sender(target, accounts) as (bob, alice):
        assert bob.jid is not None
        stanza_id = next_id("ping")
        await alice.send(f"<iq type='get' id='{stanza_id}' to='{bob.jid}'>{PING}</iq>")
        request = await bob.expect(lambda el: el.get("id") == stanza_id, WAIT)
        error = f"<error type='cancel'><service-unavailable xmlns='{ns.STANZA_ERRORS}'/></error>"
        await bob.send(f"<iq type='error' id='{stanza_id}' to='{request.get('from')}'>{PING}{error}</iq>")
        reply = await alice.expect(lambda el: el.get("id") == stanza_id, WAIT)
        assert reply.get("type") == "error", describe(reply)

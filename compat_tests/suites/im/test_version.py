"""XEP-0092 Software Version: the server's own version, and a query routed to a client."""

from __future__ import annotations

from tigase_py.compat_tests import ns
from tigase_py.compat_tests.case import describe, spec
from tigase_py.compat_tests.suites.im import feature_query, online, receiver_and_sender, routed_query
from tigase_py.compat_tests.target import Account, Target


@spec("XEP-0092", "2", category="Core Server")
async def test_server_version(target: Target, accounts: list[Account]) -> None:
    """Where advertised, the server's version result carries <name/> and <version/>."""
    async with online(target, accounts[0]) as alice:
        reply = await feature_query(alice, ns.VERSION, f"<query xmlns='{ns.VERSION}'/>", target.domain)
        assert reply.findtext(f"{{{ns.VERSION}}}query/{{{ns.VERSION}}}name"), describe(reply)
        assert reply.findtext(f"{{{ns.VERSION}}}query/{{{ns.VERSION}}}version"), describe(reply)


@spec("XEP-0092", "2", category="Core IM")
async def test_client_version_routed(target: Target, accounts: list[Account]) -> None:
    """A version query to a client's full JID is routed to it, and its answer back to the asker."""
    async with receiver_and_sender(target, accounts) as (bob, alice):
        answer = f"<query xmlns='{ns.VERSION}'><name>compat</name><version>1</version></query>"
        request, reply = await routed_query(alice, bob, f"<query xmlns='{ns.VERSION}'/>", answer)
        assert alice.jid is not None and bob.jid is not None
        assert (request.get("from") or "").lower() == alice.jid.lower(), describe(request)
        assert reply.get("type") == "result" and (reply.get("from") or "").lower() == bob.jid.lower(), describe(reply)

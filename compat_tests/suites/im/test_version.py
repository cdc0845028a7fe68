"""XEP-0092 Software Version: the server's own version, and a query routed to a client."""

from __future__ import annotations

from tigase_py.compat_tests import ns
from tigase_py.compat_tests.case import describe, need_accounts, require_feature, spec
from tigase_py.compat_tests.client import next_id
from tigase_py.compat_tests.suites.im import WAIT, online
from tigase_py.compat_tests.target import Account, Target


@spec("XEP-0092", "2", category="Core Server")
async def test_server_version(target: Target, accounts: list[Account]) -> None:
    """Where advertised, the server's version result carries <name/> and <version/>."""
    async with online(target, accounts[0]) as alice:
        await require_feature(alice, ns.VERSION)
        query = f"<query xmlns='{ns.VERSION}'/>"
        reply = await alice.iq(f"<iq type='get' id='{next_id('ver')}' to='{target.domain}'>{query}</iq>")
        assert reply.get("type") == "result", describe(reply)
        assert reply.findtext(f"{{{ns.VERSION}}}query/{{{ns.VERSION}}}name"), describe(reply)
        assert reply.findtext(f"{{{ns.VERSION}}}query/{{{ns.VERSION}}}version"), describe(reply)


@spec("XEP-0092", "2", category="Core IM")
async def test_client_version_routed(target: Target, accounts: list[Account]) -> None:
    """A version query to a client's full JID is routed to it, and its answer back to the asker."""
    alice_account, bob_account = need_accounts(accounts, 2)
    async with online(target, bob_account, available=True) as bob, online(target, alice_account) as alice:
        assert bob.jid is not None and alice.jid is not None
        stanza_id = next_id("ver")
        await alice.send(f"<iq type='get' id='{stanza_id}' to='{bob.jid}'><query xmlns='{ns.VERSION}'/></iq>")
        request = await bob.expect(lambda el: el.get("id") == stanza_id, WAIT)
        assert (request.get("from") or "").lower() == alice.jid.lower(), describe(request)
        answer = f"<query xmlns='{ns.VERSION}'><name>compat</name><version>1</version></query>"
        await bob.send(f"<iq type='result' id='{stanza_id}' to='{alice.jid}'>{answer}</iq>")
        reply = await alice.expect(lambda el: el.get("id") == stanza_id, WAIT)
        assert reply.get("type") == "result" and (reply.get("from") or "").lower() == bob.jid.lower(), describe(reply)

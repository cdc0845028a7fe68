"""XEP-0202 Entity Time and XEP-0012 Last Activity of the server."""

from __future__ import annotations

import re

from tigase_py.compat_tests.case import describe, need_accounts, require_feature, spec
from tigase_py.compat_tests.client import next_id
from tigase_py.compat_tests.suites.im import feature_query, forget, online
from tigase_py.compat_tests.target import Account, Target

TIME = "urn:xmpp:time"
LAST = "jabber:iq:last"
UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
TZO = re.compile(r"^(Z|[+-]\d{2}:\d{2})$")


@spec("XEP-0202", "3", category="Core Server")
async def test_server_time(target: Target, accounts: list[Account]) -> None:
    """The server's time result has <tzo/> (offset) and <utc/> in XEP-0082 UTC form."""
    async with online(target, accounts[0]) as alice:
        reply = await feature_query(alice, TIME, f"<time xmlns='{TIME}'/>", target.domain)
        utc = reply.findtext(f"{{{TIME}}}time/{{{TIME}}}utc") or ""
        tzo = reply.findtext(f"{{{TIME}}}time/{{{TIME}}}tzo") or ""
        assert UTC.match(utc.strip()), f"utc {utc!r}"
        assert TZO.match(tzo.strip()), f"tzo {tzo!r}"


@spec("XEP-0012", "5", category="Core Server")
async def test_server_uptime(target: Target, accounts: list[Account]) -> None:
    """Last activity of the server's domain is a result whose 'seconds' is a non-negative integer."""
    async with online(target, accounts[0]) as alice:
        reply = await feature_query(alice, LAST, f"<query xmlns='{LAST}'/>", target.domain)
        found = reply.find(f"{{{LAST}}}query")
        assert found is not None and (found.get("seconds") or "").isdigit(), describe(reply)


@spec("XEP-0012", "4", category="Core IM")
async def test_last_activity_of_stranger_refused(target: Target, accounts: list[Account]) -> None:
    """An entity without a subscription may not learn a user's last activity: the query is refused."""
    alice_account, _, carol_account = need_accounts(accounts, 3)
    async with online(target, alice_account) as alice:
        await require_feature(alice, LAST)
        await forget(alice, carol_account.jid)
    async with online(target, carol_account) as carol:
        await forget(carol, alice_account.jid)
        query = f"<query xmlns='{LAST}'/>"
        reply = await carol.iq(f"<iq type='get' id='{next_id('last')}' to='{alice_account.jid}'>{query}</iq>")
        assert reply.get("type") == "error", describe(reply)

"""XEP-0357 Push Notifications: enabling and disabling an app server where the account advertises it."""

from __future__ import annotations

from tigase_py.compat_tests.case import require_feature, spec
from tigase_py.compat_tests.client import WireClient, next_id
from tigase_py.compat_tests.suites.im import bare, iq_reply, online
from tigase_py.compat_tests.target import Account, Target

PUSH = "urn:xmpp:push:0"
APP_SERVER = "push.example.net"


async def supported(client: WireClient) -> None:
    """XEP-0357 section 4: support is advertised in the disco#info of the account's bare JID."""
    await require_feature(client, PUSH, bare(client.jid))


@spec("XEP-0357", "5", category="Core Mobile")
async def test_enable(target: Target, accounts: list[Account]) -> None:
    """Enabling notifications to an app server and node is answered with a result."""
    async with online(target, accounts[0]) as alice:
        await supported(alice)
        await iq_reply(
            alice, "set", f"<enable xmlns='{PUSH}' jid='{APP_SERVER}' node='{next_id('node')}'/>", None, "result"
        )


@spec("XEP-0357", "6", category="Core Mobile")
async def test_disable(target: Target, accounts: list[Account]) -> None:
    """Disabling an app server that was enabled is answered with a result."""
    async with online(target, accounts[0]) as alice:
        await supported(alice)
        node = next_id("node")
        await alice.iq(
            f"<iq type='set' id='{next_id('push')}'><enable xmlns='{PUSH}' jid='{APP_SERVER}' node='{node}'/></iq>"
        )
        await iq_reply(alice, "set", f"<disable xmlns='{PUSH}' jid='{APP_SERVER}' node='{node}'/>", None, "result")

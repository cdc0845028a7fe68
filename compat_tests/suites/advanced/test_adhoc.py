"""XEP-0050 Ad-Hoc Commands and XEP-0133 Service Administration ("get online users")."""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator

import pytest

from tigase_py.compat_tests.case import describe, need_accounts, not_supported, require_feature, spec
from tigase_py.compat_tests.client import WireClient, logged_in
from tigase_py.compat_tests.ns import DISCO_ITEMS
from tigase_py.compat_tests.suites.advanced.helpers import COMMANDS, DATA, bare, disco_items, set_iq, unique
from tigase_py.compat_tests.target import Account, Target

ADMIN = "http://jabber.org/protocol/admin"
ONLINE_NODES = (f"{ADMIN}#get-online-users-list", f"{ADMIN}#get-online-users")


def command(node: str, action: str = "execute", session: str | None = None, payload: str = "") -> str:
    sid = f" sessionid='{session}'" if session else ""
    return f"<command xmlns='{COMMANDS}' node='{node}' action='{action}'{sid}>{payload}</command>"


def status(reply: ET.Element) -> str | None:
    found = reply.find(f"{{{COMMANDS}}}command")
    return None if found is None else found.get("status")


@contextlib.asynccontextmanager
async def admin_client(target: Target) -> AsyncIterator[WireClient]:
    if target.admin is None:
        pytest.skip("the target names no admin account")
    async with logged_in(target, target.admin, "admin") as admin:
        await require_feature(admin, COMMANDS)
        yield admin


async def online_users_node(client: WireClient) -> str:
    """The XEP-0133 online-users command the server lists to this client, else NotSupported."""
    nodes = {item.get("node") for item in await disco_items(client, client.target.domain, COMMANDS)}
    for node in ONLINE_NODES:
        if node in nodes:
            return node
    raise not_supported("the server lists no XEP-0133 get-online-users command")


async def run_online_users(client: WireClient, node: str) -> ET.Element:
    """Execute the command; when it asks for a form, submit max_items. Return the last reply."""
    reply = await set_iq(client, client.target.domain, command(node))
    answered = reply.find(f"{{{COMMANDS}}}command")
    if reply.get("type") != "result" or answered is None or answered.get("status") != "executing":
        return reply
    fields = f"<field var='FORM_TYPE' type='hidden'><value>{ADMIN}</value></field>"
    fields += "<field var='max_items'><value>100</value></field>"
    form = f"<x xmlns='{DATA}' type='submit'>{fields}</x>"
    return await set_iq(client, client.target.domain, command(node, "complete", answered.get("sessionid"), form))


@spec("XEP-0050", "2.2", category="Advanced Server")
async def test_command_list(target: Target, accounts: list[Account]) -> None:
    """disco#items on the commands node returns the command list; each item names a JID and a node."""
    async with logged_in(target, accounts[0]) as alice:
        await require_feature(alice, COMMANDS)
        reply = await set_iq(alice, target.domain, f"<query xmlns='{DISCO_ITEMS}' node='{COMMANDS}'/>", "get")
        assert reply.get("type") == "result", describe(reply)
        for item in reply.iter(f"{{{DISCO_ITEMS}}}item"):
            assert item.get("jid") and item.get("node"), describe(reply)


@spec("XEP-0050", "4.4", category="Advanced Server")
async def test_unknown_command(target: Target, accounts: list[Account]) -> None:
    """Executing a command node that does not exist is answered with an error, not a result."""
    async with logged_in(target, accounts[0]) as alice:
        await require_feature(alice, COMMANDS)
        reply = await set_iq(alice, target.domain, command(unique("urn:compat:no-such-command")))
        assert reply.get("type") == "error", describe(reply)


@spec("XEP-0133", "4.21", category="Advanced Server")
async def test_admin_gets_online_users(target: Target, accounts: list[Account]) -> None:
    """An admin runs "get online users": it completes and lists a user who is online."""
    async with admin_client(target) as admin, logged_in(target, accounts[0]) as alice:
        node = await online_users_node(admin)
        reply = await run_online_users(admin, node)
        assert reply.get("type") == "result" and status(reply) == "completed", describe(reply)
        assert bare(alice.jid) in ET.tostring(reply, encoding="unicode"), describe(reply)


@spec("XEP-0133", "4.21", category="Advanced Server")
async def test_non_admin_refused(target: Target, accounts: list[Account]) -> None:
    """A user who is not an administrator cannot get the list of online users."""
    alice_account = need_accounts(accounts, 1)[0]
    async with admin_client(target) as admin, logged_in(target, alice_account) as alice:
        node = await online_users_node(admin)
        reply = await run_online_users(alice, node)
        assert reply.get("type") == "error", describe(reply)


@spec("XEP-0050", "2.4", category="Advanced Server")
async def test_cancel_command(target: Target) -> None:
    """Cancelling a multi-stage command session answers with status 'canceled'."""
    async with admin_client(target) as admin:
        node = await online_users_node(admin)
        reply = await set_iq(admin, target.domain, command(node))
        answered = reply.find(f"{{{COMMANDS}}}command")
        if answered is None or answered.get("status") != "executing":
            raise not_supported(f"{node} completes in one stage; nothing to cancel")
        reply = await set_iq(admin, target.domain, command(node, "cancel", answered.get("sessionid")))
        assert reply.get("type") == "result" and status(reply) == "canceled", describe(reply)

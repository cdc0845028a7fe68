"""XEP-0050 ad-hoc commands and XEP-0133 service administration, driven by slixmpp."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from slixmpp.exceptions import IqError

from tests.xmpp_harness import TIMEOUT, Client, RunningServer, login, running_server

ADMIN = "http://jabber.org/protocol/admin#"
COMMANDS = "http://jabber.org/protocol/commands"
PLUGINS = ("xep_0004", "xep_0050", "xep_0133")
ADMINS = ("admin@localhost",)


async def start(handle: RunningServer, client: Client, node: str) -> Any:
    return await client.plugin["xep_0050"].send_command("localhost", node, timeout=TIMEOUT)


async def run(client: Client, node: str, values: dict[str, Any] | None = None) -> Any:
    """Execute ``node``; when it answers with a form, submit ``values`` and return the final reply."""
    first = await client.plugin["xep_0050"].send_command("localhost", node, timeout=TIMEOUT)
    if first["command"]["status"] == "completed":
        return first
    assert first["command"]["status"] == "executing"
    asked = first["command"]["form"]
    form = client.plugin["xep_0004"].make_form(ftype="submit")
    types = {var: field["type"] for var, field in asked.get_fields().items()}
    for var, value in (values or {}).items():
        form.add_field(var=var, ftype=types.get(var, "text-single"), value=value)
    return await client.plugin["xep_0050"].send_command(
        "localhost",
        node,
        action="complete",
        payload=form,
        sessionid=first["command"]["sessionid"],
        timeout=TIMEOUT,
    )


def result_values(reply: Any) -> dict[str, Any]:
    assert reply["command"]["status"] == "completed"
    return dict(reply["command"]["form"].get_values())


async def setup(handle: RunningServer) -> Client:
    await handle.add_user("admin@localhost")
    return await login(handle, "admin@localhost", plugins=PLUGINS)


async def test_admin_lists_commands_and_non_admin_sees_none(tmp_path: Path) -> None:
    async with running_server(tmp_path, admins=ADMINS) as handle:
        admin = await setup(handle)
        items = await admin.plugin["xep_0030"].get_items(jid="localhost", node=COMMANDS, timeout=TIMEOUT)
        nodes = {item[1] for item in items["disco_items"]["items"]}
        for slug in ("add-user", "delete-user", "change-user-password", "end-user-session", "announce"):
            assert ADMIN + slug in nodes
        assert "stats" in nodes
        info = await admin.plugin["xep_0030"].get_info(jid="localhost", node=ADMIN + "add-user", timeout=TIMEOUT)
        assert COMMANDS in info["disco_info"]["features"]
        assert ("automation", "command-node", None, "Add a User") in info["disco_info"]["identities"]
        server_info = await admin.plugin["xep_0030"].get_info(jid="localhost", timeout=TIMEOUT)
        assert COMMANDS in server_info["disco_info"]["features"]

        await handle.add_user("joe@localhost")
        joe = await login(handle, "joe@localhost", plugins=PLUGINS)
        items = await joe.plugin["xep_0030"].get_items(jid="localhost", node=COMMANDS, timeout=TIMEOUT)
        assert not any(item[1].startswith(ADMIN) for item in items["disco_items"]["items"])
        with pytest.raises(IqError) as refused:
            await start(handle, joe, ADMIN + "get-online-users-num")
        assert refused.value.condition == "forbidden"
        with pytest.raises(IqError) as unknown:
            await start(handle, admin, "no-such-command")
        assert unknown.value.condition == "item-not-found"


async def test_add_change_password_and_delete_user(tmp_path: Path) -> None:
    async with running_server(tmp_path, admins=ADMINS) as handle:
        admin = await setup(handle)
        reply = await run(
            admin,
            ADMIN + "add-user",
            {"accountjid": "new@localhost", "password": "pw1", "password-verify": "pw1"},
        )
        assert reply["command"]["status"] == "completed"
        assert "new@localhost" in reply["command"]["notes"][0][1]
        newcomer = await login(handle, "new@localhost", "pw1")
        newcomer.disconnect()

        with pytest.raises(IqError) as clash:
            await run(admin, ADMIN + "add-user", {"accountjid": "new@localhost", "password": "x"})
        assert clash.value.condition == "conflict"

        await run(admin, ADMIN + "change-user-password", {"accountjid": "new@localhost", "password": "pw2"})
        assert await handle.server.storage.users.verify_password("new", "localhost", "pw2")
        await login(handle, "new@localhost", "pw2")

        reply = await run(admin, ADMIN + "delete-user", {"accountjids": ["new@localhost"]})
        assert reply["command"]["status"] == "completed"
        assert not await handle.server.storage.users.exists("new", "localhost")


async def test_end_user_session_disconnects_the_client(tmp_path: Path) -> None:
    async with running_server(tmp_path, admins=ADMINS) as handle:
        admin = await setup(handle)
        await handle.add_user("victim@localhost")
        victim = await login(handle, "victim@localhost")
        gone: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        victim.add_event_handler("disconnected", lambda *_: gone.done() or gone.set_result(True))
        reply = await run(admin, ADMIN + "end-user-session", {"accountjids": ["victim@localhost"]})
        assert reply["command"]["status"] == "completed"
        assert await asyncio.wait_for(gone, TIMEOUT)


async def test_numbers_lists_and_statistics(tmp_path: Path) -> None:
    async with running_server(tmp_path, admins=ADMINS) as handle:
        admin = await setup(handle)
        await handle.add_user("one@localhost")
        await handle.add_user("two@localhost")
        one = await login(handle, "one@localhost")
        one.send_message(mto="admin@localhost", mbody="hello")
        await admin.next_message()

        registered = result_values(await run(admin, ADMIN + "get-registered-users-num"))
        assert registered["registeredusersnum"] == "3"
        online = result_values(await run(admin, ADMIN + "get-online-users-num"))
        assert online["onlineusersnum"] == "2"
        users = result_values(await run(admin, ADMIN + "get-registered-users-list", {"max_items": "all"}))
        assert sorted(users["registereduserjids"]) == ["admin@localhost", "one@localhost", "two@localhost"]
        shown = result_values(await run(admin, ADMIN + "get-online-users-list", {"max_items": "25"}))
        assert sorted(shown["onlineuserjids"]) == ["admin@localhost", "one@localhost"]

        stats = await run(admin, "stats")
        form = stats["command"]["form"]
        names = {item["name"] for item in form.get_items()}
        assert "c2s/Stanzas received[kind=message]" in names
        filtered = await run(admin, "stats", {"filter": "bytes"})
        assert all("bytes" in item["name"].lower() for item in filtered["command"]["form"].get_items())


async def test_announce_reaches_online_users(tmp_path: Path) -> None:
    async with running_server(tmp_path, admins=ADMINS) as handle:
        admin = await setup(handle)
        await handle.add_user("reader@localhost")
        reader = await login(handle, "reader@localhost")
        reply = await run(admin, ADMIN + "announce", {"subject": "Maintenance", "announcement": "Down at noon"})
        assert reply["command"]["status"] == "completed"
        message = await reader.next_message()
        assert message["type"] == "headline"
        assert message["subject"] == "Maintenance"
        assert message["body"] == "Down at noon"
        assert str(message["from"]) == "localhost"


async def test_cancel_and_bad_session(tmp_path: Path) -> None:
    async with running_server(tmp_path, admins=ADMINS) as handle:
        admin = await setup(handle)
        first = await start(handle, admin, ADMIN + "add-user")
        assert first["command"]["status"] == "executing"
        sessionid = first["command"]["sessionid"]
        assert "accountjid" in first["command"]["form"].get_fields()
        canceled = await admin.plugin["xep_0050"].send_command(
            "localhost", ADMIN + "add-user", action="cancel", sessionid=sessionid, timeout=TIMEOUT
        )
        assert canceled["command"]["status"] == "canceled"
        with pytest.raises(IqError) as stale:
            await admin.plugin["xep_0050"].send_command(
                "localhost", ADMIN + "add-user", action="complete", sessionid=sessionid, timeout=TIMEOUT
            )
        assert stale.value.condition == "bad-request"
        assert stale.value.iq.xml.find(f"{{jabber:client}}error/{{{COMMANDS}}}bad-sessionid") is not None


async def test_refusals_keep_the_session_open(tmp_path: Path) -> None:
    async with running_server(tmp_path, admins=ADMINS) as handle:
        admin = await setup(handle)
        with pytest.raises(IqError) as mismatch:
            await run(admin, ADMIN + "add-user", {"accountjid": "x@localhost", "password": "a", "password-verify": "b"})
        assert mismatch.value.condition == "not-acceptable"
        with pytest.raises(IqError) as foreign:
            await run(admin, ADMIN + "add-user", {"accountjid": "x@elsewhere.example", "password": "a"})
        assert foreign.value.condition == "item-not-found"
        with pytest.raises(IqError) as missing:
            await run(admin, ADMIN + "change-user-password", {"password": "a"})
        assert missing.value.condition == "bad-request"
        first = await start(handle, admin, ADMIN + "delete-user")
        with pytest.raises(IqError) as no_form:
            await admin.plugin["xep_0050"].send_command(
                "localhost",
                ADMIN + "delete-user",
                action="complete",
                sessionid=first["command"]["sessionid"],
                timeout=TIMEOUT,
            )
        assert no_form.value.condition == "bad-request"
        with pytest.raises(IqError) as stray:
            await admin.plugin["xep_0050"].send_command(
                "localhost", ADMIN + "delete-user", action="cancel", timeout=TIMEOUT
            )
        assert stray.value.condition == "bad-request"
        canceled = await admin.plugin["xep_0050"].send_command(
            "localhost",
            ADMIN + "delete-user",
            action="cancel",
            sessionid=first["command"]["sessionid"],
            timeout=TIMEOUT,
        )
        assert canceled["command"]["status"] == "canceled"


async def test_vhosts_sessions_and_messages(tmp_path: Path) -> None:
    async with running_server(tmp_path, admins=ADMINS) as handle:
        admin = await setup(handle)
        await handle.add_user("bob@localhost")
        bob = await login(handle, "bob@localhost")

        await run(admin, "add-vhost", {"domain": "extra.example"})
        assert "extra.example" in handle.server.vhosts
        assert "extra.example" in await handle.server.storage.vhosts.list()
        await run(admin, "remove-vhost", {"domain": "extra.example"})
        assert "extra.example" not in handle.server.vhosts
        with pytest.raises(IqError) as configured:
            await run(admin, "remove-vhost", {"domain": "localhost"})
        assert configured.value.condition == "not-allowed"

        sessions = await run(admin, "list-sessions")
        jids = {item["jid"] for item in sessions["command"]["form"].get_items()}
        assert {str(bob.boundjid), str(admin.boundjid)} <= jids

        await run(admin, "send-message", {"to": "bob@localhost", "body": "from the server", "type": "chat"})
        message = await bob.next_message()
        assert (str(message["from"]), message["type"], message["body"]) == ("localhost", "chat", "from the server")


async def test_sessions_belong_to_one_resource_and_expire(tmp_path: Path) -> None:
    async with running_server(tmp_path, admins=ADMINS) as handle:
        admin = await setup(handle)
        other = await login(handle, "admin@localhost/other", plugins=PLUGINS)
        first = await start(handle, admin, ADMIN + "add-user")
        sessionid = first["command"]["sessionid"]
        with pytest.raises(IqError) as stolen:
            await other.plugin["xep_0050"].send_command(
                "localhost", ADMIN + "add-user", action="cancel", sessionid=sessionid, timeout=TIMEOUT
            )
        assert stolen.value.condition == "bad-request"

        (adhoc,) = [c for c in handle.server.registry.loaded["localhost"] if c.module.name == "adhoc"]
        adhoc.state["sessions"].lifetime = 0.0
        await asyncio.sleep(0.01)
        with pytest.raises(IqError) as expired:
            await admin.plugin["xep_0050"].send_command(
                "localhost", ADMIN + "add-user", action="cancel", sessionid=sessionid, timeout=TIMEOUT
            )
        assert expired.value.iq.xml.find(f"{{jabber:client}}error/{{{COMMANDS}}}bad-sessionid") is not None


async def install_script(handle: RunningServer, name: str, source: str) -> None:
    """Write ``<name>.py`` into the scripts folder and wait until its command ``name`` is registered."""
    scripts = handle.server.config.http.scripts_dir
    assert scripts is not None
    scripts.mkdir(parents=True, exist_ok=True)
    (scripts / f"{name}.py").write_text(source)
    deadline = asyncio.get_running_loop().time() + 10
    while handle.server.commands.get(name) is None:
        assert asyncio.get_running_loop().time() < deadline, "the script was not loaded"
        await asyncio.sleep(0.1)


async def test_a_runtime_script_is_an_ad_hoc_command_too(tmp_path: Path) -> None:
    script = (
        "from tigase_py.server.core.commands import Command, CommandResult, Param\n\n\n"
        "async def run(ctx, args):\n"
        "    return CommandResult(note='hello ' + args.get('who', 'nobody'))\n\n\n"
        "command = Command(name='greet', title='Greet', description='Say hello', run=run,\n"
        "                  params=(Param('who', 'text-single', 'Whom'),))\n"
    )
    async with running_server(tmp_path, admins=ADMINS) as handle:
        admin = await setup(handle)
        await install_script(handle, "greet", script)
        reply = await run(admin, "greet", {"who": "xmpp"})
        assert reply["command"]["status"] == "completed"
        assert "hello xmpp" in str(reply["command"]["notes"])
